"""Word -> subword alignment computed from character offsets.

`BatchEncoding.word_ids()` is wrong for several LLM tokenizers (all zeros or shifted ids for some
Llama and Gemma tokenizers, transformers#25082/#31437). We never ask the tokenizer which word a
token belongs to: the words are joined with single spaces (the convention of CoNLL-style training
data), so we know each word's character span, and we assign every token to the word its character
offsets overlap. A word's labelled position is its first overlapping token. The alignment is then
checked: every character of every word must be covered by a token, otherwise the tokenizer's
offsets are broken and we say so instead of silently mislabelling.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import DataError


@dataclass(frozen=True)
class WordPieces:
    """Subword ids of one sentence (no special tokens) and each word's `[first, end)` token span."""

    ids: list[int]
    spans: list[tuple[int, int]]

    @property
    def first_tokens(self) -> list[int]:
        return [start for start, _ in self.spans]


def join_words(words: Sequence[str]) -> tuple[str, list[int]]:
    """The text the model sees for `words` and the character start of each word in it."""
    starts, pos = [], 0
    for word in words:
        starts.append(pos)
        pos += len(word) + 1
    return " ".join(words), starts


def _align(
    words: Sequence[str], starts: list[int], offsets: Sequence[tuple[int, int]], where: str
) -> list[tuple[int, int]]:
    ends = [s + len(w) for s, w in zip(starts, words)]
    first: list[int | None] = [None] * len(words)
    last: list[int] = [-1] * len(words)
    covered = [0] * len(words)
    for t, (s, e) in enumerate(offsets):
        if e <= s:
            continue  # special tokens and other zero-width pieces
        w = bisect.bisect_right(starts, s) - 1
        if w < 0 or s >= ends[w]:
            w += 1  # token starts in the space before word w (e.g. "Ġword", "▁word")
        while w < len(words) and starts[w] < e:
            lo, hi = max(s, starts[w]), min(e, ends[w])
            if hi > lo:
                if first[w] is None:
                    first[w] = t
                elif last[w] != t - 1 and last[w] != t:
                    raise DataError(f"tokens of word {w} ({words[w]!r}) are not contiguous; the tokenizer offsets look broken", where)
                last[w] = t
                covered[w] += hi - lo
            w += 1
    spans = []
    for w, word in enumerate(words):
        if first[w] is None or covered[w] < len(word):
            raise DataError(
                f"word {w} ({word!r}) is not covered by the tokenizer's character offsets "
                f"(covered {covered[w]} of {len(word)} characters); this tokenizer's offset mapping is unreliable",
                where,
            )
        spans.append((first[w], last[w] + 1))
    return spans


def split_into_pieces(
    tokenizer, sentences: Sequence[Sequence[str]], wheres: Sequence[str] | None = None
) -> list[WordPieces]:
    """Tokenise whole sentences at once (fast, batched) and align subwords to words by offsets."""
    if not getattr(tokenizer, "is_fast", False):
        raise DataError(f"{type(tokenizer).__name__} is not a fast tokenizer: character offsets are needed for alignment")
    for i, words in enumerate(sentences):
        for w, word in enumerate(words):
            if not word or word.isspace() or any(c.isspace() for c in word):
                where = wheres[i] if wheres else f"sentence {i}"
                raise DataError(f"word {w} ({word!r}) is empty or contains whitespace", where)
    texts_starts = [join_words(words) for words in sentences]
    encoded = tokenizer(
        [text for text, _ in texts_starts],
        add_special_tokens=False,
        return_offsets_mapping=True,
        return_attention_mask=False,
    )
    pieces = []
    for i, (words, (_, starts)) in enumerate(zip(sentences, texts_starts)):
        where = wheres[i] if wheres else f"sentence {i}"
        spans = _align(words, starts, encoded["offset_mapping"][i], where)
        pieces.append(WordPieces(ids=list(encoded["input_ids"][i]), spans=spans))
    return pieces


def special_tokens(tokenizer) -> tuple[list[int], list[int]]:
    """Ids the tokenizer adds before and after a text (BOS, EOS...), found by encoding a probe."""
    probe = "probe"
    bare = tokenizer(probe, add_special_tokens=False)["input_ids"]
    full = tokenizer(probe, add_special_tokens=True)["input_ids"]
    for start in range(len(full) - len(bare) + 1):
        if full[start : start + len(bare)] == bare:
            return list(full[:start]), list(full[start + len(bare) :])
    return [], []
