"""Raw text -> sentences, so a model trained on sentences is applied to sentences.

CoNLL-style training data is one sentence per sequence. A paragraph or a whole document passed as
one text would otherwise be tagged as one long sequence, cut into windows that mix sentences: a
context the model never saw in training, and results that change with what surrounds a sentence.
Segmenting first makes a document's labels equal those of its sentences tagged one by one.

Rules, over the words of `split_words` (so every boundary falls between two words):
- a blank line (two or more line breaks between two words) ends a sentence;
- a word `.`, `!`, `?`, `...` or a run of them ends a sentence, together with any closing
  quotes or brackets after it on the same line, when the next word does not start with a lowercase letter
  (`Inc. said` stays one sentence, `Inc. Chairman` is split: no abbreviation list, as in CoNLL).
Sentences longer than the model's window are still windowed, never cut short.
"""

from __future__ import annotations

from collections.abc import Sequence

import regex

_FINAL = regex.compile(r"[.!?…]+")
_CLOSING = regex.compile(r"[\"'”’»)\]}]+")
_BLANK_LINE = regex.compile(r"\n[^\S\n]*\n")


def sentence_ranges(text: str, offsets: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Word-index ranges `[start, end)` of the sentences of `text`, covering every word once."""
    n = len(offsets)
    if n == 0:
        return []
    ranges = []
    start = 0
    k = 0
    while k < n:
        end = k + 1
        word = text[offsets[k][0] : offsets[k][1]]
        cut = False
        if _FINAL.fullmatch(word):
            while (
                end < n
                and _CLOSING.fullmatch(text[offsets[end][0] : offsets[end][1]])
                and "\n" not in text[offsets[end - 1][1] : offsets[end][0]]
            ):
                end += 1
            cut = end < n and not text[offsets[end][0]].islower()
        if end < n and not cut:
            cut = _BLANK_LINE.search(text, offsets[end - 1][1], offsets[end][0]) is not None
        if cut:
            ranges.append((start, end))
            start = end
        k = end
    if start < n:
        ranges.append((start, n))
    return ranges
