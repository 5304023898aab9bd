"""Word -> subword alignment computed from character offsets.

`BatchEncoding.word_ids()` is wrong for several LLM tokenizers (all zeros or shifted ids for some
Llama and Gemma tokenizers, transformers#25082/#31437). We never ask the tokenizer which word a
token belongs to: the words are joined with single spaces (the convention of CoNLL-style training
data), so we know each word's character span, and we assign every token to the word its character
offsets overlap. A word's labelled position is its first overlapping token. The alignment is then
checked: every character of every word must be covered by a token, unless the tokenizer maps that
character to nothing (normalisers delete U+FE0F, zero-width and control characters); otherwise the
offsets are broken and we say so instead of silently mislabelling. A word all of whose characters
are deleted gets the unknown token, so it is never skipped.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
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
    words: Sequence[str],
    starts: list[int],
    offsets: Sequence[tuple[int, int]],
    where: str,
    drops: Callable[[str], bool],
) -> list[tuple[int, int] | None]:
    """Each word's `[first, end)` token span; None for a word whose characters the tokenizer all drops.

    A character no token covers is fine only when the tokenizer maps it to no subword on its own
    (`drops`: BERT's normaliser deletes U+FE0F, U+200B, control characters, lone combining marks...);
    any other gap means the offsets are wrong, and that is an error rather than a mislabelled word.
    """
    ends = [s + len(w) for s, w in zip(starts, words)]
    first: list[int | None] = [None] * len(words)
    last: list[int] = [-1] * len(words)
    covered = bytearray(ends[-1] if ends else 0)  # 1 where some token covers the character
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
                covered[lo:hi] = b"\x01" * (hi - lo)
            w += 1
    spans: list[tuple[int, int] | None] = []
    for w, word in enumerate(words):
        gaps = [c for k, c in enumerate(word) if not covered[starts[w] + k]]
        if gaps and not all(drops(c) for c in gaps):
            raise DataError(
                f"word {w} ({word!r}) is not covered by the tokenizer's character offsets "
                f"(covered {len(word) - len(gaps)} of {len(word)} characters); this tokenizer's offset mapping is unreliable",
                where,
            )
        spans.append(None if first[w] is None else (first[w], last[w] + 1))
    return spans


def stand_in_token(tokenizer) -> int:
    """The subword of a word the tokenizer maps to nothing: its unknown token, else U+FFFD's first subword.

    Such a word (U+FE0F, U+200B, a lone combining mark... for an uncased BERT) must still be seen by
    the model and get a label, so it is given a token of its own rather than being skipped.
    """
    unk = getattr(tokenizer, "unk_token_id", None)
    if unk is not None:
        return unk
    replacement = tokenizer(["\ufffd"], add_special_tokens=False)["input_ids"][0]
    if not replacement:
        raise DataError(f"{type(tokenizer).__name__} has no unknown token and drops U+FFFD: some words would get no subword")
    return replacement[0]


def _give_tokens(ids: list[int], spans: list[tuple[int, int] | None], stand_in: int) -> tuple[list[int], list[tuple[int, int]]]:
    """Insert `stand_in` for every word without tokens, right after the previous word's tokens."""
    out_ids: list[int] = []
    out_spans: list[tuple[int, int]] = []
    taken = 0  # tokens of `ids` already copied
    for span in spans:
        if span is None:
            out_spans.append((len(out_ids), len(out_ids) + 1))
            out_ids.append(stand_in)
            continue
        start, end = span
        out_ids.extend(ids[taken:end])  # tokens between words (a lone "Ġ") stay before the word
        shift = len(out_ids) - end
        out_spans.append((start + shift, end + shift))
        taken = end
    out_ids.extend(ids[taken:])
    return out_ids, out_spans


def split_into_pieces(
    tokenizer, sentences: Sequence[Sequence[str]], wheres: Sequence[str] | None = None
) -> list[WordPieces]:
    """Tokenise whole sentences at once (fast, batched) and align subwords to words by offsets.

    A word the tokenizer maps to no subword at all gets `stand_in_token` (the unknown token), so
    every word has a labelled position in training, evaluation and prediction.
    """
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
    dropped: dict[str, bool] = {}

    def drops(char: str) -> bool:
        if char not in dropped:
            dropped[char] = not tokenizer([char], add_special_tokens=False)["input_ids"][0]
        return dropped[char]

    pieces = []
    for i, (words, (_, starts)) in enumerate(zip(sentences, texts_starts)):
        where = wheres[i] if wheres else f"sentence {i}"
        spans = _align(words, starts, encoded["offset_mapping"][i], where, drops)
        ids = list(encoded["input_ids"][i])
        if None in spans:
            ids, spans = _give_tokens(ids, spans, stand_in_token(tokenizer))
        pieces.append(WordPieces(ids=ids, spans=spans))
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
