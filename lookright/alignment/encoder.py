"""Sentences -> windows of model inputs, with the tokenizer's special tokens around each window."""

from __future__ import annotations

from collections.abc import Sequence

from .subwords import special_tokens, split_into_pieces
from .windows import Window, make_windows

IGNORE_INDEX = -100  # positions the loss skips: later subwords, special tokens, padding


class WindowEncoder:
    """Turns word lists into `Window`s of at most `max_length` ids overlapping by `stride` subwords."""

    def __init__(self, tokenizer, max_length: int = 128, stride: int = 32) -> None:
        self.tokenizer = tokenizer
        self.prefix, self.suffix = special_tokens(tokenizer)
        budget = max_length - len(self.prefix) - len(self.suffix)
        if budget < 2:
            raise ValueError(f"max_length {max_length} leaves no room for words besides special tokens")
        if not 0 <= stride < budget:
            raise ValueError(f"stride must be between 0 and {budget - 1} subwords (max_length minus special tokens)")
        self.max_length = max_length
        self.stride = stride

    def encode(
        self, sentences: Sequence[Sequence[str]], wheres: Sequence[str] | None = None, first_index: int = 0
    ) -> list[Window]:
        """Windows for every sentence, in sentence order; `Window.sentence` counts from `first_index`."""
        pieces = split_into_pieces(self.tokenizer, sentences, wheres)
        windows: list[Window] = []
        for i, p in enumerate(pieces):
            windows.extend(make_windows(p, first_index + i, self.max_length, self.stride, self.prefix, self.suffix))
        return windows


def window_labels(window: Window, tag_ids: Sequence[int]) -> list[int]:
    """Loss targets for one window: the word's label on its first subword, IGNORE_INDEX elsewhere."""
    labels = [IGNORE_INDEX] * len(window.input_ids)
    for k, position in enumerate(window.positions):
        labels[position] = tag_ids[window.word_start + k]
    return labels
