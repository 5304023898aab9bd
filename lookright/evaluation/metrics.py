"""Score word-level tag sequences, whatever produced them.

Papers mix strict span F1 (seqeval mode="strict") and conlleval-style lenient F1, which differ
exactly on ill-formed predictions (an I- tag that continues nothing), so both are always computed
from the same predictions. Everything works on plain tag lists, so any prediction file can be scored.
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from collections.abc import Sequence

import numpy as np
from seqeval.metrics import classification_report
from seqeval.scheme import IOB2, IOBES

from ..data.prepare import Repairs, find_repairs
from ..data.schemes import OUTPUT_PREFIXES, SCHEMES, convert_tags, tags_to_spans
from .report import (
    Confusion,
    Counts,
    ErrorExample,
    EvaluationReport,
    Scores,
    SpanMetrics,
    SpanText,
    TypeErrors,
    TypeScores,
)

Span = tuple[int, int, str]  # (start, end exclusive, type)


def to_iob2(tags: Sequence[str], scheme: str) -> list[str]:
    """Rewrite one sentence in IOB2, the encoding that lenient scoring and span extraction read."""
    if scheme in ("IOB2", "NONE"):
        return list(tags)
    return convert_tags(tags, scheme, "IOB2")


def extract_spans(iob2_tags: Sequence[str]) -> list[Span]:
    """Spans of an IOB2 sentence; a span opens at B- or at an I- that continues nothing (as conlleval)."""
    return [(span.start, span.end, span.label) for span in tags_to_spans(iob2_tags, "IOB2")]


def gold_log_loss(scores: Sequence[np.ndarray], gold: Sequence[Sequence[str]], labels: Sequence[str]) -> float:
    """Mean -log p(gold label) over all words, from per-sentence (words x labels) log-probabilities.

    Smooth where F1 is still noise (after a few training steps), so successive halving and the
    probe rank configurations by it.
    """
    index = {label: i for i, label in enumerate(labels)}
    picked = [s[np.arange(len(tags)), [index[t] for t in tags]] for s, tags in zip(scores, gold) if len(tags)]
    return float(-np.concatenate(picked).mean()) if picked else 0.0


def evaluate_tags(
    gold: Sequence[Sequence[str]],
    pred: Sequence[Sequence[str]],
    scheme: str,
    tokens: Sequence[Sequence[str]] | None = None,
    sources: Sequence[str] | None = None,
    max_examples: int = 5,
    *,
    gold_repairs: Repairs | None = None,
    pred_repairs: Repairs | None = None,
) -> EvaluationReport:
    """Strict and lenient span metrics, token accuracy, confusions and located error examples.

    `scheme` is one of IOB1, IOB2, BIOES, IO or NONE (plain per-word tags such as POS, where the
    "span" metrics are per-tag scores over words and strict equals lenient). `gold_repairs`: what
    the caller repaired in the gold tags before; `pred_repairs` defaults to the invalid transitions
    of `pred` as given (repaired only in IOB1, which strict scoring reads through IOB2).
    """
    _validate(gold, pred, scheme, tokens, sources)
    if pred_repairs is None:
        pred_repairs = find_repairs(pred, sources, scheme, repaired=scheme == "IOB1")
    words = sum(len(sentence) for sentence in gold)
    correct_words = sum(g == p for gs, ps in zip(gold, pred) for g, p in zip(gs, ps))

    if scheme == "NONE":
        strict = lenient = _tag_metrics(gold, pred)
        gold_spans = [[(i, i + 1, tag) for i, tag in enumerate(sentence)] for sentence in gold]
        pred_spans = [[(i, i + 1, tag) for i, tag in enumerate(sentence)] for sentence in pred]
    else:
        gold2 = [to_iob2(sentence, scheme) for sentence in gold]
        pred2 = [to_iob2(sentence, scheme) for sentence in pred]
        if scheme == "BIOES":
            strict_inputs, seqeval_scheme, note = (gold, pred), IOBES, "IOBES"
        else:
            strict_inputs, seqeval_scheme, note = (gold2, pred2), IOB2, "IOB2"
            if scheme != "IOB2":
                note += f" after {scheme}->IOB2 conversion"
        strict = _seqeval_metrics(
            *strict_inputs, f"strict (seqeval mode=strict, scheme={note})", mode="strict", scheme=seqeval_scheme
        )
        lenient = _seqeval_metrics(gold2, pred2, "lenient (conlleval; seqeval default mode on IOB2 tags)")
        gold_spans = [extract_spans(sentence) for sentence in gold2]
        pred_spans = [extract_spans(sentence) for sentence in pred2]

    errors, spurious, type_confusions, examples = _error_analysis(gold_spans, pred_spans, tokens, sources, max_examples)
    return EvaluationReport(
        scheme=scheme,
        strict=strict,
        lenient=lenient,
        token_accuracy=correct_words / words,
        confusion=_confusion(gold, pred),
        errors=errors,
        spurious=spurious,
        type_confusions=type_confusions,
        examples=examples,
        counts=Counts(
            sentences=len(gold),
            words=words,
            gold_spans=sum(map(len, gold_spans)),
            pred_spans=sum(map(len, pred_spans)),
        ),
        repairs={"gold": gold_repairs, "predictions": pred_repairs},
    )


def _validate(
    gold: Sequence[Sequence[str]],
    pred: Sequence[Sequence[str]],
    scheme: str,
    tokens: Sequence[Sequence[str]] | None,
    sources: Sequence[str] | None,
) -> None:
    """Fail loudly on misaligned inputs or tags foreign to the scheme, which would silently skew scores."""
    if scheme not in SCHEMES:
        raise ValueError(f"unknown scheme {scheme!r}; expected one of {', '.join(SCHEMES)}")
    if len(gold) != len(pred):
        raise ValueError(f"gold has {len(gold)} sentences but pred has {len(pred)}")
    if sources is not None and len(sources) != len(gold):
        raise ValueError(f"sources has {len(sources)} entries but there are {len(gold)} sentences")
    if tokens is not None and len(tokens) != len(gold):
        raise ValueError(f"tokens has {len(tokens)} sentences but gold has {len(gold)}")
    for index, (g, p) in enumerate(zip(gold, pred)):
        if len(g) != len(p):
            raise ValueError(f"sentence {index}: gold has {len(g)} tags but pred has {len(p)}")
        if tokens is not None and len(tokens[index]) != len(g):
            raise ValueError(f"sentence {index}: tokens has {len(tokens[index])} words but gold has {len(g)} tags")
        if scheme != "NONE":
            for side, tags in (("gold", g), ("pred", p)):
                for position, tag in enumerate(tags):
                    if tag != "O" and not (len(tag) > 2 and tag[1] == "-" and tag[0] in OUTPUT_PREFIXES[scheme]):
                        raise ValueError(
                            f"sentence {index}, word {position}: {side} tag {tag!r} is not valid {scheme} "
                            f"(expected 'O' or one of {', '.join(x + '-TYPE' for x in OUTPUT_PREFIXES[scheme])})"
                        )
    if not any(gold):
        raise ValueError("nothing to evaluate: gold has no words")


def _seqeval_metrics(
    gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]], description: str, **seqeval_kwargs: object
) -> SpanMetrics:
    with warnings.catch_warnings():
        # With no span anywhere seqeval averages an empty array; that NaN macro becomes 0 below.
        warnings.simplefilter("ignore", RuntimeWarning)
        rows = classification_report(
            [list(s) for s in gold], [list(s) for s in pred], output_dict=True, zero_division=0, **seqeval_kwargs
        )
    micro, macro = rows.pop("micro avg"), rows.pop("macro avg")
    rows.pop("weighted avg")
    return SpanMetrics(
        description=description,
        micro=_scores(micro),
        macro=_scores(macro),
        per_type={
            type_: TypeScores(**vars(_scores(row)), support=int(row["support"])) for type_, row in sorted(rows.items())
        },
    )


def _scores(row: dict[str, float]) -> Scores:
    def clean(value: float) -> float:
        return 0.0 if math.isnan(value) else float(value)

    return Scores(clean(row["precision"]), clean(row["recall"]), clean(row["f1-score"]))


def _tag_metrics(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> SpanMetrics:
    """Per-tag P/R/F1 over words; every word is one gold and one predicted instance, so micro F1 is accuracy."""
    gold_counts = Counter(tag for sentence in gold for tag in sentence)
    pred_counts = Counter(tag for sentence in pred for tag in sentence)
    hits = Counter(g for gs, ps in zip(gold, pred) for g, p in zip(gs, ps) if g == p)
    per_type = {
        tag: TypeScores(**vars(_prf(hits[tag], pred_counts[tag], gold_counts[tag])), support=gold_counts[tag])
        for tag in sorted(gold_counts | pred_counts)
    }
    n = len(per_type)
    macro = Scores(
        sum(s.precision for s in per_type.values()) / n,
        sum(s.recall for s in per_type.values()) / n,
        sum(s.f1 for s in per_type.values()) / n,
    )
    micro = _prf(sum(hits.values()), sum(pred_counts.values()), sum(gold_counts.values()))
    return SpanMetrics("per-tag over words (no spans: strict == lenient)", micro, macro, per_type)


def _prf(tp: int, predicted: int, actual: int) -> Scores:
    precision = tp / predicted if predicted else 0.0
    recall = tp / actual if actual else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Scores(precision, recall, f1)


def _confusion(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> Confusion:
    labels = sorted({tag for s in (*gold, *pred) for tag in s}, key=lambda tag: (tag != "O", tag))
    index = {label: i for i, label in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    for gs, ps in zip(gold, pred):
        for g, p in zip(gs, ps):
            matrix[index[g]][index[p]] += 1
    return Confusion(labels, matrix)


def _error_analysis(
    gold_spans: list[list[Span]],
    pred_spans: list[list[Span]],
    tokens: Sequence[Sequence[str]] | None,
    sources: Sequence[str] | None,
    max_examples: int,
) -> tuple[dict[str, TypeErrors], int, dict[str, int], dict[str, list[ErrorExample]]]:
    """Put every gold span in exactly one bucket, and every prediction overlapping no gold span in `spurious`.

    Bucket precedence: correct > wrong_type (same boundaries) > boundary (overlap, same type)
    > type_and_boundary (overlap, other type only) > missed (no overlap).
    """
    buckets: dict[str, Counter[str]] = {}
    confusions: Counter[str] = Counter()
    examples: dict[str, list[ErrorExample]] = {"spurious": []}
    spurious = 0

    for index, (golds, preds) in enumerate(zip(gold_spans, pred_spans)):
        words = tokens[index] if tokens is not None else None

        def example(kind: str, gold: Span | None, overlapping: list[Span]) -> ErrorExample:
            return ErrorExample(
                kind=kind,
                sentence_index=index,
                source=sources[index] if sources is not None else None,
                sentence=" ".join(words) if words is not None else None,
                gold=_span_text(gold, words) if gold else None,
                pred=[_span_text(span, words) for span in overlapping],
            )

        for g in golds:
            overlapping = [p for p in preds if p[0] < g[1] and g[0] < p[1]]
            same_bounds = [p for p in overlapping if p[:2] == g[:2]]
            if g in overlapping:
                kind = "correct"
            elif same_bounds:
                kind = "wrong_type"
                confusions[f"{g[2]}->{same_bounds[0][2]}"] += 1
            elif any(p[2] == g[2] for p in overlapping):
                kind = "boundary"
            elif overlapping:
                kind = "type_and_boundary"
            else:
                kind = "missed"
            buckets.setdefault(g[2], Counter())[kind] += 1
            type_examples = examples.setdefault(g[2], [])
            if kind != "correct" and len(type_examples) < max_examples:
                type_examples.append(example(kind, g, overlapping))
        for p in preds:
            if not any(p[0] < g[1] and g[0] < p[1] for g in golds):
                spurious += 1
                if len(examples["spurious"]) < max_examples:
                    examples["spurious"].append(example("spurious", None, [p]))

    errors = {type_: TypeErrors(**counts) for type_, counts in sorted(buckets.items())}
    ordered = {type_: examples[type_] for type_ in sorted(examples) if type_ != "spurious"}
    return errors, spurious, dict(confusions.most_common()), {**ordered, "spurious": examples["spurious"]}


def _span_text(span: Span, words: Sequence[str] | None) -> SpanText:
    start, end, type_ = span
    return SpanText(start, end, type_, " ".join(words[start:end]) if words is not None else None)
