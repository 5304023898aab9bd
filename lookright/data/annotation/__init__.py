"""Annotation tools' files in and out: Label Studio, doccano, Prodigy/spaCy JSONL, spaCy DocBin.

Each format is one module (reader, and writer where the tool imports pre-annotations); `spans`
turns character-offset spans into word-aligned sentences with the checks every format shares,
`detect` picks the format for `--format auto`. `lookright.data.readers.iter_data` dispatches here.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from ..sentence import Sentence
from .detect import TOOL_FORMATS, detect_format
from .spans import AnnotatedText, CharSpan, char_spans

__all__ = ["TOOL_FORMATS", "AnnotatedText", "CharSpan", "char_spans", "detect_format", "iter_tool"]


def iter_tool(
    path: str | os.PathLike, fmt: str, *, labelled: bool = True, snap_spans: bool = False
) -> Iterator[Sentence]:
    """Sentences of an annotation tool's file; `labelled=False` reads the texts only (no span checks)."""
    if fmt == "label-studio":
        from .label_studio import iter_label_studio as read
    elif fmt == "doccano":
        from .doccano import iter_doccano as read
    elif fmt == "prodigy":
        from .prodigy import iter_prodigy as read
    elif fmt == "spacy":
        from .docbin import iter_docbin as read
    else:
        raise ValueError(f"unknown annotation format {fmt!r}; valid: {', '.join(TOOL_FORMATS)}")
    return read(path, labelled=labelled, snap_spans=snap_spans)
