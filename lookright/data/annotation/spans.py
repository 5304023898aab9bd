"""Character-offset spans from annotation tools -> word-aligned `Sentence`s: checked, never moved silently.

An annotation tool stores a span as character offsets into the text. lookright labels words, so
every span edge must fall on a word boundary. Words are either given by the file (Prodigy
`tokens`, a spaCy Doc's tokens) or cut from the text by `split_words`, which also cuts at span
edges. What counts as misaligned:

- words given: an edge strictly inside a word;
- words cut from the text: an edge strictly inside a word of the text's own split *with a letter,
  digit or mark on both sides* (`New Yor|k`, `19|96`); an edge that only separates characters the
  split joins (`York|-based`) just cuts the word there.

A misaligned edge, overlapping spans, a span outside the text, one whose `text` field is not
`text[start:end]` or one that covers no word is a `DataError` naming the file, the record (its
line and its id) and the span (index, offsets, label). With `snap=True` misaligned edges move
outward to the nearest aligned position (the edge of the given token; in text, the end of the run
of letters and digits: `New Yor|k-based` -> `New York|-based`) and the count of moved spans is
reported as a `DataWarning` when the file is done. Whitespace at a span's edges belongs to no word: the span
covers the words inside it.
"""

from __future__ import annotations

import os
import warnings
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import regex

from ...errors import DataError, DataWarning
from ..schemes import tags_to_spans
from ..sentence import Sentence
from ..words import split_words

_WORD_CHAR = regex.compile(r"[\p{L}\p{N}\p{M}]")


@dataclass(frozen=True)
class CharSpan:
    """A labelled span of characters, end exclusive; `score` when a model wrote it."""

    start: int
    end: int
    label: str
    score: float | None = None


@dataclass
class AnnotatedText:
    """What every annotation-tool writer writes: a text, its spans (None: not annotated) and scores.

    `words`: the words' character offsets, when the writer keeps the tokenisation (spaCy Docs);
    `meta`: extra per-record fields (e.g. `uncertainty` from `lookright select`).
    """

    text: str
    spans: list[CharSpan] | None
    score: float | None = None
    words: list[tuple[int, int]] | None = None
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RawSpan:
    """A span as a file gives it, before any check: `index` is its place in the record's span list."""

    index: int
    start: object
    end: object
    label: object
    text: object = None


def char_spans(sentence: Sentence) -> list[CharSpan]:
    """The character spans a `Sentence` cut from text holds (its IOB2 tags over its word offsets)."""
    if sentence.offsets is None or sentence.tags is None:
        return []
    return [
        CharSpan(sentence.offsets[s.start][0], sentence.offsets[s.end - 1][1], s.label)
        for s in tags_to_spans(sentence.tags, "IOB2")
    ]


