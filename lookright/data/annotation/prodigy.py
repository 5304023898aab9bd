"""Prodigy (and spaCy-style) JSONL: `{"text", "spans": [{"start", "end", "label"}], "tokens": [...]}`.

When `tokens` (`[{"text", "start", "end", "id"}]`) is given, those tokens are the words and a span
edge inside one is misaligned; whitespace-only tokens (`"\\n"`) are separators, not words. A span's
`token_start`/`token_end`, when given, must be the tokens its offsets start and end in. Records
answered `reject` or `ignore` are skipped, as Prodigy's own training does, and counted in a
warning; a record without `spans` is unlabeled.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from ...errors import DataError
from ..sentence import Sentence
from .records import iter_json_lines
from .spans import RawSpan, SpanChecker

SKIPPED_ANSWERS = ("reject", "ignore")


def is_record(record: object) -> bool:
    """A Prodigy record: token objects, token indices on spans, or Prodigy's hashes and answers."""
    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        return False
    tokens, spans = record.get("tokens"), record.get("spans")
    if isinstance(tokens, list) and tokens and all(isinstance(t, dict) for t in tokens):
        return True
    if isinstance(spans, list) and any(isinstance(s, dict) and "token_start" in s for s in spans):
        return True
    return "spans" in record and any(key in record for key in ("_input_hash", "_task_hash", "answer"))


def _words(text: str, tokens: object, fail) -> tuple[list[tuple[int, int]], dict[object, tuple[int, int]]]:
    """Word offsets of the record's tokens (whitespace tokens dropped) and every token's offsets by id."""
    if not isinstance(tokens, list):
        raise fail("'tokens' must be a list of {text, start, end, id} objects")
    words, by_id, previous_end = [], {}, 0
    for k, token in enumerate(tokens):
        if not isinstance(token, dict) or not {"start", "end"} <= token.keys():
            raise fail(f"tokens[{k}] must be an object with start and end")
        start, end = token["start"], token["end"]
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (start, end)) or not (
            previous_end <= start < end <= len(text)
        ):
            raise fail(f"tokens[{k}] [{start!r}, {end!r}) is not inside the text after the previous token")
        if "text" in token and token["text"] != text[start:end]:
            raise fail(f"tokens[{k}] [{start}, {end}): its text {token['text']!r} is not the text's {text[start:end]!r}")
        by_id[token.get("id", k)] = (start, end)
        if text[start:end].strip():
            words.append((start, end))
        previous_end = end
    return words, by_id


def _spans(record: dict, by_id: dict | None, fail) -> list[RawSpan] | None:
    spans = record.get("spans")
    if spans is None:
        return None
    if not isinstance(spans, list):
        raise fail("'spans' must be a list")
    out = []
    for k, span in enumerate(spans):
        if not isinstance(span, dict) or not {"start", "end", "label"} <= span.keys():
            raise fail(f"spans[{k}] must be an object with start, end and label")
        if by_id is not None:
            for key, edge, side in (("token_start", span["start"], 0), ("token_end", span["end"], 1)):
                if key in span:
                    token = by_id.get(span[key])
                    if token is None or token[side] != edge:
                        raise fail(f"spans[{k}] [{span['start']}, {span['end']}) ({span['label']}): {key} "
                                   f"{span[key]!r} is token {token}, which does not {'start' if side == 0 else 'end'} "
                                   f"at {edge}")
        out.append(RawSpan(k, span["start"], span["end"], span["label"], span.get("text")))
    return out


_READ = frozenset({"text", "tokens", "spans"})


def iter_prodigy(path: str | os.PathLike, *, labelled: bool = True, snap_spans: bool = False) -> Iterator[Sentence]:
    """Sentences of a Prodigy/spaCy-style JSONL file, one per accepted record (see the module docstring)."""
    checker = SpanChecker(path, snap_spans)
    count = 0
    for index, line, record in iter_json_lines(path):
        if not isinstance(record, dict):
            raise DataError(f"expected a JSON object, found {type(record).__name__}", path, line)
        name = f"record {index}"

        def fail(problem: str, line=line, name=name) -> DataError:
            return checker.fail(problem, line, name)

        if record.get("answer") in SKIPPED_ANSWERS:
            checker.note(f"record(s) answered {record['answer']!r} skipped")
            continue
        text = record.get("text")
        if not isinstance(text, str):
            raise fail("the record has no 'text' string")
        words = by_id = None
        if "tokens" in record:
            words, by_id = _words(text, record["tokens"], fail)
        spans = _spans(record, by_id, fail) if labelled else None
        fields = {k: v for k, v in record.items() if k not in _READ}  # meta, _input_hash...: written back by predict
        yield checker.sentence(text, spans, line=line, record=name, words=words, fields=fields)
        count += 1
    if count == 0:
        raise DataError("no records to read (the file is empty, or every record was rejected or ignored)", path)
    checker.finish()
