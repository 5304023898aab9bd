"""Word -> subword alignment by character offsets, and windows that never lose a word."""

from __future__ import annotations

import random

import pytest

from lookright.alignment import WordPieces, join_words, make_windows, plan_windows, split_into_pieces, stitch
from lookright.alignment.encoder import IGNORE_INDEX, WindowEncoder, window_labels
from lookright.errors import DataError

HARD_WORDS = [
    "EU", "rejects", "German", "call", ",", "café", "naïve", "Zürich's", "2,024.50", "3.14", "U.S.",
    "😀", "👨‍👩‍👧", "(", "co-operate", ")", "--", "'s", "東京", "Ω", "…", "ﬁnal", "İstanbul", "ß", "e\u0301",
]


@pytest.fixture(scope="module")
def tokenizer():
    """The default model's real tokenizer (SmolLM2, byte-level BPE with leading-space offsets)."""
    from lookright.modeling.loading import load_tokenizer
    from lookright.modeling.resolve import resolve_model

    return load_tokenizer(resolve_model(None))


def _decode_word(tokenizer, pieces: WordPieces, w: int) -> str:
    start, end = pieces.spans[w]
    return tokenizer.decode(pieces.ids[start:end]).strip()


def test_every_word_gets_its_own_contiguous_subwords(tokenizer):
    pieces = split_into_pieces(tokenizer, [HARD_WORDS])[0]
    assert len(pieces.spans) == len(HARD_WORDS)
    previous_end = 0
    for w, (start, end) in enumerate(pieces.spans):
        assert start >= previous_end and end > start, HARD_WORDS[w]
        previous_end = end
        assert _decode_word(tokenizer, pieces, w) == HARD_WORDS[w]
    # the subwords of all words, in order, are exactly the sentence's tokens (none skipped)
    assert pieces.spans[-1][1] == len(pieces.ids)


def test_digits_and_emoji_split_into_several_subwords_label_the_first(tokenizer):
    pieces = split_into_pieces(tokenizer, [["in", "2024", "😀"]])[0]
    (s1, e1), (s2, e2) = pieces.spans[1], pieces.spans[2]
    assert e1 - s1 == 4  # SmolLM2 splits numbers into single digits
    assert e2 - s2 >= 2  # an emoji is several byte-level tokens
    assert pieces.first_tokens == [0, s1, s2]


def test_alignment_on_real_conll_sentences_round_trips(tokenizer, conll2003):
    from lookright.data.readers import read_data

    sentences = read_data(conll2003 / "validation.txt", label_column=3)[:500]
    pieces = split_into_pieces(tokenizer, [s.tokens for s in sentences])
    for sentence, p in zip(sentences, pieces):
        assert [_decode_word(tokenizer, p, w) for w in range(len(sentence))] == sentence.tokens


def test_words_with_whitespace_or_empty_words_are_rejected(tokenizer):
    with pytest.raises(DataError, match="empty or contains whitespace"):
        split_into_pieces(tokenizer, [["a", ""]], ["f.txt:3"])
    with pytest.raises(DataError, match="f.txt:3"):
        split_into_pieces(tokenizer, [["a b"]], ["f.txt:3"])


class BrokenOffsetsTokenizer:
    """Mimics tokenizers whose offset mapping is wrong (e.g. tokenizers#1517): all offsets (0, 1)."""

    is_fast = True

    def __call__(self, texts, **kwargs):
        return {"input_ids": [[1] * len(t.split()) for t in texts], "offset_mapping": [[(0, 1)] * len(t.split()) for t in texts]}


def test_broken_tokenizer_offsets_fail_loudly_instead_of_mislabelling():
    with pytest.raises(DataError, match="not covered by the tokenizer's character offsets"):
        split_into_pieces(BrokenOffsetsTokenizer(), [["Hello", "world"]], ["x.conll:7"])


