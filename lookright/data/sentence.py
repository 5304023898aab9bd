"""The unit every reader produces and every later stage consumes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Sentence:
    """Words of one sentence, their tags (None when unlabeled) and where they came from.

    `line` is the 1-based line of the first word in `source`, so later stages (unknown label at
    evaluation time, alignment failures) can point the user at the exact place. `text` and
    `offsets` are set when the words were cut from raw text: `offsets[i]` is the (start, end)
    character span of `tokens[i]` in `text`. `record` names the sentence within its file when a
    line alone does not (`task 12` of a Label Studio export, `doc 3` of a spaCy DocBin). `fields` are the
    record's own other fields (an `id`, a source URL...), which `predict` writes back beside its results.
    Frozen, and its lists are never modified after reading: runs in one process share the sentences
    of a file they all read.
    """

    tokens: list[str]
    tags: list[str] | None = None
    source: str | None = None
    line: int | None = None
    doc_id: int | None = None
    text: str | None = None
    offsets: list[tuple[int, int]] | None = None
    record: str | None = None
    fields: dict[str, Any] | None = None

    def __len__(self) -> int:
        return len(self.tokens)

    @property
    def where(self) -> str:
        """`file:line` for error messages."""
        if self.source is None:
            return "<input>"
        return f"{self.source}:{self.line}" if self.line is not None else self.source
