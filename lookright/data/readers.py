"""File readers: CoNLL columns, CoNLL-U, JSONL and annotation tools' files -> `Sentence`s, streamed.

Every problem in the input is a `DataError` naming the file and the 1-based line, so a user with
a 1 GB file can go straight to the line instead of bisecting it. The `iter_*` generators stream;
the `read_*` functions collect them.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

from ..errors import DataError
from .annotation import TOOL_FORMATS, detect_format, iter_tool
from .hub import is_hub_spec, iter_hub
from .lines import BLOCK, count_lines, raw_lines, text_lines  # noqa: F401  (re-exported: readers.text_lines etc.)
from .schemes import normalize_scheme, validate_tag
from .sentence import Sentence
from .words import split_words

PathLike = str | os.PathLike
FORMATS = ("auto", "conll", "conllu", "jsonl", *TOOL_FORMATS)
CONLLU_COLUMNS = {"upos": 3, "xpos": 4}
_CONLL_BLANK = " \t\r\n\f\v"
_CONLLU_ID = re.compile(r"\d+|\d+-\d+|\d+\.\d+")
_SPACES = re.compile(r"[ \t]+")
_WHITESPACE = re.compile(r"\s")  # exactly the characters str.isspace() accepts


def _conll_fields(line: str) -> list[str]:
    """Columns of a CoNLL line: TAB-separated (fields stripped) when it has a TAB, else on spaces."""
    if "\t" in line:
        return [field.strip(_CONLL_BLANK) for field in line.split("\t")]  # a word's own NBSP etc. stay: refused
    return _SPACES.split(line.strip(_CONLL_BLANK))


def _spaced(word: str) -> str | None:
    """The first whitespace character inside `word` (a space, TAB, NBSP...), as the message names it."""
    found = _WHITESPACE.search(word)
    return repr(found.group()) if found else None


def _require_word(word: str, path: PathLike, line: int, what: str, *what_args: object) -> None:
    """Words are whitespace-free (tokenisation and character offsets rely on it): refused at their line.

    `what` is a format string for `what_args`, built only for the message: the check runs for every
    word of a file, the message almost never.
    """
    if _WHITESPACE.search(word):
        raise DataError(f"{what.format(*what_args)} {word!r} contains whitespace ({_spaced(word)}); words are "
                        "whitespace-free: remove it or split the token into words, each with its own tag", path, line)


def _column(index: int, count: int, what: str, path: PathLike, line: int) -> int:
    resolved = index + count if index < 0 else index
    if not 0 <= resolved < count:
        raise DataError(f"{what} column {index} is out of range: the line has {count} columns", path, line)
    return resolved


def iter_conll(
    path: PathLike,
    label_column: int | None = -1,
    token_column: int = 0,
    scheme: str | None = None,
    encoding: str = "utf-8",
) -> Iterator[Sentence]:
    """Sentences of a column file (CoNLL-2000/2003 style); `label_column=None` reads tokens only.

    Blank lines separate sentences; `-DOCSTART-` lines start a new document (`doc_id`). Every token
    line must have as many columns as the first one. With `scheme`, labels must fit it.
    """
    scheme = normalize_scheme(scheme) if scheme else None
    width = token_at = label_at = None
    tokens: list[str] = []
    tags: list[str] = []
    first = doc_id = count = doc_start = 0
    for number, line in text_lines(path, encoding):
        fields = _conll_fields(line) if line.strip(_CONLL_BLANK) else None
        if fields is None or fields[0] == "-DOCSTART-":
            if tokens:
                yield Sentence(tokens, tags if label_at is not None else None, str(path), first, doc_id)
                count += 1
                tokens, tags = [], []
            if fields is not None and count > doc_start:  # a DOCSTART after sentences: next document
                doc_id, doc_start = doc_id + 1, count
            continue
        if width is None:
            width = len(fields)
            token_at = _column(token_column, width, "token", path, number)
            if label_column is not None:
                label_at = _column(label_column, width, "label", path, number)
                if label_at == token_at:
                    raise DataError(
                        f"label column {label_column} is the token column (the file has {width} columns); "
                        "use label_column=None for unlabeled files",
                        path,
                        number,
                    )
        elif len(fields) != width:
            raise DataError(f"expected {width} columns (as on the first token line), found {len(fields)}", path, number)
        if not fields[token_at]:
            raise DataError(f"empty token (column {token_at})", path, number)
        _require_word(fields[token_at], path, number, "token (column {})", token_at)
        if not tokens:
            first = number
        tokens.append(fields[token_at])
        if label_at is not None:
            tag = fields[label_at]
            if not tag:
                raise DataError(f"empty label (column {label_at})", path, number)
            if scheme is not None:
                try:
                    validate_tag(tag, scheme)
                except ValueError as error:
                    raise DataError(str(error), path, number) from None
            tags.append(tag)
    if tokens:
        yield Sentence(tokens, tags if label_at is not None else None, str(path), first, doc_id)
        count += 1
    if count == 0:
        raise DataError("no sentences found (the file is empty or has only blank lines)", path)


def iter_conllu(path: PathLike, column: str | None = "upos") -> Iterator[Sentence]:
    """Sentences of a CoNLL-U file labelled with its `upos` or `xpos` column (None: unlabeled).

    Multiword-token ranges (`1-2`) and empty nodes (`1.1`) are skipped: their words appear as
    ordinary lines. `# text = ...` becomes `Sentence.text`.
    """
    if column is not None and column not in CONLLU_COLUMNS:
        raise ValueError(f"CoNLL-U label column must be one of {', '.join(CONLLU_COLUMNS)}, got {column!r}")
    label_at = CONLLU_COLUMNS[column] if column is not None else None
    tokens: list[str] = []
    tags: list[str] = []
    text: str | None = None
    first = count = 0
    for number, line in text_lines(path):
        if not line.strip():
            if tokens:
                yield Sentence(tokens, tags if label_at is not None else None, str(path), first, text=text)
                count += 1
            tokens, tags, text = [], [], None
            continue
        if line.startswith("#"):
            key, equals, value = line[1:].partition("=")
            if equals and key.strip() == "text":
                text = value.strip()
            continue
        fields = line.split("\t")
        if len(fields) != 10:
            raise DataError(f"expected 10 TAB-separated columns, found {len(fields)}", path, number)
        if not _CONLLU_ID.fullmatch(fields[0]):
            raise DataError(f"bad word ID {fields[0]!r}", path, number)
        if not fields[0].isdigit():
            continue
        if not fields[1]:
            raise DataError("empty word form", path, number)
        _require_word(fields[1], path, number, "word form")
        if not tokens:
            first = number
        tokens.append(fields[1])
        if label_at is not None:
            if fields[label_at] in ("", "_"):
                raise DataError(f"no {column.upper()} label (the column is {fields[label_at]!r})", path, number)
            tags.append(fields[label_at])
    if tokens:
        yield Sentence(tokens, tags if label_at is not None else None, str(path), first, text=text)
        count += 1
    if count == 0:
        raise DataError("no sentences found (the file is empty or has only comments)", path)


def _string_list(value: object, key: str, path: PathLike, line: int) -> list[str]:
    if not isinstance(value, list) or not value:
        raise DataError(f"{key!r} must be a non-empty list", path, line)
    for k, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            raise DataError(f"{key}[{k}] = {item!r} is not a non-empty string", path, line)
    return value


def _from_tokens(obj: dict, path: PathLike, line: int) -> Sentence:
    if "spans" in obj:
        raise DataError("give either 'tokens' (with 'tags') or 'text' (with 'spans'), not both", path, line)
    tokens = _string_list(obj["tokens"], "tokens", path, line)
    for k, token in enumerate(tokens):
        _require_word(token, path, line, "tokens[{}]", k)
    tags = obj.get("tags")
    if tags is not None:
        tags = _string_list(tags, "tags", path, line)
        if len(tags) != len(tokens):
            raise DataError(f"{len(tokens)} tokens but {len(tags)} tags", path, line)
    return Sentence(tokens, tags, str(path), line, fields=_other_fields(obj))


def _from_text(obj: dict, path: PathLike, line: int) -> Sentence:
    text = obj["text"]
    if not isinstance(text, str):
        raise DataError("'text' must be a string", path, line)
    raw_spans = obj.get("spans")
    if raw_spans is not None and not isinstance(raw_spans, list):
        raise DataError("'spans' must be a list", path, line)
    spans = []
    for k, span in enumerate(raw_spans or []):
        if not isinstance(span, dict) or not {"start", "end", "label"} <= span.keys():
            raise DataError(f"spans[{k}] must be an object with 'start', 'end' and 'label'", path, line)
        start, end, label = span["start"], span["end"], span["label"]
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (start, end)):
            raise DataError(f"spans[{k}]: start and end must be integers", path, line)
        if not isinstance(label, str) or not label:
            raise DataError(f"spans[{k}]: label must be a non-empty string", path, line)
        if not 0 <= start < end <= len(text):
            problem = f"spans[{k}] [{start}, {end}) is empty or outside the text (length {len(text)})"
            raise DataError(problem, path, line)
        spans.append((start, end, label, k))
    spans.sort()
    for (s1, e1, _, k1), (s2, e2, _, k2) in pairwise(spans):
        if s2 < e1:
            raise DataError(f"spans[{k1}] [{s1}, {e1}) and spans[{k2}] [{s2}, {e2}) overlap", path, line)
    offsets = split_words(text, [edge for s, e, _, _ in spans for edge in (s, e)])
    if not offsets:
        raise DataError("'text' has no words", path, line)
    tags = ["O"] * len(offsets)
    w = 0
    for start, end, label, k in spans:
        while w < len(offsets) and offsets[w][0] < start:
            w += 1
        first = w
        while w < len(offsets) and offsets[w][1] <= end:
            tags[w] = ("I-" if w > first else "B-") + label
            w += 1
        if w == first:
            raise DataError(f"spans[{k}] {text[start:end]!r} covers no word (only whitespace)", path, line)
    tokens = [text[s:e] for s, e in offsets]
    return Sentence(tokens, tags if raw_spans is not None else None, str(path), line, text=text, offsets=offsets,
                    fields=_other_fields(obj))


_JSONL_KEYS = frozenset({"tokens", "tags", "text", "spans"})


def _other_fields(obj: dict) -> dict | None:
    """A record's fields lookright does not read (an `id`...): predict writes them back beside its results."""
    return {k: v for k, v in obj.items() if k not in _JSONL_KEYS} or None


