"""Bring labelled sentences into the scheme and label set a model uses, without losing anything.

Training data may come in IOB1, IOB2 or BIOES; a model learns one scheme. Evaluation data must only
use labels the model knows: an unseen type is an error pointing at the sentence, never a silent 'O'.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import DataError
from .schemes import (
    convert_tags,
    detect_scheme,
    invalid_transitions,
    is_near_miss_span_tag,
    is_span_tag,
    normalize_scheme,
)
from .sentence import Sentence


@dataclass(frozen=True)
class Repairs:
    """Tag transitions one side's tags break in `scheme` (`O I-PER` in IOB2), counted, not hidden.

    `repaired`: whether they were repaired before scoring (the conlleval reading: an I-X that
    continues nothing starts a span), as gold tags always are; predictions scored as written keep
    them, so strict scores count them as errors and lenient scores repair them.
    """

    scheme: str
    transitions: int = 0
    sentences: int = 0
    first: str | None = None  # `file:line` of the first sentence with one
    first_word: int | None = None  # and the word (0-based) in it
    repaired: bool = True

    def describe(self, side: str) -> str:
        """One line for a report, or "" when there is nothing to say."""
        if not self.transitions:
            return ""
        what = "repaired as conlleval does"
        if not self.repaired:
            what = "scored as written: strict counts them as errors, lenient repairs them"
        return (
            f"{side}: {self.transitions} invalid {self.scheme} transition{'s' if self.transitions != 1 else ''} "
            f"in {self.sentences} sentence{'s' if self.sentences != 1 else ''} "
            f"(first at {self.first}, word {self.first_word}), {what}"
        )


def find_repairs(
    tags: Sequence[Sequence[str]], wheres: Sequence[str] | None, scheme: str, *, repaired: bool = True
) -> Repairs:
    """Count the transitions `tags` break in `scheme`, and where the first one is."""
    scheme = normalize_scheme(scheme)
    transitions = sentences = 0
    first = first_word = None
    for i, sentence in enumerate(tags):
        bad = invalid_transitions(sentence, scheme)
        if bad:
            transitions, sentences = transitions + len(bad), sentences + 1
            if first_word is None:
                first, first_word = (wheres[i] if wheres is not None else f"sentence {i}"), bad[0]
    return Repairs(scheme, transitions, sentences, first, first_word, repaired)


def sentence_repairs(sentences: Sequence[Sentence], scheme: str, *, repaired: bool = True) -> Repairs:
    """`find_repairs` over labelled sentences, located by their file and line."""
    return find_repairs([s.tags or [] for s in sentences], [s.where for s in sentences], scheme, repaired=repaired)


def require_tags(sentences: Sequence[Sentence], what: str) -> None:
    """Every sentence must be labelled for training or evaluation."""
    for s in sentences:
        if s.tags is None:
            unit = f"{s.record} has no annotation" if s.record else "this sentence has no tags"
            raise DataError(f"{what} data must be labelled, {unit}", s.source, s.line)


def input_scheme(sentences: Sequence[Sentence], declared: str | None) -> str:
    """The scheme the file is written in: declared by the user or detected from its tags.

    One mistyped tag (`B-`, a bare `I`, `b-PER`) among span tags would make the whole file look
    like per-word tags (NONE) and every span be learnt as separate labels: that tag is an error at
    its sentence instead, unless the user declares the scheme.
    """
    if declared:
        return normalize_scheme(declared)
    scheme = detect_scheme(s.tags for s in sentences if s.tags)
    if scheme == "NONE":
        _refuse_a_mistyped_span_tag(sentences)
    return scheme


def _refuse_a_mistyped_span_tag(sentences: Sequence[Sentence]) -> None:
    """A near-miss tag (`B-`, `b-PER`) is refused wherever it is; any other tag that is not a span tag
    (`0` for `O`, a bare `PER`, `B–PER` with an en dash) is refused when most of the file's tags are
    span tags, since then the per-word reading (no spans predicted at all) is surely not what was meant."""
    example = next((t for s in sentences for t in s.tags or [] if t != "O" and is_span_tag(t)), None)
    if example is None:
        return  # no span tags at all: POS-style tags, NONE is right
    tags = [t for s in sentences for t in s.tags or []]
    others = sum(not is_span_tag(t) for t in tags)
    mostly_spans = 2 * others < len(tags)
    for s in sentences:
        for k, tag in enumerate(s.tags or []):
            if is_near_miss_span_tag(tag):
                what = f"a malformed span tag, while the file's other tags are span tags such as {example!r}"
            elif mostly_spans and not is_span_tag(tag):
                what = (f"not a span tag, while most of the file's tags are span tags such as {example!r} "
                        f"({others:,} of {len(tags):,} words have tags that are not)")
            else:
                continue
            raise DataError(
                f"word {k} ({s.tokens[k]!r}) has tag {tag!r}, {what}; fix it (B-TYPE, I-TYPE or O), or pass "
                "--scheme NONE to learn every tag as a label of its own",
                s.source,
                s.line,
            )


def model_scheme(source_scheme: str, requested: str) -> str:
    """Span data is learnt in the requested scheme; plain per-token tags (POS) stay as they are."""
    if source_scheme == "NONE":
        return "NONE"
    return normalize_scheme(requested)


def convert_all(
    sentences: Sequence[Sentence],
    source_scheme: str,
    target_scheme: str,
    known_labels: Sequence[str] | None = None,
) -> list[list[str]]:
    """Tags of every sentence in `target_scheme`; with `known_labels`, unseen labels are errors."""
    known = set(known_labels) if known_labels is not None else None
    converted = []
    for s in sentences:
        tags = list(s.tags or [])
        if target_scheme != "NONE":  # also normalises BILOU's L-/U- to BIOES's E-/S-
            try:
                tags = convert_tags(tags, source_scheme, target_scheme)
            except ValueError as error:  # a tag foreign to the declared scheme (E-PER in IOB2)
                raise DataError(str(error), s.source, s.line) from None
        if known is not None:
            for k, tag in enumerate(tags):
                if tag not in known:
                    raise DataError(
                        f"word {k} ({s.tokens[k]!r}) has label {tag!r}, which the model never saw in training "
                        f"(known: {', '.join(sorted(known))})",
                        s.source,
                        s.line,
                    )
        converted.append(tags)
    return converted
