"""The records of an annotation tool's export, each with the line it starts on.

A JSON array (Label Studio) is parsed element by element with `raw_decode`, so every task keeps
the line it starts on for error messages; JSON lines (doccano, Prodigy) are read line by line.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

from ...errors import DataError
from ..lines import text_lines

_WHITESPACE = " \t\n\r"
_SNIFF_CHARS = 1 << 16


def read_text(path: str | os.PathLike) -> str:
    """The whole file as text (UTF-8, BOM dropped); unreadable, binary or undecodable -> DataError."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as error:
        raise DataError(f"cannot read file: {error.strerror}", path) from None
    if b"\x00" in data:
        raise DataError("NUL byte: this looks like a binary file, not JSON", path, data[: data.index(b"\x00")].count(b"\n") + 1)
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as error:
        raise DataError(f"not valid utf-8 (byte {error.start + 1} of the file)", path,
                        data[: error.start].count(b"\n") + 1) from None


class _Lines:
    """Line numbers of positions in a text, counted forward incrementally (`\\n`, `\\r\\n`, `\\r`)."""

    def __init__(self, text: str) -> None:
        self.text, self.pos, self.line = text, 0, 1

    def at(self, pos: int) -> int:
        chunk = self.text[self.pos : pos]
        self.line += chunk.count("\n") + chunk.count("\r") - chunk.count("\r\n")
        if chunk.endswith("\r") and self.text.startswith("\n", pos):
            self.line -= 1  # a \r\n cut between two positions is one line ending; counted with its \n
        self.pos = pos
        return self.line


def _skip(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in _WHITESPACE:
        pos += 1
    return pos


def iter_json_array(path: str | os.PathLike, what: str = "a JSON list of tasks") -> Iterator[tuple[int, int, object]]:
    """(index, line, value) of every element of a file holding one JSON array."""
    text = read_text(path)
    lines = _Lines(text)
    decoder = json.JSONDecoder()
    pos = _skip(text, 0)
    if not text.startswith("[", pos):
        raise DataError(f"expected {what} (a file starting with '[')", path, lines.at(pos))
    pos, index = _skip(text, pos + 1), 0
    while True:
        if text.startswith("]", pos):
            break
        try:
            value, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as error:
            raise DataError(f"invalid JSON: {error.msg} (column {error.colno})", path, lines.at(error.pos)) from None
        yield index, lines.at(pos), value
        index += 1
        pos = _skip(text, end)
        if text.startswith(",", pos):
            pos = _skip(text, pos + 1)
        elif not text.startswith("]", pos):
            raise DataError("invalid JSON: expected ',' or ']' after a list element", path, lines.at(pos))
    if _skip(text, pos + 1) != len(text):
        raise DataError("invalid JSON: extra data after the list", path, lines.at(_skip(text, pos + 1)))


def iter_json_lines(path: str | os.PathLike) -> Iterator[tuple[int, int, object]]:
    """(index, line, value) of every non-blank line of a JSON-lines file."""
    index = 0
    for number, line in text_lines(path):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as error:
            raise DataError(f"invalid JSON: {error.msg} (column {error.colno})", path, number) from None
        yield index, number, value
        index += 1


def first_record(path: str | os.PathLike) -> tuple[str, object] | None:
    """How a JSON/JSONL file starts, for format detection: ("array", first element, None if it does
    not parse) or ("lines", first object); None when a first line does not parse (the reader chosen
    later says why)."""
    try:
        with open(path, encoding="utf-8-sig", errors="replace") as handle:
            head = handle.read(_SNIFF_CHARS)
    except OSError:
        return None
    pos = _skip(head, 0)
    decoder = json.JSONDecoder()
    if head.startswith("[", pos):
        try:
            return "array", decoder.raw_decode(head, _skip(head, pos + 1))[0]
        except json.JSONDecodeError:
            try:  # a first element longer than the sniffed head
                return "array", next(iter_json_array(path))[2]
            except (DataError, StopIteration):
                return "array", None
    try:
        for _, line in text_lines(path):  # the whole first line, however long
            if line.strip():
                return "lines", json.loads(line)
    except (DataError, json.JSONDecodeError):
        return None
    return None