def iter_jsonl(path: PathLike) -> Iterator[Sentence]:
    """Sentences of a JSON-lines file, one object per line (blank lines skipped).

    Either `{"tokens": [...], "tags": [...]}` (tags optional) or `{"text": ..., "spans": [{"start",
    "end", "label"}]}` with character offsets (spans optional); text is split with `split_words`,
    never across a span edge, and spans become IOB2 tags.
    """
    count = 0
    for number, line in text_lines(path):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as error:
            raise DataError(f"invalid JSON: {error.msg} (column {error.colno})", path, number) from None
        if not isinstance(obj, dict):
            raise DataError(f"expected a JSON object, found {type(obj).__name__}", path, number)
        if "tokens" in obj:
            yield _from_tokens(obj, path, number)
        elif "text" in obj:
            yield _from_text(obj, path, number)
        else:
            raise DataError("the object has neither 'tokens' nor 'text'", path, number)
        count += 1
    if count == 0:
        raise DataError("no sentences found (the file is empty or has only blank lines)", path)


def _format(path: PathLike, fmt: str) -> str:
    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise ValueError(f"unknown data format {fmt!r}; valid: {', '.join(FORMATS)}")
    if fmt != "auto":
        return fmt
    suffix = Path(path).suffix.lower()
    if suffix in (".json", ".jsonl", ".spacy"):
        return detect_format(path)
    return {".conllu": "conllu"}.get(suffix, "conll")


