"""Tagged texts written in the format of the tool that reads them next: lookright JSONL, CoNLL,
Label Studio pre-annotations, doccano JSONL or a spaCy DocBin.

One writer per output, fed one result at a time (`write`), finished with `close()`: Label Studio's
JSON list is streamed (`[`, tasks, `]`), a DocBin is saved when closed. Every file written here
reads back through `lookright.data.readers` with the same spans, character for character. A text
without words (a blank input line) is kept by JSONL and CoNLL, in place; the annotation tools get
no task for it (there is nothing to annotate, and their readers refuse empty texts): `skipped`
counts them so the caller can say so.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import IO, Any, Protocol

from ..data.annotation import AnnotatedText, CharSpan
from ..modeling.artifact import ModelCard
from .tagger import TaggedText

OUTPUT_FORMATS = ("jsonl", "conll", "label-studio", "doccano", "spacy")
BINARY_FORMATS = ("spacy",)  # need an --output file


class ResultWriter(Protocol):
    skipped: int  # texts without words not written (annotation-tool formats)

    def write(self, tagged: TaggedText, meta: dict[str, Any] | None = None) -> None: ...

    def close(self) -> None: ...


def text_score(tagged: TaggedText) -> float | None:
    """A text's confidence: the mean probability of its words' labels (None for a text without words)."""
    if not tagged.words:
        return None
    return round(sum(w.score for w in tagged.words) / len(tagged.words), 4)


def annotated(tagged: TaggedText, meta: dict[str, Any] | None = None) -> AnnotatedText:
    """A tagger's result as what the annotation-tool writers write (spans with scores, the words kept)."""
    return AnnotatedText(
        tagged.text, [CharSpan(s.start, s.end, s.label, s.score) for s in tagged.spans], text_score(tagged),
        [(w.start, w.end) for w in tagged.words], dict(meta or {}),
    )


def model_version(directory: str | os.PathLike, card: ModelCard) -> str:
    """How pre-annotations name their model: the directory's name and what the card says it is."""
    what = card.method + (f" {card.unmask}" if "1" in str(card.unmask) else "")
    return f"{Path(directory).resolve().name} ({what}, {card.base_model})"


class _Lines:
    skipped = 0

    def __init__(self, handle: IO[str], fmt: str) -> None:
        self.handle, self.fmt = handle, fmt

    def write(self, tagged: TaggedText, meta: dict[str, Any] | None = None) -> None:
        if self.fmt == "jsonl":
            self.handle.write(json.dumps({**tagged.to_dict(), **(meta or {})}, ensure_ascii=False) + "\n")
        else:
            for word in tagged.words:
                self.handle.write(f"{word.text}\t{word.label}\n")
            self.handle.write("\n")

    def close(self) -> None:
        pass


class _Tool:
    def __init__(self, writer) -> None:
        self.writer, self.skipped = writer, 0

    def write(self, tagged: TaggedText, meta: dict[str, Any] | None = None) -> None:
        if not tagged.words:
            self.skipped += 1
            return
        self.writer.write(annotated(tagged, meta))

    def close(self) -> None:
        self.writer.close()


class _Closing:
    """Closes the file it writes to after the writer is done (not stdout)."""

    def __init__(self, writer: ResultWriter, handle: IO[str] | None) -> None:
        self.writer, self.handle = writer, handle

    @property
    def skipped(self) -> int:
        return self.writer.skipped

    def write(self, tagged: TaggedText, meta: dict[str, Any] | None = None) -> None:
        self.writer.write(tagged, meta)

    def close(self) -> None:
        try:
            self.writer.close()
        finally:
            if self.handle is not None:
                self.handle.close()


def open_writer(
    fmt: str,
    output: str | os.PathLike | None,
    *,
    version: str = "lookright",
    from_name: str = "label",
    to_name: str = "text",
) -> ResultWriter:
    """A writer of `fmt` to `output` (None: stdout; a DocBin needs a file). `version`, `from_name` and
    `to_name` fill Label Studio's `model_version` and the names of its labels and text tags."""
    if fmt not in OUTPUT_FORMATS:
        raise ValueError(f"unknown output format {fmt!r}; valid: {', '.join(OUTPUT_FORMATS)}")
    if fmt in BINARY_FORMATS:
        if output is None:
            raise ValueError(f"format {fmt} writes a binary file: give an output file (--output x.spacy)")
        from ..data.annotation.docbin import DocBinWriter

        return _Tool(DocBinWriter(output))
    handle = open(output, "w", encoding="utf-8") if output is not None else None  # noqa: SIM115 - closed by _Closing
    stream = handle if handle is not None else sys.stdout
    if fmt == "label-studio":
        from ..data.annotation.label_studio import LabelStudioWriter

        writer: ResultWriter = _Tool(LabelStudioWriter(stream, model_version=version, from_name=from_name,
                                                       to_name=to_name))
    elif fmt == "doccano":
        from ..data.annotation.doccano import DoccanoWriter

        writer = _Tool(DoccanoWriter(stream))
    else:
        writer = _Lines(stream, fmt)
    return _Closing(writer, handle)
