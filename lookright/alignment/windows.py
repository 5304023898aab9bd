"""Sentences longer than the model's window: overlapping windows in, one label per word out.

Peers truncate (run_ner at max_seq_length, BiLLM and LS-LLaMA at 64 tokens, GLiNER at 384 words)
and the cut words vanish from both gold and prediction. Here a long sentence is cut at word
boundaries into windows that overlap by `stride` tokens; every word is scored in every window that
holds it and keeps the scores from the window where it has the most context on both sides.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .subwords import WordPieces


@dataclass(frozen=True)
class Window:
    """One model input: words `[word_start, word_end)` of sentence `sentence`.

    `positions[k]` is the index in `input_ids` of the first subword of word `word_start + k`;
    `owned[k]` says whether this window is the one whose prediction that word keeps.
    """

    sentence: int
    word_start: int
    word_end: int
    input_ids: list[int]
    positions: list[int]
    owned: list[bool]

    def __len__(self) -> int:
        return len(self.input_ids)


def plan_windows(pieces: WordPieces, budget: int, stride: int) -> list[tuple[int, int]]:
    """Word ranges `[start, end)` covering every word, each fitting `budget` subwords.

    Consecutive windows share about `stride` subwords of context. A single word longer than the
    budget still gets its own window (its first subwords are kept; only its first subword is labelled).
    """
    if budget < 1:
        raise ValueError("the window must hold at least one subword besides special tokens")
    n = len(pieces.spans)
    if n == 0:
        return []
    spans = pieces.spans
    windows = []
    start = 0
    while True:
        end = start + 1
        while end < n and spans[end][1] - spans[start][0] <= budget:
            end += 1
        windows.append((start, end))
        if end >= n:
            return windows
        # The next window repeats up to ~stride subwords of context, always moves forward and
        # always has room for at least one new word.
        next_start = end
        while (
            next_start - 1 > start
            and spans[end - 1][1] - spans[next_start - 1][0] <= stride
            and spans[end][1] - spans[next_start - 1][0] <= budget
        ):
            next_start -= 1
        start = next_start


def _owners(ranges: list[tuple[int, int]], n: int) -> list[int]:
    """For each word, the window giving it the most context on its poorer side (ties: earlier)."""
    best = [-1] * n
    score = [-1] * n
    for k, (start, end) in enumerate(ranges):
        for w in range(start, end):
            context = min(w - start, end - 1 - w)
            if context > score[w]:
                best[w], score[w] = k, context
    return best


def make_windows(
    pieces: WordPieces,
    sentence: int,
    max_length: int,
    stride: int,
    prefix: Sequence[int] = (),
    suffix: Sequence[int] = (),
) -> list[Window]:
    """Cut one sentence into model inputs of at most `max_length` ids (special tokens included)."""
    budget = max_length - len(prefix) - len(suffix)
    ranges = plan_windows(pieces, budget, stride)
    owners = _owners(ranges, len(pieces.spans))
    windows = []
    for k, (start, end) in enumerate(ranges):
        lo = pieces.spans[start][0]
        hi = min(pieces.spans[end - 1][1], lo + budget)
        ids = list(prefix) + pieces.ids[lo:hi] + list(suffix)
        positions = [len(prefix) + pieces.spans[w][0] - lo for w in range(start, end)]
        owned = [owners[w] == k for w in range(start, end)]
        windows.append(Window(sentence, start, end, ids, positions, owned))
    return windows


def stitch(windows: Sequence[Window], window_scores: Sequence[Sequence], lengths: Sequence[int]) -> list[list]:
    """Per-sentence, per-word scores taken from each word's owning window.

    `window_scores[i][k]` is whatever was computed for word `windows[i].word_start + k` (a score
    vector, a label...). Every word of every sentence must be owned exactly once.
    """
    out: list[list] = [[None] * n for n in lengths]
    for window, scores in zip(windows, window_scores):
        row = out[window.sentence]
        for k, owned in enumerate(window.owned):
            if owned:
                row[window.word_start + k] = scores[k]
    for s, row in enumerate(out):
        missing = [w for w, v in enumerate(row) if v is None]
        if missing:
            raise RuntimeError(f"sentence {s}: words {missing[:10]} received no prediction (a bug in windowing)")
    return out
