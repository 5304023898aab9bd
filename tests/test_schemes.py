from __future__ import annotations

import itertools

import pytest

from lookright.data.schemes import (
    Span,
    allowed_transitions,
    convert_tags,
    detect_scheme,
    invalid_transitions,
    label_set,
    normalize_scheme,
    spans_to_tags,
    tags_to_spans,
    validate_tag,
)

# Two adjacent PER spans, a LOC span, an O word and a type that itself contains a dash.
SPANS = [Span(0, 2, "PER"), Span(2, 3, "PER"), Span(3, 6, "LOC"), Span(7, 8, "B-ARG")]
ENCODED = {
    "IOB2": ["B-PER", "I-PER", "B-PER", "B-LOC", "I-LOC", "I-LOC", "O", "B-B-ARG"],
    "IOB1": ["I-PER", "I-PER", "B-PER", "I-LOC", "I-LOC", "I-LOC", "O", "I-B-ARG"],
    "BIOES": ["B-PER", "E-PER", "S-PER", "B-LOC", "I-LOC", "E-LOC", "O", "S-B-ARG"],
}


@pytest.mark.parametrize(
    "name, canonical",
    [("bio", "IOB2"), ("iob1", "IOB1"), ("IOBES", "BIOES"), ("Bilou", "BIOES"), (" io ", "IO"), ("none", "NONE")],
)
def test_normalize_scheme(name: str, canonical: str) -> None:
    assert normalize_scheme(name) == canonical


def test_normalize_scheme_rejects_unknown_names_listing_valid_ones() -> None:
    with pytest.raises(ValueError, match="IOB1, IOB2"):
        normalize_scheme("BIOLU")


@pytest.mark.parametrize("scheme", ["IOB2", "IOB1", "BIOES"])
def test_known_encodings_decode_and_encode(scheme: str) -> None:
    assert tags_to_spans(ENCODED[scheme], scheme) == SPANS
    assert spans_to_tags(SPANS, 8, scheme) == ENCODED[scheme]


@pytest.mark.parametrize("source, target", list(itertools.permutations(["IOB1", "IOB2", "BIOES"], 2)))
def test_conversions_between_span_schemes(source: str, target: str) -> None:
    assert convert_tags(ENCODED[source], source, target) == ENCODED[target]


def test_bilou_input_reads_l_and_u_as_e_and_s() -> None:
    tags = ["U-PER", "O", "B-ORG", "I-ORG", "L-ORG"]
    assert tags_to_spans(tags, "BILOU") == [Span(0, 1, "PER"), Span(2, 5, "ORG")]
    assert convert_tags(tags, "BILOU", "BIOES") == ["S-PER", "O", "B-ORG", "I-ORG", "E-ORG"]


def _all_span_layouts(length: int, types: str = "XY") -> list[list[Span]]:
    """Every set of non-overlapping spans over `length` words with types from `types`."""
    layouts: list[list[Span]] = [[]]
    for start in range(length):
        grown = []
        for layout in layouts:
            free = not layout or layout[-1].end <= start
            if free:
                grown += [layout + [Span(start, end, t)] for end in range(start + 1, length + 1) for t in types]
        layouts += grown
    return layouts


@pytest.mark.parametrize("scheme", ["IOB1", "IOB2", "BIOES"])
def test_round_trip_every_layout(scheme: str) -> None:
    layouts = _all_span_layouts(5)
    assert len(layouts) > 300
    for spans in layouts:
        tags = spans_to_tags(spans, 5, scheme)
        assert tags_to_spans(tags, scheme) == spans
        assert invalid_transitions(tags, scheme) == []


def test_round_trip_io_merges_adjacent_spans_of_one_type() -> None:
    spans = [Span(0, 2, "X"), Span(3, 4, "Y"), Span(4, 5, "X")]
    assert spans_to_tags(spans, 5, "IO") == ["I-X", "I-X", "O", "I-Y", "I-X"]
    assert tags_to_spans(["I-X", "I-X", "O", "I-Y", "I-X"], "IO") == spans
    assert tags_to_spans(spans_to_tags([Span(0, 1, "X"), Span(1, 2, "X")], 2, "IO"), "IO") == [Span(0, 2, "X")]


