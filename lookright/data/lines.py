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


def line_blocks(handle: BinaryIO, block: int = BLOCK) -> Iterator[list[bytes]]:
    """The lines of a binary stream, without their endings, a read block's worth of whole lines at a time.

    `\\n`, `\\r\\n` and a lone `\\r` all end a line. Read in `block`-byte chunks, never a line at a
    time: a classic-Mac (CR-only) file has no b"\\n" at all, and iterating it by b"\\n" would load
    the whole file as one line. Splitting a block at once (not line by line) is what makes reading
    a 200,000-line file take a fraction of a second.
    """
    parts: list[bytes] = []  # the unfinished line, possibly over several reads
    while chunk := handle.read(block):
        # whole lines end at the last \n, or the last \r not at the end (a \n may follow it in the next read)
        end = max(chunk.rfind(b"\n"), chunk.rfind(b"\r", 0, len(chunk) - 1))
        if end < 0:
            parts.append(chunk)
            continue
        whole = b"".join([*parts, chunk[: end + 1]]) if parts else chunk[: end + 1]
        parts = [chunk[end + 1 :]] if end + 1 < len(chunk) else []
        yield _EOL.split(whole)[:-1]  # `whole` ends with a line ending: the last piece is empty
    rest = b"".join(parts)
    if rest:
        lines = _EOL.split(rest)
        yield lines[:-1] if not lines[-1] else lines  # a trailing lone \r ends the last line


def raw_lines(handle: BinaryIO, block: int = BLOCK) -> Iterator[bytes]:
    """Lines of a binary stream without their endings (see `line_blocks`)."""
    for lines in line_blocks(handle, block):
        yield from lines


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
        number = 0
        for lines in line_blocks(handle):
            yield from _decoded(lines, number, path, encoding)
            number += len(lines)


def _decoded(lines: list[bytes], before: int, path: PathLike, encoding: str) -> Iterator[tuple[int, str]]:
    """Numbered text of a block of lines: decoded in one call, line by line only to locate a problem."""
    joined = b"\n".join(lines)
    texts: list[str] | None = None
    if b"\x00" not in joined:
        try:
            texts = joined.decode(encoding).split("\n")
        except UnicodeDecodeError:
            pass
    if texts is not None and len(texts) == len(lines):
        if before == 0:
            texts[0] = texts[0].removeprefix("\ufeff")
        yield from zip(range(before + 1, before + 1 + len(texts)), texts)
        return
    for number, raw in enumerate(lines, start=before + 1):  # a problem in the block: the lines up to it, then it
        if b"\x00" in raw:
            raise DataError("NUL byte: this looks like a binary file, not text", path, number)
        try:
            line = raw.decode(encoding)
        except UnicodeDecodeError as error:
            raise DataError(f"not valid {encoding} (byte {error.start + 1} of the line)", path, number) from None
        yield number, line.removeprefix("\ufeff") if number == 1 else line
