"""Tagged texts written in the format of the tool that reads them next: lookright JSONL, CoNLL,
Label Studio pre-annotations, doccano JSONL or a spaCy DocBin.

One writer per output, fed one result at a time (`write`), finished with `close()` (`abort()` after a
failure: the results so far stay in `OUTPUT.partial`, OUTPUT is not written): Label Studio's
JSON list is streamed (`[`, tasks, `]`), a DocBin is saved when closed. Every file written here
reads back through `lookright.data.readers` with the same spans, character for character. A text
without words (a blank input line) is kept by JSONL, in place; CoNLL cannot hold it (a blank line
ends a sentence, so an empty one would only merge with its neighbours' separators) and the
annotation tools get no task for it (there is nothing to annotate, and their readers refuse empty
texts): `skipped` counts them so the caller can say so.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections import Counter
from pathlib import Path
from typing import IO, Any, Protocol

from ..data.annotation import AnnotatedText, CharSpan
from ..modeling.artifact import ModelCard
from .tagger import TaggedText

OUTPUT_FORMATS = ("jsonl", "conll", "label-studio", "doccano", "spacy")
BINARY_FORMATS = ("spacy",)  # need an --output file
# Per-record fields each format writes itself: an input record's field of the same name gives way
# (`_Closing.replaced` counts it). CoNLL has no place for fields at all (`_Closing.unwritten`).
OWN_FIELDS = {"jsonl": frozenset({"text", "words", "spans"}), "label-studio": frozenset({"text"}),
              "doccano": frozenset({"text", "label"}), "spacy": frozenset({"score", "span_scores"})}


class ResultWriter(Protocol):
    skipped: int  # texts without words not written (annotation-tool formats)

    def write(self, tagged: TaggedText, meta: dict[str, Any] | None = None) -> None: ...

    def close(self) -> None: ...


class OutputWriter(ResultWriter, Protocol):
    """What `open_writer` returns: a writer that also stops cleanly after a failure, and counts the
    input fields it could not keep (`replaced` by its own of that name, `unwritten` by CoNLL)."""

    written: int
    replaced: Counter[str]
    unwritten: Counter[str]

    def write(
        self, tagged: TaggedText, meta: dict[str, Any] | None = None, fields: dict[str, Any] | None = None
    ) -> None: ...

    def abort(self) -> Path | None: ...


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
    def __init__(self, handle: IO[str], fmt: str) -> None:
        self.handle, self.fmt, self.skipped = handle, fmt, 0

    def write(self, tagged: TaggedText, meta: dict[str, Any] | None = None) -> None:
        if self.fmt == "jsonl":
            self.handle.write(json.dumps({**tagged.to_dict(), **(meta or {})}, ensure_ascii=False) + "\n")
        elif not tagged.words:
            self.skipped += 1
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


PARTIAL_SUFFIX = ".partial"


def partial_path(output: str | os.PathLike) -> Path:
    """Where results go while they are written: beside OUTPUT, renamed to it only once all are in."""
    output = Path(output)
    return output.with_name(output.name + PARTIAL_SUFFIX)


class _Closing:
    """Closes the file it writes to once the writer is done, and only then names it OUTPUT.

    Results go to `OUTPUT.partial` until `close()` renames it: a crash, a full disk or Ctrl-C never
    leaves a file at OUTPUT that looks complete, a file already at OUTPUT stays as it was, and
    `abort()` keeps what was written in the `.partial` file (a Label Studio list closed, so it loads).
    """

    def __init__(self, writer: ResultWriter, handle: IO[str] | None, output: Path | None = None,
                 fmt: str = "jsonl") -> None:
        self.writer, self.handle, self.output, self.written = writer, handle, output, 0
        self.own = OWN_FIELDS.get(fmt)  # None: the format keeps no per-record fields
        self.replaced: Counter[str] = Counter()  # input fields the output's own of that name replaced
        self.unwritten: Counter[str] = Counter()  # input fields a format without fields could not keep

    @property
    def skipped(self) -> int:
        return self.writer.skipped

    @property
    def partial(self) -> Path | None:
        return partial_path(self.output) if self.output is not None else None

    def write(
        self, tagged: TaggedText, meta: dict[str, Any] | None = None, fields: dict[str, Any] | None = None
    ) -> None:
        """`meta`: the caller's per-record fields (select's `uncertainty`...); `fields`: the input
        record's own, which give way to the output's and the caller's fields of the same name."""
        if fields and self.own is None:
            self.unwritten.update(fields.keys())
        elif fields:
            taken = fields.keys() & (self.own | (meta or {}).keys())
            self.replaced.update(taken)
            meta = {**{k: v for k, v in fields.items() if k not in taken}, **(meta or {})}
        self.writer.write(tagged, meta)
        self.written += 1

    def _finish(self) -> None:
        try:
            self.writer.close()
        finally:
            if self.handle is not None:
                self.handle.close()

    def close(self) -> None:
        self._finish()
        if self.output is not None:
            os.replace(self.partial, self.output)

    def abort(self) -> Path | None:
        """Stop writing after a failure: the `.partial` file holding what was written, if any."""
        with contextlib.suppress(Exception):  # the failure being reported matters more than this one
            self._finish()
        return self.partial if self.partial is not None and self.partial.exists() else None


def open_writer(
    fmt: str,
    output: str | os.PathLike | None,
    *,
    version: str = "lookright",
    from_name: str = "label",
    to_name: str = "text",
) -> OutputWriter:
    """A writer of `fmt` to `output` (None: stdout; a DocBin needs a file). `version`, `from_name` and
    `to_name` fill Label Studio's `model_version` and the names of its labels and text tags."""
    if fmt not in OUTPUT_FORMATS:
        raise ValueError(f"unknown output format {fmt!r}; valid: {', '.join(OUTPUT_FORMATS)}")
    if fmt in BINARY_FORMATS:
        if output is None:
            raise ValueError(f"format {fmt} writes a binary file: give an output file (--output x.spacy)")
        from ..data.annotation.docbin import DocBinWriter

        return _Closing(_Tool(DocBinWriter(partial_path(output))), None, Path(output), fmt)
    handle = (open(partial_path(output), "w", encoding="utf-8")  # noqa: SIM115 - closed by _Closing
              if output is not None else None)
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
    return _Closing(writer, handle, Path(output) if output is not None else None, fmt)
