"""doccano: its sequence-labelling JSONL export in, pre-annotations out.

A record is `{"text": ..., "label": [[start, end, type], ...]}` (older exports: `labels`; with
relations enabled: `"entities": [{"start_offset", "end_offset", "label"}]`). A record without any
of these keys is unlabeled; an empty list is a text with no spans. Other keys (`id`, `Comments`,
metadata) are not read; `predict` writes them back beside its pre-annotations. Offsets are code
points (doccano counts them in Python).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import IO

from ...errors import DataError
from ..sentence import Sentence
from .records import iter_json_lines
from .spans import AnnotatedText, RawSpan, SpanChecker

SPAN_KEYS = ("label", "labels", "entities")


def is_record(record: object) -> bool:
    """A doccano sequence-labelling record (what `auto` looks for in a JSONL file)."""
    return isinstance(record, dict) and isinstance(record.get("text"), str) and any(k in record for k in SPAN_KEYS)


def _spans(record: dict, fail) -> list[RawSpan] | None:
    keys = [key for key in SPAN_KEYS if key in record]
    if not keys:
        return None
    if len(keys) > 1:
        raise fail(f"give one of {', '.join(SPAN_KEYS)}, not {' and '.join(keys)}")
    key, items = keys[0], record[keys[0]]
    if not isinstance(items, list):
        raise fail(f"'{key}' must be a list of spans")
    spans = []
    for k, item in enumerate(items):
        if key == "entities":
            if not isinstance(item, dict) or not {"start_offset", "end_offset", "label"} <= item.keys():
                raise fail(f"entities[{k}] must be an object with start_offset, end_offset and label")
            spans.append(RawSpan(k, item["start_offset"], item["end_offset"], item["label"]))
        else:
            if not isinstance(item, list) or len(item) != 3:
                raise fail(f"{key}[{k}] = {item!r} is not [start, end, type] (a text-classification label?)")
            spans.append(RawSpan(k, *item))
    return spans


_READ = frozenset({"text", "label", "labels", "entities"})  # the rest goes back out with predictions


def iter_doccano(path: str | os.PathLike, *, labelled: bool = True, snap_spans: bool = False) -> Iterator[Sentence]:
    """Sentences of a doccano JSONL export, one per record (see the module docstring)."""
    checker = SpanChecker(path, snap_spans)
    count = 0
    for index, line, record in iter_json_lines(path):
        name = f"record {index}" + (f" (id {record['id']})" if isinstance(record, dict) and "id" in record else "")
        if not isinstance(record, dict):
            raise DataError(f"expected a JSON object, found {type(record).__name__}", path, line)
        if "text" not in record:
            raise checker.fail("the record has no 'text'", line, name)

        def fail(problem: str, line=line, name=name) -> DataError:
            return checker.fail(problem, line, name)

        spans = _spans(record, fail) if labelled else None
        fields = {k: v for k, v in record.items() if k not in _READ}
        yield checker.sentence(record["text"], spans, line=line, record=name, fields=fields)
        count += 1
    if count == 0:
        raise DataError("no records found (the file is empty or has only blank lines)", path)
    checker.finish()


class DoccanoWriter:
    """One `{"text", "label": [[start, end, type]]}` line per text (plus `meta` fields, e.g. uncertainty)."""

    def __init__(self, handle: IO[str]) -> None:
        self.handle = handle

    def write(self, item: AnnotatedText) -> None:
        labels = [[s.start, s.end, s.label] for s in item.spans or []]
        self.handle.write(json.dumps({"text": item.text, "label": labels, **item.meta}, ensure_ascii=False) + "\n")

    def close(self) -> None:
        pass