# Characters some tokenizer maps to no subword (BERT's normaliser deletes them all): variation
# selector-16, zero-width space/joiner/non-joiner, BEL, ESC, a lone combining acute, BOM, soft
# hyphen, word joiner; alone, after a letter or an emoji, and in runs.
INVISIBLE_WORDS = [
    "\ufe0f", "\u200b", "\u200d", "\u200c", "\x07", "\x1b", "\u0301", "\ufeff", "\u00ad", "\u2060",
    "a\ufe0f", "\u2764\ufe0f", "\u200b\u200d\ufe0f",
]


@pytest.fixture(scope="module")
def minilm():
    """The packaged encoder's tokenizer (uncased WordPiece behind BERT's normaliser)."""
    from lookright.modeling.loading import load_tokenizer
    from lookright.modeling.resolve import ENCODER_ALIAS, resolve_model

    return load_tokenizer(resolve_model(ENCODER_ALIAS))


def _with_invisible_words() -> list[list[str]]:
    mixed = [word for w in INVISIBLE_WORDS for word in ("EU", w)] + ["rejects"]
    return [mixed, list(INVISIBLE_WORDS), ["\ufe0f"], ["\u200b", "lamb"], ["lamb", "\u0301"]]


@pytest.mark.parametrize("which", ["tokenizer", "minilm"])
def test_words_a_tokenizer_maps_to_no_subword_still_get_a_subword_of_their_own(which, request):
    tokenizer = request.getfixturevalue(which)
    sentences = _with_invisible_words()
    for words, pieces in zip(sentences, split_into_pieces(tokenizer, sentences)):
        assert len(pieces.spans) == len(words)
        previous_end = 0
        for w, (start, end) in enumerate(pieces.spans):
            assert previous_end <= start < end <= len(pieces.ids), repr(words[w])
            previous_end = end
            piece = pieces.ids[start:end]
            if which == "minilm" and not tokenizer([words[w]], add_special_tokens=False)["input_ids"][0]:
                assert piece == [tokenizer.unk_token_id], repr(words[w])  # deleted by the normaliser: [UNK]
            elif which == "tokenizer":
                assert _decode_word(tokenizer, pieces, w) == words[w]  # byte-level BPE keeps every character
        assert len(set(pieces.first_tokens)) == len(words)  # a labelled position per word, none shared


@pytest.mark.parametrize("which", ["tokenizer", "minilm"])
def test_invisible_words_at_window_edges_are_owned_exactly_once(which, request):
    tokenizer = request.getfixturevalue(which)
    sentences = _with_invisible_words()
    encoder = WindowEncoder(tokenizer, max_length=8, stride=2)
    windows = encoder.encode(sentences)
    lengths = [len(words) for words in sentences]
    owned = stitch(windows, [list(range(w.word_start, w.word_end)) for w in windows], lengths)
    assert owned == [list(range(n)) for n in lengths]
    assert any(w.word_start > 0 and sentences[w.sentence][w.word_start] in INVISIBLE_WORDS for w in windows)


def test_offsets_that_skip_a_character_the_tokenizer_keeps_still_fail(minilm):
    class SkipsLetters:  # drops "b" from its offsets, though "b" alone has a token
        is_fast = True
        unk_token_id = minilm.unk_token_id

        def __call__(self, texts, **kwargs):
            encoded = minilm(texts, **kwargs)
            if "offset_mapping" in encoded:
                encoded["offset_mapping"] = [
                    [(s, e) if text[s:e] != "b" else (0, 0) for s, e in offsets]
                    for text, offsets in zip(texts, encoded["offset_mapping"])
                ]
            return encoded

    assert split_into_pieces(SkipsLetters(), [["a", "\ufe0f"]])[0].spans == [(0, 1), (1, 2)]
    with pytest.raises(DataError, match=r"x.conll:7: word 1 \('b'\) is not covered"):
        split_into_pieces(SkipsLetters(), [["a", "b"]], ["x.conll:7"])


