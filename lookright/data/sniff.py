"""Notice a CoNLL column file handed over as "one text per line", before it is tagged as nonsense.

`predict --input data.txt` reads a `.txt` file as raw texts, one per line. A CoNLL file saved as
`.txt` (CoNLL-2003's own splits are) would then be tagged line by line, `EU NNP B-NP B-ORG` as a
four-word text, and nothing would look wrong. The first lines say which it is.
"""

from __future__ import annotations

import os
import re

from .readers import text_lines

SAMPLE_LINES = 20  # non-blank lines looked at; enough for a sentence or two of CoNLL
# What a tag column holds: O, a B-/I-/E-/S-/L-/U- tag, an upper-case tag (NNP, VBZ, NOUN, -X-) or a
# punctuation tag (`.`, `,`, `''`, `$`).
_TAG = re.compile(r"O|[BIESLU]-\S+|-?[A-Z][A-Z0-9$_.-]*|[^\w\s]{1,4}")


def column_evidence(path: str | os.PathLike, sample: int = SAMPLE_LINES) -> tuple[int, str] | None:
    """(line, reason) when a file looks like CoNLL columns rather than raw texts; None when it does not.

    Columns: a `-DOCSTART-` line, or the first non-blank lines (at least 2) all have the same number
    (>= 2) of TAB/space-separated fields and every last field looks like a tag. Tokens only:
    blank-line-separated blocks of one-field lines, one block with at least two of them.
    """
    rows: list[tuple[int, list[str]]] = []
    block = longest_block = 0
    blank_after_text = False
    for number, line in text_lines(path):
        if not line.strip():
            blank_after_text, block = blank_after_text or bool(rows), 0
            continue
        if line.lstrip().startswith("-DOCSTART-"):
            return number, "it has a -DOCSTART- line"
        rows.append((number, re.split(r"[ \t]+", line.strip())))
        block += 1
        longest_block = max(longest_block, block)
        if len(rows) >= sample:
            break
    if len(rows) < 2:
        return None
    first, widths = rows[0][0], {len(fields) for _, fields in rows}
    width = widths.pop() if len(widths) == 1 else None
    if width is not None and width >= 2 and all(_TAG.fullmatch(fields[-1]) for _, fields in rows):
        return first, f"its first {len(rows)} non-blank lines all have {width} columns, the last one a tag"
    if width == 1 and blank_after_text and longest_block >= 2:
        return first, "it has blank-line-separated blocks of one-word lines"
    return None
