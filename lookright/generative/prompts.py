"""Prompt and response format for generative labelling.

A response lists the spans in sentence order, `words => type` joined by ` ;`, then end-of-sequence
(the format of the paper's instruction-tuning baseline, `span:type;span:type`, made readable). Types
are written as natural-language names (`PER` -> `person`), which a pretrained LM knows.

The response is tokenised *piece by piece* (each word, ` =>`, each type name, ` ;`), never as one
string, so every response the model can write is a concatenation of known token sequences: the
constrained decoder then only has to follow those sequences, and training targets use exactly the
same tokens as decoding.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ..alignment.subwords import stand_in_token
from ..data.schemes import Span

NATURAL_NAMES = {
    "PER": "person", "LOC": "location", "ORG": "organization", "MISC": "miscellaneous",
    "NP": "noun phrase", "VP": "verb phrase", "PP": "prepositional phrase", "ADVP": "adverb phrase",
    "SBAR": "subordinated clause", "ADJP": "adjective phrase", "PRT": "particle", "CONJP": "conjunction phrase",
    "INTJ": "interjection", "LST": "list marker", "UCP": "unlike coordinated phrase",
}
ARROW = " =>"
SEPARATOR = " ;"
SENTENCE_HEADER = "### Sentence:\n"
RESPONSE_HEADER = "\n### Response:"


def type_names(types: Sequence[str]) -> dict[str, str]:
    """Type -> the name the model writes; raw types when the natural names would collide."""
    names = {t: NATURAL_NAMES.get(t, t.lower().replace("_", " ").replace("-", " ")) for t in types}
    if len(set(names.values())) < len(names) or any(not n.strip() for n in names.values()):
        return {t: t for t in types}
    return names


def response_text(words: Sequence[str], spans: Sequence[Span], names: dict[str, str]) -> str:
    """The response as text, exactly what the piece tokens decode to (used in demonstrations)."""
    parts = [" " + " ".join(words[s.start : s.end]) + ARROW + " " + names[s.label] for s in spans]
    return SEPARATOR.join(parts)


def instruction_text(names: dict[str, str]) -> str:
    types = ", ".join(names.values())
    return (
        "List the labelled spans of the sentence in order, each as `words => type`, separated by ` ;`. "
        f"Types: {types}. Answer with nothing if there are none.\n\n"
    )


def prompt_text(words: Sequence[str], demos: Sequence[tuple[Sequence[str], Sequence[Span]]],
                names: dict[str, str], instruction: bool) -> str:
    """Instruction (optional), the demonstrations with their responses, then the sentence."""
    parts = [instruction_text(names)] if instruction else []
    for demo_words, demo_spans in demos:
        parts.append(SENTENCE_HEADER + " ".join(demo_words) + RESPONSE_HEADER + response_text(demo_words, demo_spans, names) + "\n\n")
    parts.append(SENTENCE_HEADER + " ".join(words) + RESPONSE_HEADER)
    return "".join(parts)


@dataclass
class PieceTokenizer:
    """Token ids of response pieces, each tokenised as it would be mid-text (cached)."""

    tokenizer: object
    cache: dict[str, tuple[int, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        anchor = "\n"
        self._anchor = list(self.tokenizer(anchor, add_special_tokens=False)["input_ids"])
        self.eos = self.tokenizer.eos_token_id
        if self.eos is None:
            raise ValueError("generative labelling needs a tokenizer with an end-of-sequence token")

    def ids(self, piece: str) -> tuple[int, ...]:
        """Ids of `piece` as it tokenises after a newline (so a leading space stays a word boundary)."""
        cached = self.cache.get(piece)
        if cached is None:
            full = list(self.tokenizer("\n" + piece, add_special_tokens=False)["input_ids"])
            if full[: len(self._anchor)] == self._anchor and len(full) > len(self._anchor):
                cached = tuple(full[len(self._anchor) :])
            else:
                cached = tuple(self.tokenizer(piece, add_special_tokens=False)["input_ids"])
            if not cached:  # a word the tokenizer maps to no subword (U+FE0F for a normalising one)
                cached = (stand_in_token(self.tokenizer),)
            self.cache[piece] = cached
        return cached

    def word(self, word: str) -> tuple[int, ...]:
        return self.ids(" " + word)

    def name(self, name: str) -> tuple[int, ...]:
        return self.ids(" " + name)

    @property
    def arrow(self) -> tuple[int, ...]:
        return self.ids(ARROW)

    @property
    def separator(self) -> tuple[int, ...]:
        return self.ids(SEPARATOR)

    def response(self, words: Sequence[str], spans: Sequence[Span], names: dict[str, str]) -> list[int]:
        """Target ids: the pieces of every span, separators, then end-of-sequence."""
        ids: list[int] = []
        for k, span in enumerate(spans):
            if k:
                ids.extend(self.separator)
            for w in range(span.start, span.end):
                ids.extend(self.word(words[w]))
            ids.extend(self.arrow)
            ids.extend(self.name(names[span.label]))
        ids.append(self.eos)
        return ids
