"""Cut a request's texts into pieces of whole sentences, so one huge text cannot hold up the others.

The batcher schedules pieces, not requests: a 25,000-character document becomes a few dozen
pieces that take turns with every other request's pieces, and a one-sentence request waits for
about one piece's compute instead of the whole document's.

The pieces are exact. `Tagger.predict` cuts a text into sentences (`lookright.data.segment`) and
tags each sentence on its own, so tagging groups of whole sentences separately and shifting their
offsets gives the labels the whole text gets. A cut is made only where a separator (whitespace)
lies between two sentences, so the word splitter sees the same words on both sides of it, and the
sentence splitter the same sentences (its rules look at the next word only, which a piece's last
sentence has none of, and a piece ends where the whole text has a sentence boundary anyway).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from ..data.segment import sentence_ranges
from ..data.words import split_words
from ..inference import TaggedText
from .errors import ApiError


@dataclass(frozen=True)
class Piece:
    """Characters `[start, end)` of one text, holding `words` words."""

    start: int
    end: int
    words: int


def plan_text(text: str, piece_words: int, offsets: Sequence[tuple[int, int]] | None = None) -> list[Piece]:
    """The pieces of `text`: groups of whole sentences of at most `piece_words` words (one longer
    sentence stays whole: cutting it would change its labels), covering every character once.
    `piece_words <= 0` keeps every text whole."""
    offsets = split_words(text) if offsets is None else offsets
    if piece_words <= 0 or len(offsets) <= piece_words:
        return [Piece(0, len(text), len(offsets))]
    pieces, start, first, words = [], 0, 0, 0
    for a, b in sentence_ranges(text, offsets):
        separated = a > 0 and offsets[a - 1][1] < offsets[a][0]
        if words and words + (b - a) > piece_words and separated:
            cut = offsets[a][0]
            pieces.append(Piece(start, cut, a - first))
            start, first, words = cut, a, 0
        words += b - a
    pieces.append(Piece(start, len(text), len(offsets) - first))
    return pieces


def plan_request(texts: Sequence[str], piece_words: int, max_words: int | None = None) -> list[list[Piece]]:
    """Every text's pieces; more than `max_words` words in all is a 413. Counting stops as soon as the
    limit is passed, so refusing a huge request costs about `max_words` words of splitting, not the request."""
    plans, total = [], 0
    for i, text in enumerate(texts):
        offsets = split_words(text)
        total += len(offsets)
        if max_words is not None and total > max_words:
            where = "texts[0]" if i == 0 else f"texts[0..{i}]"
            raise ApiError(
                413, f"too many words: {where} already hold {total} words, the limit is {max_words} per request "
                "(max_words); split the texts over several requests",
            )
        plans.append(plan_text(text, piece_words, offsets))
    return plans


def merge(text: str, parts: Sequence[tuple[int, TaggedText]]) -> TaggedText:
    """One text's result from its pieces' results, `(piece start, result)` in text order."""
    if len(parts) == 1 and parts[0][0] == 0 and parts[0][1].text == text:
        return parts[0][1]
    words = [replace(w, start=w.start + at, end=w.end + at) for at, part in parts for w in part.words]
    spans = [replace(s, start=s.start + at, end=s.end + at) for at, part in parts for s in part.spans]
    return TaggedText(text, words, spans)