def test_none_scheme_makes_every_word_a_span() -> None:
    tags = ["NNP", "VBZ", "$", "-LRB-", "O"]
    spans = tags_to_spans(tags, "NONE")
    assert spans == [Span(i, i + 1, t) for i, t in enumerate(tags)]
    assert spans_to_tags(spans, 5, "NONE") == tags
    with pytest.raises(ValueError, match="one span per word"):
        spans_to_tags(spans[:4], 5, "NONE")
    with pytest.raises(ValueError, match="no spans"):
        convert_tags(tags, "NONE", "IOB2")


@pytest.mark.parametrize(
    "tags, scheme, spans",
    [
        (["O", "I-PER", "I-PER"], "IOB2", [(1, 3, "PER")]),
        (["B-PER", "I-LOC", "O"], "IOB2", [(0, 1, "PER"), (1, 2, "LOC")]),
        (["I-PER", "B-PER"], "IOB2", [(0, 1, "PER"), (1, 2, "PER")]),
        (["B-LOC", "I-LOC", "I-PER", "I-PER"], "IOB1", [(0, 2, "LOC"), (2, 4, "PER")]),
        (["O", "B-PER", "I-PER"], "IOB1", [(1, 3, "PER")]),
        (["I-PER", "E-PER", "E-PER"], "BIOES", [(0, 2, "PER"), (2, 3, "PER")]),
        (["B-PER", "S-PER", "I-PER"], "BIOES", [(0, 1, "PER"), (1, 2, "PER"), (2, 3, "PER")]),
        (["B-PER", "I-PER", "O", "E-LOC"], "BIOES", [(0, 2, "PER"), (3, 4, "LOC")]),
        (["B-PER", "E-LOC"], "BIOES", [(0, 1, "PER"), (1, 2, "LOC")]),
        (["E-PER", "I-PER"], "BIOES", [(0, 1, "PER"), (1, 2, "PER")]),
        (["I-X", "I-Y", "I-Y", "O", "I-X"], "IO", [(0, 1, "X"), (1, 3, "Y"), (4, 5, "X")]),
    ],
)
def test_invalid_sequences_are_repaired_like_conlleval(tags: list[str], scheme: str, spans: list[tuple]) -> None:
    assert tags_to_spans(tags, scheme) == [Span(*s) for s in spans]


def test_repair_agrees_with_seqeval_on_iob2() -> None:
    from seqeval.metrics.sequence_labeling import get_entities

    labels = ["O", "B-X", "I-X", "B-Y", "I-Y"]
    for tags in itertools.product(labels, repeat=4):
        expected = [Span(s, e + 1, t) for t, s, e in get_entities(list(tags))]
        assert tags_to_spans(list(tags), "IOB2") == expected, tags


def test_types_may_contain_dashes() -> None:
    assert tags_to_spans(["B-GPE-LOC", "I-GPE-LOC"], "IOB2") == [Span(0, 2, "GPE-LOC")]


@pytest.mark.parametrize(
    "tag, scheme", [("NN", "IOB2"), ("B-", "IOB2"), ("E-PER", "IOB2"), ("B-PER", "IO"), ("X-PER", "BIOES")]
)
def test_tags_outside_the_scheme_are_rejected(tag: str, scheme: str) -> None:
    with pytest.raises(ValueError, match="not valid in scheme"):
        tags_to_spans([tag], scheme)
    with pytest.raises(ValueError):
        validate_tag(tag, scheme)


def test_spans_to_tags_rejects_overlaps_and_out_of_range() -> None:
    with pytest.raises(ValueError, match="overlap"):
        spans_to_tags([Span(0, 2, "X"), Span(1, 3, "Y")], 3, "IOB2")
    with pytest.raises(ValueError, match="outside"):
        spans_to_tags([Span(2, 4, "X")], 3, "IOB2")


@pytest.mark.parametrize(
    "tags, scheme, positions",
    [
        (["O", "I-PER", "I-PER"], "IOB2", [1]),
        (["B-PER", "I-LOC", "I-LOC"], "IOB2", [1]),
        (["I-PER"], "IOB2", [0]),
        (["B-PER", "I-PER", "O", "B-LOC"], "IOB2", []),
        (["B-PER", "O", "I-PER", "B-LOC"], "IOB1", [0, 3]),
        (["I-PER", "B-PER"], "IOB1", []),
        (["B-PER", "O", "S-LOC", "I-LOC"], "BIOES", [1, 3]),
        (["B-PER", "I-PER"], "BIOES", [1]),
        (["S-PER", "B-PER", "E-PER", "E-PER"], "BIOES", [3]),
        (["I-X", "O", "I-Y"], "IO", []),
    ],
)
def test_invalid_transitions(tags: list[str], scheme: str, positions: list[int]) -> None:
    assert invalid_transitions(tags, scheme) == positions