class SpanChecker:
    """Builds the sentences of one file, checking (or snapping) every span; `finish()` reports the snaps."""

    def __init__(self, path: str | os.PathLike, snap: bool = False) -> None:
        self.path = str(path)
        self.snap = snap
        self.snapped = 0
        self.first_snap: str | None = None
        self.notes: Counter[str] = Counter()  # other things the reader did and must say (ignored results...)

    def fail(self, problem: str, line: int | None, record: str | None) -> DataError:
        return DataError(f"{record}: {problem}" if record else problem, self.path, line)

    def note(self, what: str, count: int = 1) -> None:
        """Count something the reader skipped on purpose, reported by `finish()`."""
        self.notes[what] += count

    def finish(self) -> None:
        """Warn (`DataWarning`) about snapped spans and counted notes: nothing changes silently."""
        if self.snapped:
            warnings.warn(
                DataWarning(f"{self.path}: {self.snapped} span(s) snapped outward to word boundaries "
                            f"(first: {self.first_snap})"),
                stacklevel=3,
            )
        for what, count in sorted(self.notes.items()):
            warnings.warn(DataWarning(f"{self.path}: {count} {what}"), stacklevel=3)

    def sentence(
        self,
        text: object,
        spans: list[RawSpan] | None,
        *,
        line: int | None,
        record: str | None,
        words: list[tuple[int, int]] | None = None,
        fields: dict[str, Any] | None = None,
    ) -> Sentence:
        """The sentence of one record: `spans=None` is unlabeled; `words` are the file's own tokens;
        `fields` the record's other fields, which predict writes back."""
        if not isinstance(text, str):
            raise self.fail(f"the text must be a string, found {type(text).__name__}", line, record)
        checked = [self._checked(text, span, line, record) for span in spans or []]
        given = words is not None
        if given:
            self._covered(text, words, line, record)
        natural = words if given else split_words(text)
        aligned = []
        for start, end, label, k in checked:
            new_start = self._edge(text, natural, start, given, k, (start, end, label), "start", line, record)
            new_end = self._edge(text, natural, end, given, k, (start, end, label), "end", line, record)
            if (new_start, new_end) != (start, end):
                self.snapped += 1
                if self.first_snap is None:
                    where = f"{self.path}:{line}" + (f" {record}" if record else "")
                    self.first_snap = (f"{where} spans[{k}] [{start}, {end}) {text[start:end]!r} ({label}) -> "
                                       f"[{new_start}, {new_end}) {text[new_start:new_end]!r}")
            aligned.append((new_start, new_end, label, k))
        aligned.sort()
        for (s1, e1, l1, k1), (s2, e2, l2, k2) in pairwise(aligned):
            if s2 < e1:
                snapped = " after snapping" if self.snap else ""
                raise self.fail(f"spans[{k1}] [{s1}, {e1}) ({l1}) and spans[{k2}] [{s2}, {e2}) ({l2}) overlap{snapped}",
                                line, record)
        offsets = list(words) if words is not None else split_words(text, [x for s, e, _, _ in aligned for x in (s, e)])
        if not offsets:
            raise self.fail("the text has no words", line, record)
        tags = ["O"] * len(offsets)
        w = 0
        for start, end, label, k in aligned:
            while w < len(offsets) and offsets[w][0] < start:
                w += 1
            first = w
            while w < len(offsets) and offsets[w][1] <= end:
                tags[w] = ("I-" if w > first else "B-") + label
                w += 1
            if w == first:
                raise self.fail(f"spans[{k}] [{start}, {end}) {text[start:end]!r} ({label}) covers no word "
                                "(only whitespace)", line, record)
        tokens = [text[s:e] for s, e in offsets]
        return Sentence(tokens, tags if spans is not None else None, self.path, line, text=text, offsets=offsets,
                        record=record, fields=fields or None)

    def _covered(self, text: str, words: list[tuple[int, int]], line: int | None, record: str | None) -> None:
        """Given words must hold every character but whitespace: text outside them would be lost."""
        position = 0
        for start, end in [*words, (len(text), len(text))]:
            gap = text[position:start]
            if gap.strip():
                first = position + len(gap) - len(gap.lstrip())
                raise self.fail(f"characters from {first} ({text[first:first + 20]!r}) are in no token: the tokens "
                                "must cover the text", line, record)
            position = max(position, end)

    def _checked(self, text: str, span: RawSpan, line: int | None, record: str | None) -> tuple[int, int, str, int]:
        k, start, end, label = span.index, span.start, span.end, span.label
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (start, end)):
            raise self.fail(f"spans[{k}]: start and end must be integers, found {start!r} and {end!r}", line, record)
        if not isinstance(label, str) or not label.strip():
            raise self.fail(f"spans[{k}] [{start}, {end}): the label must be a non-empty string, found {label!r}",
                            line, record)
        if not 0 <= start < end:
            raise self.fail(f"spans[{k}] [{start}, {end}) ({label}) is empty or starts before the text", line, record)
        if end > len(text):
            raise self.fail(f"spans[{k}] [{start}, {end}) ({label}) ends past the end of the text (length {len(text)})",
                            line, record)
        if span.text is not None and span.text != text[start:end]:
            hint = ""
            if any(ord(c) > 0xFFFF for c in text):
                hint = " (offsets counted in UTF-16 code units, as older Label Studio and doccano versions wrote them?)"
            raise self.fail(f"spans[{k}] [{start}, {end}) ({label}): its text {span.text!r} is not the text's "
                            f"{text[start:end]!r} at those offsets{hint}", line, record)
        return start, end, label, k

    def _edge(self, text, words, position, given, k, span, which, line, record) -> int:
        """`position` if it is a word boundary; else the edge of the word it cuts (snap) or an error."""
        i = bisect_right(words, (position, len(text) + 1)) - 1  # the last word starting at or before it
        if i < 0 or not words[i][0] < position < words[i][1]:
            return position
        ws, we = words[i]
        if not given:
            if not (_WORD_CHAR.match(text, position - 1) and _WORD_CHAR.match(text, position)):
                return position  # the split only joined these characters (York|-based): cutting there is fine
            while ws < position and not all(_WORD_CHAR.match(c) for c in text[ws:position]):
                ws += 1  # the run of letters and digits the edge is in, within the word
            while we > position and not all(_WORD_CHAR.match(c) for c in text[position:we]):
                we -= 1
        start, end, label = span
        if not self.snap:
            raise self.fail(
                f"spans[{k}] [{start}, {end}) {text[start:end]!r} ({label}): its {which} {position} is inside the word "
                f"{text[ws:we]!r} [{ws}, {we}); fix the offsets or pass snap_spans=True (--snap-spans) to extend the "
                "span to whole words",
                line, record,
            )
        return ws if which == "start" else we
