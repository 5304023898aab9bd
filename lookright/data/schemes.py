"""Label schemes: tags <-> spans, conversion, detection and the transition rules of each scheme.

Spans are the ground truth every scheme encodes; conversions go through them so IOB1, IOB2 and
BIOES data can be mixed freely. Decoding is defined for *any* tag sequence (model predictions are
often invalid) and repairs it the way conlleval does, so reported scores match the standard tool.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

IOB1, IOB2, BIOES, IO, NONE = "IOB1", "IOB2", "BIOES", "IO", "NONE"
SCHEMES = (IOB1, IOB2, BIOES, IO, NONE)
_ALIASES = {"BIO": IOB2, "IOBES": BIOES, "BILOU": BIOES}
# Prefixes a tag may carry in each span scheme; BILOU's L/U are read as E/S.
_PREFIXES = {IOB1: "BI", IOB2: "BI", BIOES: "BIESLU", IO: "I"}
_BILOU = {"L": "E", "U": "S"}
# Prefixes of the labels a model learns and predicts in each span scheme (and that scoring accepts).
OUTPUT_PREFIXES = {IOB1: "BI", IOB2: "BI", BIOES: "BIES", IO: "I"}


@dataclass(frozen=True)
class Span:
    """Words `[start, end)` labelled `label`."""

    start: int
    end: int
    label: str


@dataclass(frozen=True)
class Transitions:
    """Which labels may start, follow each other (`transition[prev][next]`) and end a sequence."""

    start_allowed: list[bool]
    transition: list[list[bool]]
    end_allowed: list[bool]


def normalize_scheme(name: str) -> str:
    """Canonical scheme name for `name` (case-insensitive, aliases BIO, IOBES, BILOU accepted)."""
    key = name.strip().upper()
    key = _ALIASES.get(key, key)
    if key not in SCHEMES:
        raise ValueError(f"unknown label scheme {name!r}; valid: IOB1, IOB2 (BIO), BIOES (IOBES, BILOU), IO, NONE")
    return key


def _split(tag: str, scheme: str) -> tuple[str, str]:
    """(prefix, type) of a span-scheme tag; ('O', '') for outside. TYPE may itself contain '-'."""
    if tag == "O":
        return "O", ""
    prefix, dash, kind = tag.partition("-")
    if not dash or not kind or len(prefix) != 1 or prefix not in _PREFIXES[scheme]:
        allowed = "/".join(f"{p}-" for p in _PREFIXES[scheme])
        raise ValueError(f"tag {tag!r} is not valid in scheme {scheme}: expected 'O' or {allowed} followed by a type")
    return _BILOU.get(prefix, prefix), kind


def validate_tag(tag: str, scheme: str) -> None:
    """Raise ValueError when `tag` cannot appear in `scheme` (any non-empty tag is valid in NONE)."""
    scheme = normalize_scheme(scheme)
    if scheme == NONE:
        if not tag:
            raise ValueError("empty tag")
        return
    _split(tag, scheme)


def tags_to_spans(tags: Sequence[str], scheme: str) -> list[Span]:
    """Spans encoded by `tags`, repairing invalid sequences like conlleval.

    A B-X or S-X always starts a span. An I-X or E-X continues the open span if it has type X,
    otherwise it starts a new one (so IOB2 `O I-PER` is a PER span, `B-PER I-LOC` two spans).
    E-X and S-X close the span they end; O closes any open span. For IOB1 this is exactly the
    scheme's own reading (B-X marks a new span right after an X span). IO spans are maximal runs
    of the same I-X. In NONE every word is its own span labelled with its tag, so span metrics
    become token metrics.
    """
    scheme = normalize_scheme(scheme)
    if scheme == NONE:
        return [Span(i, i + 1, tag) for i, tag in enumerate(tags)]
    spans: list[Span] = []
    start, label = 0, None
    for i, tag in enumerate(tags):
        prefix, kind = _split(tag, scheme)
        continues = label == kind and prefix in "IE"
        if label is not None and not continues:
            spans.append(Span(start, i, label))
            label = None
        if prefix == "O":
            continue
        if label is None:
            start, label = i, kind
        if prefix in "ES":
            spans.append(Span(start, i + 1, label))
            label = None
    if label is not None:
        spans.append(Span(start, len(tags), label))
    return spans


def spans_to_tags(spans: Iterable[Span], length: int, scheme: str) -> list[str]:
    """Tags of `length` words encoding `spans` (the inverse of `tags_to_spans`).

    IO cannot separate two adjacent spans of the same type: they come back merged. In NONE each
    span must cover exactly one word and every word must be covered.
    """
    scheme = normalize_scheme(scheme)
    ordered = sorted(spans, key=lambda s: (s.start, s.end))
    tags = ["O"] * length
    previous: Span | None = None
    for span in ordered:
        if not 0 <= span.start < span.end <= length:
            raise ValueError(f"span {span} is empty or outside 0..{length}")
        if previous is not None and span.start < previous.end:
            raise ValueError(f"spans {previous} and {span} overlap")
        if scheme == NONE:
            if span.end - span.start != 1:
                raise ValueError(f"span {span} covers several words; NONE tags are per word")
            tags[span.start] = span.label
        elif scheme == BIOES and span.end - span.start == 1:
            tags[span.start] = f"S-{span.label}"
        else:
            tags[span.start : span.end] = [f"I-{span.label}"] * (span.end - span.start)
            adjacent = previous is not None and previous.end == span.start and previous.label == span.label
            if scheme == IOB2 or scheme == BIOES or (scheme == IOB1 and adjacent):
                tags[span.start] = f"B-{span.label}"
            if scheme == BIOES:
                tags[span.end - 1] = f"E-{span.label}"
        previous = span
    if scheme == NONE and len(ordered) != length:
        raise ValueError(f"{len(ordered)} spans for {length} words; NONE needs one span per word")
    return tags


def convert_tags(tags: Sequence[str], source_scheme: str, target_scheme: str) -> list[str]:
    """`tags` re-encoded in `target_scheme` via their spans (invalid input is repaired on the way)."""
    source, target = normalize_scheme(source_scheme), normalize_scheme(target_scheme)
    if (source == NONE) != (target == NONE):
        raise ValueError(f"cannot convert between {source} and {target}: plain per-word tags have no spans")
    return spans_to_tags(tags_to_spans(tags, source), len(tags), target)


def _may_start(prefix: str, scheme: str) -> bool:
    return not (scheme == IOB2 and prefix == "I") and not (scheme == BIOES and prefix in "IE")


def _may_follow(prev: tuple[str, str], nxt: tuple[str, str], scheme: str) -> bool:
    """Strict rule for `nxt` right after `prev`, both as (prefix, type)."""
    (p_prefix, p_kind), (n_prefix, n_kind) = prev, nxt
    inside = p_prefix in "BI"  # a span is open and must go on
    if scheme == IOB2:
        return n_prefix != "I" or (inside and p_kind == n_kind)
    if scheme == BIOES:
        if inside:
            return n_prefix in "IE" and p_kind == n_kind
        return n_prefix in "BSO"
    return True


def _may_end(prefix: str, scheme: str) -> bool:
    return not (scheme == BIOES and prefix in "BI")


def invalid_transitions(tags: Sequence[str], scheme: str) -> list[int]:
    """Positions where `tags` break the strict rules of `scheme` (for reports of malformed output).

    IOB2: I-X not after B-X/I-X. IOB1: B-X not right after an X span. BIOES: I-X/E-X without an
    open X span, B-X/S-X/O while a span is open, or a sequence ending inside a span (reported at
    its last word). IO and NONE have no rules.
    """
    scheme = normalize_scheme(scheme)
    if scheme in (IO, NONE):
        return []
    parts = [_split(tag, scheme) for tag in tags]
    bad = []
    for i, part in enumerate(parts):
        if scheme == IOB1:
            broken = part[0] == "B" and (i == 0 or parts[i - 1][0] == "O" or parts[i - 1][1] != part[1])
        elif i == 0:
            broken = not _may_start(part[0], scheme)
        else:
            broken = not _may_follow(parts[i - 1], part, scheme)
        if broken or (i == len(parts) - 1 and not _may_end(part[0], scheme)):
            bad.append(i)
    return bad


def allowed_transitions(labels: Sequence[str], scheme: str) -> Transitions:
    """Validity matrices over `labels` for constrained (Viterbi) decoding.

    IOB2 and BIOES follow their strict rules (see `invalid_transitions`). IOB1, IO and NONE allow
    everything: any IOB1 path decodes to the same spans as its canonical spelling, so there is
    nothing for a constraint to fix.
    """
    scheme = normalize_scheme(scheme)
    n = len(labels)
    if scheme not in (IOB2, BIOES):
        return Transitions([True] * n, [[True] * n for _ in range(n)], [True] * n)
    parts = [_split(label, scheme) for label in labels]
    return Transitions(
        start_allowed=[_may_start(p[0], scheme) for p in parts],
        transition=[[_may_follow(p, q, scheme) for q in parts] for p in parts],
        end_allowed=[_may_end(p[0], scheme) for p in parts],
    )


def detect_scheme(tag_sequences: Iterable[Sequence[str]]) -> str:
    """Guess the scheme of labelled data in one pass.

    - some non-O tag is not `P-TYPE` with P in B/I/E/S/L/U (POS tags like `NN`, `$`, `-LRB-`),
      or there is no tag besides O -> NONE, the only scheme in which every such tag is valid;
    - any E-/S-/L-/U- prefix -> BIOES;
    - any B- prefix -> IOB1 or IOB2, whichever the data breaks in fewer places: IOB2 is broken by
      an I-X that starts a span (first word, after O or after another type), IOB1 by a B-X that
      does not follow an X tag (IOB1 only writes B-X between two adjacent X spans). So a few
      `O I-PER` slips in an IOB2 file keep it IOB2, and a few stray B-X in an IOB1 file keep it
      IOB1; a tie is IOB2;
    - only I- and O -> IO.
    A wrong guess among IO, IOB1 and IOB2 is harmless to the spans: all three decode alike. It
    decides how many invalid transitions a report says were repaired.
    """
    prefixes: set[str] = set()
    iob1_breaks = iob2_breaks = 0
    for tags in tag_sequences:
        previous = ""  # type of the previous tag, "" after O and at the start
        for tag in tags:
            kind = ""
            if tag != "O":
                prefix, dash, kind = tag.partition("-")
                if not dash or not kind or prefix not in ("B", "I", "E", "S", "L", "U"):
                    return NONE
                prefixes.add(prefix)
                if kind != previous:
                    iob2_breaks += prefix == "I"
                    iob1_breaks += prefix == "B"
            previous = kind
    if not prefixes:
        return NONE
    if prefixes & {"E", "S", "L", "U"}:
        return BIOES
    if "B" in prefixes:
        return IOB1 if iob1_breaks < iob2_breaks else IOB2
    return IO


_NEAR_MISS = re.compile(r"(?i)o|[bieslu](?:[-_:.].*)?")


def is_span_tag(tag: str) -> bool:
    """`O` or `P-TYPE` with P one of B/I/E/S/L/U: what span schemes are written in."""
    prefix, dash, kind = tag.partition("-")
    return tag == "O" or (bool(dash) and bool(kind) and prefix in ("B", "I", "E", "S", "L", "U"))


def is_near_miss_span_tag(tag: str) -> bool:
    """A tag that looks like a mistyped span tag (`B-`, a bare `I`, `b-PER`, `B_PER`, `o`), not a POS tag."""
    return not is_span_tag(tag) and _NEAR_MISS.fullmatch(tag) is not None


def normalize_tags(tags: Sequence[str], scheme: str) -> list[str]:
    """`tags` spelt as the scheme's canonical prefixes (BILOU's L-/U- become E-/S-), nothing repaired."""
    if normalize_scheme(scheme) != BIOES:
        return list(tags)
    return [_BILOU[tag[0]] + tag[1:] if tag[:1] in _BILOU and tag[1:2] == "-" else tag for tag in tags]


def label_set(tag_sequences: Iterable[Sequence[str]], scheme: str) -> list[str]:
    """Labels a model in `scheme` needs for this data: 'O' first, then sorted.

    For span schemes every prefix of every seen type is included, and 'O' always, so the model
    can emit I-X or E-X even where the data only ever shows B-X or S-X. NONE: the seen tags.
    """
    scheme = normalize_scheme(scheme)
    if scheme == NONE:
        seen = {tag for tags in tag_sequences for tag in tags}
        return (["O"] if "O" in seen else []) + sorted(seen - {"O"})
    kinds = {_split(tag, scheme)[1] for tags in tag_sequences for tag in tags} - {""}
    return ["O"] + sorted(f"{p}-{kind}" for kind in kinds for p in OUTPUT_PREFIXES[scheme])