@pytest.mark.parametrize(
    "sequences, scheme",
    [
        ([["B-PER", "I-PER", "O"], ["O", "B-LOC"]], "IOB2"),
        ([["I-PER", "I-PER", "O"], ["I-LOC", "B-LOC"]], "IOB1"),
        ([["B-PER", "I-ORG"]], "IOB2"),  # breaks each scheme once: a tie is IOB2
        ([["B-PER", "I-PER", "O"]] * 5 + [["O", "I-PER"]], "IOB2"),  # a slip in IOB2 data does not make it IOB1
        ([["I-PER", "B-PER", "O"]] * 5 + [["O", "B-LOC"]], "IOB1"),  # nor a stray B-X in IOB1 data IOB2
        ([["S-PER", "O"], ["B-LOC", "E-LOC"]], "BIOES"),
        ([["U-PER", "O"]], "BIOES"),
        ([["I-PER", "O", "I-LOC"]], "IO"),
        ([["NNP", "VBZ", "."], ["-LRB-", "$"]], "NONE"),
        ([["B-NP", "NN"]], "NONE"),
        ([["O", "O"]], "NONE"),
    ],
)
def test_detect_scheme(sequences: list[list[str]], scheme: str) -> None:
    assert detect_scheme(iter(sequences)) == scheme


def test_label_set_completes_prefixes() -> None:
    data = [["B-PER", "O"], ["S-LOC"]]
    assert label_set(data, "BIOES") == ["O", "B-LOC", "B-PER", "E-LOC", "E-PER", "I-LOC", "I-PER", "S-LOC", "S-PER"]
    assert label_set([["B-PER"]], "IOB2") == ["O", "B-PER", "I-PER"]
    assert label_set([["I-PER", "O"]], "IO") == ["O", "I-PER"]
    assert label_set([["U-PER", "L-PER"]], "BILOU") == ["O", "B-PER", "E-PER", "I-PER", "S-PER"]
    assert label_set([["VBZ", "NN"], ["$"]], "NONE") == ["$", "NN", "VBZ"]


def test_allowed_transitions_iob2() -> None:
    labels = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
    t = allowed_transitions(labels, "IOB2")
    assert t.start_allowed == [True, True, False, True, False]
    assert t.end_allowed == [True] * 5
    at = {(p, q): t.transition[i][j] for i, p in enumerate(labels) for j, q in enumerate(labels)}
    assert at["B-PER", "I-PER"] and at["I-PER", "I-PER"] and at["I-PER", "B-LOC"] and at["O", "B-PER"]
    assert not at["O", "I-PER"] and not at["B-PER", "I-LOC"] and not at["I-LOC", "I-PER"]


def test_allowed_transitions_bioes() -> None:
    labels = ["O", "B-X", "I-X", "E-X", "S-X", "B-Y", "E-Y"]
    t = allowed_transitions(labels, "BIOES")
    assert t.start_allowed == [True, True, False, False, True, True, False]
    assert t.end_allowed == [True, False, False, True, True, False, True]
    at = {(p, q): t.transition[i][j] for i, p in enumerate(labels) for j, q in enumerate(labels)}
    allowed = "B-X>I-X B-X>E-X I-X>E-X E-X>B-Y S-X>S-X O>S-X E-Y>O"
    forbidden = "B-X>O B-X>E-Y I-X>B-Y O>I-X E-X>E-X S-X>I-X B-Y>S-X"
    assert all(at[tuple(pair.split(">"))] for pair in allowed.split())
    assert not any(at[tuple(pair.split(">"))] for pair in forbidden.split())


@pytest.mark.parametrize("scheme", ["IOB1", "IO", "NONE"])
def test_allowed_transitions_unconstrained_schemes(scheme: str) -> None:
    labels = ["O", "I-X", "I-Y"]
    t = allowed_transitions(labels, scheme)
    assert t.start_allowed == t.end_allowed == [True] * 3
    assert t.transition == [[True] * 3] * 3
