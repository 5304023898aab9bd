"""Raw text -> words with exact character offsets, cut the way CoNLL/PTB data is cut.

A model trained on CoNLL-style tokens should see raw text split the same way, and every word must
map back to its exact characters so predicted spans can be reported as offsets into the input.

Rules (applied inside each run of non-separator characters):
- separators never belong to a word: Unicode whitespace (tabs, newlines, NBSP, U+3000, ...),
  control characters, zero-width space and BOM;
- a word is a maximal run of letters, digits and combining marks (`[^\\W_]`, Unicode-aware,
  ZWJ/ZWNJ allowed inside as in Persian or Indic words), joined across: `.,:/` between digits
  (`3.14`, `1,000`, `12:30`, `5-1/2`), `&` between capitals (`S&P`), `-` between word
  characters (`German-born`, `1-0`) and apostrophes that start no clitic (`O'Neill`);
- PTB clitics are their own words: `do n't`, `John 's`, `we 're`, `I 'm`, `'ve`, `'ll`, `'d`;
- initialisms of single letters with dots (`U.S.`, `e.g.`) and initials (`J.` in `J. Smith`) stay
  whole; every other final dot is its own token (`Inc.` -> `Inc .`: no abbreviation list);
- each Han, Hiragana or Katakana character is a word (as in Chinese/Japanese NER corpora); other
  scripts written without spaces (Thai, ...) stay one word per run;
- `...` and `--` runs are one token; every other character (punctuation, symbol, emoji) is its own
  token, a whole grapheme cluster at a time, so ZWJ emoji sequences and flags stay intact.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable

import regex

_SEPARATORS = regex.compile(r"[^\s\p{Cc}\u200b\ufeff]+")
_CJK = r"\p{Han}\p{Hiragana}\p{Katakana}"
_CHAR = rf"[\p{{L}}\p{{N}}\p{{M}}--[{_CJK}]]"  # a word character (set difference, regex V1)
_CLITIC = r"(?i:s|re|ve|ll|d|m)(?![\p{L}\p{N}])"
_NT = r"(?i:n['’]t)(?![\p{L}\p{N}])"
_RUN = rf"(?:(?!{_NT}){_CHAR})+(?:[\u200c\u200d](?:(?!{_NT}){_CHAR})+)*"
_JOIN = rf"(?:(?<=\d)[.,:/](?=\d)|(?<=\p{{Lu}})&(?=\p{{Lu}})|-(?={_CHAR})|['’](?!{_CLITIC})(?={_CHAR}))"
_TOKEN = regex.compile(
    rf"""
    (?:(?:\p{{L}}\.){{2,}}|\p{{Lu}}\.)(?![\p{{L}}\p{{N}}])  # U.S., e.g., J. Smith
    | {_NT}                                   # n't
    | ['’]{_CLITIC}                           # 's 're 've 'll 'd 'm
    | {_RUN}(?:{_JOIN}{_RUN})*                # words and numbers
    | [{_CJK}]\p{{M}}*                        # one ideograph or kana
    | \.{{2,}} | -{{2,}}                      # ... and --
    | \X                                      # any other grapheme cluster
    """,
    regex.VERBOSE | regex.V1,
)


def split_words(text: str, boundaries: Iterable[int] = ()) -> list[tuple[int, int]]:
    """(start, end) of every word of `text`, end exclusive, so `text[start:end]` is the word.

    `boundaries` are extra character positions no word may cross (e.g. the edges of annotated
    spans), so that every annotated span is a whole number of words.
    """
    cuts = sorted(set(boundaries))
    if cuts and (cuts[0] < 0 or cuts[-1] > len(text)):
        raise ValueError(f"boundaries must lie in 0..{len(text)}, got {cuts[0]}..{cuts[-1]}")
    words = []
    for run in _SEPARATORS.finditer(text):
        start, end = run.span()
        pieces = [start, *cuts[bisect_right(cuts, start) : bisect_right(cuts, end - 1)], end]
        for a, b in zip(pieces, pieces[1:]):
            words.extend((a + m.start(), a + m.end()) for m in _TOKEN.finditer(text[a:b]))
    return words
