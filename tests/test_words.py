from __future__ import annotations

from pathlib import Path

import pytest

from lookright.data.readers import iter_conll
from lookright.data.words import split_words

FAMILY = "👨\u200d👩\u200d👧\u200d👦"  # one grapheme: four emoji joined by ZWJ


def words(text: str, boundaries: tuple[int, ...] = ()) -> list[str]:
    offsets = split_words(text, boundaries)
    for start, end in offsets:
        assert 0 <= start < end <= len(text)
        assert not text[start:end].isspace()
    assert offsets == sorted(offsets)
    assert all(a[1] <= b[0] for a, b in zip(offsets, offsets[1:]))
    return [text[s:e] for s, e in offsets]


@pytest.mark.parametrize(
    "text, expected",  # expected words joined by single spaces
    [
        ("Hello, world!", "Hello , world !"),
        ('He said: "no" (twice).', 'He said : " no " ( twice ) .'),
        ("pi is 3.14, not 1,000 or 12:30 or 5-1/2.", "pi is 3.14 , not 1,000 or 12:30 or 5-1/2 ."),
        ("a.b 3. x,y", "a . b 3 . x , y"),
        ("the U.S. and e.g. J. Smith", "the U.S. and e.g. J. Smith"),
        ("Mr. Inc.", "Mr . Inc ."),
        ("German-born 1-0 well- -5", "German-born 1-0 well - - 5"),
        ("wait... -- ok", "wait ... -- ok"),
        ("don't, isn't, John's, we're", "do n't , is n't , John 's , we 're"),
        ("I'm, they've, we'll, he'd", "I 'm , they 've , we 'll , he 'd"),
        ("O'Neill rock'n'roll John’s", "O'Neill rock'n'roll John ’s"),
        ("S&P and AT&T, you & me", "S&P and AT&T , you & me"),
        ("snake_case $5 100%", "snake _ case $ 5 100 %"),
        ("café naïve Zürich", "café naïve Zürich"),
        ("cafe\u0301 au lait", "cafe\u0301 au lait"),
        ("Hi😀there 👍🏽!", "Hi 😀 there 👍🏽 !"),
        (f"family {FAMILY} flag 🇫🇷🇩🇪", f"family {FAMILY} flag 🇫🇷 🇩🇪"),
        ("東京都に住む", "東 京 都 に 住 む"),
        ("서울에서 살아요", "서울에서 살아요"),
        ("می\u200cخواهم", "می\u200cخواهم"),
        ("Москва, 2024", "Москва , 2024"),
    ],
)
def test_split_words(text: str, expected: str) -> None:
    assert words(text) == expected.split(" ")


def test_whitespace_of_every_kind_separates_and_is_never_in_a_word() -> None:
    text = "a\tb\n\nc  d\u00a0e\u2009f\u3000g\r\nh\u200bi\ufeffj\x00k"
    assert words(text) == list("abcdefghijk")
    assert split_words(text)[1] == (2, 3)


def test_invisible_characters_stay_in_words_or_become_words_unless_they_separate() -> None:
    """Nothing is dropped: every character is in a word, or is a documented separator."""
    import regex

    text = "EU \ufe0f rejects\u200d a\ufe0f \u2764\ufe0f \u0301x \u0301 co\u00adop w\u2060j \u200d\u200d z\u200bq \x07 \ufeff!"
    found = words(text)
    assert found == ["EU", "\ufe0f", "rejects", "\u200d", "a\ufe0f", "\u2764\ufe0f", "\u0301x", "\u0301", "co", "\u00ad",
                     "op", "w", "\u2060", "j", "\u200d\u200d", "z", "q", "!"]
    inside = {i for s, e in split_words(text) for i in range(s, e)}
    outside = {text[i] for i in range(len(text)) if i not in inside}
    assert all(regex.fullmatch(r"[\s\p{Cc}\u200b\ufeff]", c) for c in outside)


@pytest.mark.parametrize("text", ["", " ", "\t\n\u00a0\u3000"])
def test_blank_text_has_no_words(text: str) -> None:
    assert split_words(text) == []


def test_offsets_are_exact_for_mixed_unicode() -> None:
    text = " 🇫🇷 Zoë's\u00a0naïve—ok 𝔘𝔫𝔦 東京 "
    offsets = split_words(text)
    assert [text[s:e] for s, e in offsets] == "🇫🇷 Zoë 's naïve — ok 𝔘𝔫𝔦 東 京".split(" ")
    assert offsets[0] == (1, 3)  # a flag is two code points
    # Words plus separators rebuild the text: nothing is dropped or duplicated.
    assert "".join(text[s:e] for s, e in offsets) == "".join(c for c in text if not c.isspace())


def test_boundaries_force_splits() -> None:
    text = "NewYork-based firm"
    assert words(text, (3,)) == ["New", "York-based", "firm"]
    assert words(text, (3, 7)) == ["New", "York", "-", "based", "firm"]
    assert words(text, (0, 8, 18)) == ["NewYork", "-", "based", "firm"]
    assert words("U.S.", (2,)) == ["U.", "S."]


def test_boundaries_outside_the_text_are_rejected() -> None:
    with pytest.raises(ValueError, match="boundaries"):
        split_words("abc", (4,))


@pytest.fixture(scope="module")
def conll2003_train(conll2003: Path) -> list[list[str]]:
    return [s.tokens for s in iter_conll(conll2003 / "train.txt", label_column=None)]


def test_conll_tokens_mostly_survive_a_round_trip(conll2003_train: list[list[str]]) -> None:
    """Text made of CoNLL-2003 tokens splits back into the same tokens for most sentences."""
    same = 0
    for tokens in conll2003_train:
        text = " ".join(tokens)
        same += [text[s:e] for s, e in split_words(text)] == tokens
    assert same / len(conll2003_train) > 0.88
