"""Bring labelled sentences into the scheme and label set a model uses, without losing anything.

Training data may come in IOB1, IOB2 or BIOES; a model learns one scheme. Evaluation data must only
use labels the model knows: an unseen type is an error pointing at the sentence, never a silent 'O'.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import DataError
from .schemes import convert_tags, detect_scheme, normalize_scheme
from .sentence import Sentence


def require_tags(sentences: Sequence[Sentence], what: str) -> None:
    """Every sentence must be labelled for training or evaluation."""
    for s in sentences:
        if s.tags is None:
            raise DataError(f"{what} data must be labelled, this sentence has no tags", s.source, s.line)


def input_scheme(sentences: Sequence[Sentence], declared: str | None) -> str:
    """The scheme the file is written in: declared by the user or detected from its tags."""
    if declared:
        return normalize_scheme(declared)
    return detect_scheme(s.tags for s in sentences if s.tags)


def model_scheme(source_scheme: str, requested: str) -> str:
    """Span data is learnt in the requested scheme; plain per-token tags (POS) stay as they are."""
    if source_scheme == "NONE":
        return "NONE"
    return normalize_scheme(requested)


def convert_all(
    sentences: Sequence[Sentence],
    source_scheme: str,
    target_scheme: str,
    known_labels: Sequence[str] | None = None,
) -> list[list[str]]:
    """Tags of every sentence in `target_scheme`; with `known_labels`, unseen labels are errors."""
    known = set(known_labels) if known_labels is not None else None
    converted = []
    for s in sentences:
        tags = list(s.tags or [])
        if target_scheme != "NONE":  # also normalises BILOU's L-/U- to BIOES's E-/S-
            tags = convert_tags(tags, source_scheme, target_scheme)
        if known is not None:
            for k, tag in enumerate(tags):
                if tag not in known:
                    raise DataError(
                        f"word {k} ({s.tokens[k]!r}) has label {tag!r}, which the model never saw in training "
                        f"(known: {', '.join(sorted(known))})",
                        s.source,
                        s.line,
                    )
        converted.append(tags)
    return converted
