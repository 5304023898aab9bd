"""Lines of text files: any line ending (`\\n`, `\\r\\n`, a lone `\\r`), read in blocks, located by number.

Every reader (CoNLL, JSONL, the annotation tools' files) reads lines through here, so line numbers
in errors are the ones an editor shows whatever wrote the file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import BinaryIO

from ..errors import DataError

PathLike = str | os.PathLike

_EOL = re.compile(rb"\r\n?|\n")
BLOCK = 1 << 20


def raw_lines(handle: BinaryIO, block: int = BLOCK) -> Iterator[bytes]:
    """Lines of a binary stream without their endings; `\\n`, `\\r\\n` and a lone `\\r` all end a line.

    Read in `block`-byte chunks, never a line at a time: a classic-Mac (CR-only) file has no
    b"\\n" at all, and iterating it by b"\\n" would load the whole file as one line.
    """
    parts: list[bytes] = []
    after_cr = False  # the previous chunk ended with \r: a \n opening this one belongs to it
    while chunk := handle.read(block):
        start = 1 if after_cr and chunk.startswith(b"\n") else 0
        for match in _EOL.finditer(chunk, start):
            parts.append(chunk[start : match.start()])
            yield b"".join(parts)
            parts, start = [], match.end()
        if start < len(chunk):
            parts.append(chunk[start:])
        after_cr = chunk.endswith(b"\r")
    if parts:
        yield b"".join(parts)


def count_lines(path: PathLike, block: int = BLOCK) -> int:
    """How many lines `text_lines` yields for `path`, counted in blocks (a progress total for huge files)."""
    count, last, after_cr = 0, b"\n", False
    with open(path, "rb") as handle:
        while chunk := handle.read(block):
            count += chunk.count(b"\n") + chunk.count(b"\r") - chunk.count(b"\r\n")
            if after_cr and chunk.startswith(b"\n"):
                count -= 1  # a \r\n split across two blocks is one line ending
            after_cr, last = chunk.endswith(b"\r"), chunk[-1:]
    return count + (last not in (b"\n", b"\r"))


def text_lines(path: PathLike, encoding: str = "utf-8") -> Iterator[tuple[int, str]]:
    """(line number, text without line ending) of a text file; binary or undecodable -> DataError.

    `\\n`, `\\r\\n` and `\\r` (classic Mac) end a line alike, mixed too, so line numbers are the
    ones an editor shows whatever wrote the file. Lines are split before decoding, which is exact for
    ASCII-compatible encodings (UTF-8, Latin-1, cp1252, ...) and gives the line of an undecodable byte
    without re-reading the file.
    """
    try:
        handle = open(path, "rb")
    except OSError as error:
        raise DataError(f"cannot read file: {error.strerror}", path) from None
    with handle:
        for number, raw in enumerate(raw_lines(handle), start=1):
            if b"\x00" in raw:
                raise DataError("NUL byte: this looks like a binary file, not text", path, number)
            try:
                line = raw.decode(encoding)
            except UnicodeDecodeError as error:
                raise DataError(f"not valid {encoding} (byte {error.start + 1} of the line)", path, number) from None
            if number == 1:
                line = line.removeprefix("\ufeff")
            yield number, line