def iter_data(
    path: PathLike,
    fmt: str = "auto",
    label_column: int | str | None = -1,
    conllu_column: str = "upos",
    *,
    snap_spans: bool = False,
) -> Iterator[Sentence]:
    """Sentences of any supported file; `fmt="auto"` picks the reader from the extension.

    `.json`/`.jsonl` files are told apart by their first record (Label Studio, doccano, Prodigy or
    lookright's JSONL, see `annotation.detect`), `.spacy` is a spaCy DocBin. `label_column`: CoNLL
    column number, or for CoNLL-U a column name (`upos`/`xpos`; a number there means
    `conllu_column`); None reads CoNLL, CoNLL-U and annotation-tool files unlabeled (texts only).
    JSONL files carry their own labels. `snap_spans`: annotation-tool spans whose edges cut a word
    are extended to whole words (and counted in a `DataWarning`) instead of failing.
    """
    if is_hub_spec(path):
        return iter_hub(str(path), label_column)
    kind = _format(path, fmt)
    if kind in TOOL_FORMATS:
        return iter_tool(path, kind, labelled=label_column is not None, snap_spans=snap_spans)
    if kind == "jsonl":
        return iter_jsonl(path)
    if kind == "conllu":
        column = label_column if isinstance(label_column, str) else conllu_column
        return iter_conllu(path, None if label_column is None else column)
    if isinstance(label_column, str):
        if not re.fullmatch(r"-?\d+", label_column.strip()):
            raise ValueError(f"a CoNLL label column is a column number, got {label_column!r}")
        label_column = int(label_column)
    return iter_conll(path, label_column)


def read_conll(
    path: PathLike,
    label_column: int | None = -1,
    token_column: int = 0,
    scheme: str | None = None,
    encoding: str = "utf-8",
) -> list[Sentence]:
    """All sentences of a CoNLL column file (see `iter_conll`)."""
    return list(iter_conll(path, label_column, token_column, scheme, encoding))


def read_conllu(path: PathLike, column: str | None = "upos") -> list[Sentence]:
    """All sentences of a CoNLL-U file (see `iter_conllu`)."""
    return list(iter_conllu(path, column))


def read_jsonl(path: PathLike) -> list[Sentence]:
    """All sentences of a JSONL file (see `iter_jsonl`)."""
    return list(iter_jsonl(path))


def read_data(
    path: PathLike,
    fmt: str = "auto",
    label_column: int | str | None = -1,
    conllu_column: str = "upos",
    *,
    snap_spans: bool = False,
) -> list[Sentence]:
    """All sentences of any supported file (see `iter_data`)."""
    return list(iter_data(path, fmt, label_column, conllu_column, snap_spans=snap_spans))