def test_join_words_gives_each_word_its_character_start():
    text, starts = join_words(["EU", "rejects", "it"])
    assert text == "EU rejects it"
    assert [text[s : s + len(w)] for s, w in zip(starts, ["EU", "rejects", "it"])] == ["EU", "rejects", "it"]


# --- windows ----------------------------------------------------------------------------------


def _pieces(sizes: list[int]) -> WordPieces:
    spans, pos = [], 0
    for size in sizes:
        spans.append((pos, pos + size))
        pos += size
    return WordPieces(ids=list(range(1000, 1000 + pos)), spans=spans)


@pytest.mark.parametrize("seed", range(20))
def test_windows_cover_every_word_exactly_once_and_fit_the_budget(seed):
    rng = random.Random(seed)
    sizes = [rng.choice([1, 1, 1, 2, 3, 5, 12]) for _ in range(rng.randint(1, 300))]
    pieces = _pieces(sizes)
    windows = make_windows(pieces, sentence=0, max_length=16, stride=4, prefix=[1], suffix=[2])
    owners = [0] * len(sizes)
    for window in windows:
        assert len(window.input_ids) <= 16
        assert window.input_ids[0] == 1 and window.input_ids[-1] == 2
        for k, position in enumerate(window.positions):
            w = window.word_start + k
            assert window.input_ids[position] == pieces.ids[pieces.spans[w][0]]  # first subword of word w
            owners[w] += window.owned[k]
    assert owners == [1] * len(sizes)
    assert windows[0].word_start == 0 and windows[-1].word_end == len(sizes)


def test_a_short_sentence_is_one_window():
    pieces = _pieces([1, 2, 1])
    assert plan_windows(pieces, budget=10, stride=3) == [(0, 3)]


def test_a_word_longer_than_the_window_keeps_its_first_subwords():
    pieces = _pieces([2, 40, 1])
    windows = make_windows(pieces, sentence=0, max_length=8, stride=2)
    assert [w.word_start for w in windows if 1 in range(w.word_start, w.word_end)]
    long_word = next(w for w in windows if w.word_start == 1)
    assert len(long_word.input_ids) == 8 and long_word.input_ids[0] == pieces.ids[2]


def test_each_word_keeps_the_window_where_it_has_most_context():
    pieces = _pieces([1] * 30)
    windows = make_windows(pieces, sentence=0, max_length=12, stride=6)
    for window in windows:
        for k, owned in enumerate(window.owned):
            if not owned:
                continue
            w = window.word_start + k
            mine = min(w - window.word_start, window.word_end - 1 - w)
            for other in windows:
                if other.word_start <= w < other.word_end:
                    assert min(w - other.word_start, other.word_end - 1 - w) <= mine


def test_stitch_reassembles_sentences_from_windows():
    pieces = _pieces([1] * 25)
    windows = make_windows(pieces, sentence=0, max_length=10, stride=4)
    scores = [[f"w{window.word_start + k}" for k in range(window.word_end - window.word_start)] for window in windows]
    assert stitch(windows, scores, [25]) == [[f"w{i}" for i in range(25)]]


def test_window_labels_sit_on_first_subwords_only(tokenizer):
    encoder = WindowEncoder(tokenizer, max_length=128, stride=16)
    (window,) = encoder.encode([["Zürich's", "2024", "café"]])
    labels = window_labels(window, [5, 6, 7])
    assert [labels[p] for p in window.positions] == [5, 6, 7]
    assert sum(label != IGNORE_INDEX for label in labels) == 3


def test_long_real_sentence_is_windowed_without_losing_words(tokenizer):
    words = ("The European Commission said on Thursday it disagreed with German advice " * 40).split()
    encoder = WindowEncoder(tokenizer, max_length=32, stride=8)
    windows = encoder.encode([words])
    assert len(windows) > 10
    covered = stitch(windows, [list(range(w.word_start, w.word_end)) for w in windows], [len(words)])[0]
    assert covered == list(range(len(words)))
