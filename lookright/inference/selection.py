"""Active learning: rank unlabelled texts by how unsure the model is, so annotators label those first.

A token classifier exposes every word's label distribution (`word_scores`); a word's margin is
the gap between its two most probable labels, its entropy the spread of the distribution
(divided by log(labels), so 0..1). Per text (all its sentences' words together):

- `margin`: 1 - the mean margin (the default: many unsure words);
- `min-margin`: 1 - the smallest margin (one very unsure word is enough);
- `entropy`: the mean normalised entropy;
- `least-confidence`: 1 - the mean probability of the chosen labels. The only one a generative
  model supports: it exposes the probability of the tokens it generated, not a distribution.

Scores are rounded to 6 decimals and ranked highest first, ties by input position, so a fixed
model and input give the same selection whatever the batching. Texts without words are not ranked.
Memory stays bounded: texts are scored `chunk_size` at a time and only the best `top` are kept.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import islice

import numpy as np

from ..errors import ModelError
from .tagger import TaggedText, Tagger

STRATEGIES = ("margin", "min-margin", "entropy", "least-confidence")
DISTRIBUTION_STRATEGIES = ("margin", "min-margin", "entropy")
DECIMALS = 6


@dataclass
class Selected:
    """One selected text: its input position (0-based), its uncertainty and the model's pre-annotation."""

    index: int
    uncertainty: float
    tagged: TaggedText


@dataclass
class Selection:
    """The `top` most uncertain texts, most uncertain first, and how many texts were seen."""

    records: list[Selected] = field(default_factory=list)
    seen: int = 0
    empty: int = 0  # texts without words: nothing to label, not ranked


def check_strategy(strategy: str, tagger_class: type) -> None:
    """Refuse a strategy the tagger cannot compute, before any text is tagged."""
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown selection strategy {strategy!r}; valid: {', '.join(STRATEGIES)}")
    if strategy in DISTRIBUTION_STRATEGIES and not hasattr(tagger_class, "word_scores"):
        raise ModelError(
            f"strategy {strategy} needs every word's label probabilities, which a {tagger_class.__name__} does not "
            "expose (it generates spans); use least-confidence (1 - the mean probability of its generated tokens)"
        )


def word_uncertainty(scores: np.ndarray, strategy: str) -> np.ndarray:
    """Per word of a (words x labels) log-probability array: its margin or normalised entropy."""
    probs = np.exp(scores.astype(np.float64))
    if strategy == "entropy":
        entropy = -(probs * np.where(probs > 0, np.log(np.clip(probs, 1e-300, None)), 0.0)).sum(axis=1)
        return entropy / math.log(scores.shape[1]) if scores.shape[1] > 1 else np.zeros(len(scores))
    if scores.shape[1] < 2:
        return np.ones(len(scores))
    top2 = np.sort(probs, axis=1)[:, -2:]
    return top2[:, 1] - top2[:, 0]


def text_uncertainty(values: np.ndarray, strategy: str) -> float | None:
    """A text's uncertainty from its words' margins, entropies or chosen-label probabilities."""
    if len(values) == 0:
        return None
    if strategy == "entropy":
        value = float(values.mean())
    elif strategy == "min-margin":
        value = 1.0 - float(values.min())
    else:  # margin, least-confidence: one minus the mean margin / probability
        value = 1.0 - float(values.mean())
    return round(value, DECIMALS)


def score_texts(
    tagger: Tagger,
    texts: Sequence[str] | Sequence[Sequence[str]],
    strategy: str = "margin",
    *,
    batch_size: int | None = None,
    split_sentences: bool = True,
) -> list[tuple[TaggedText, float | None]]:
    """Each text's pre-annotation (as `predict` gives it) and uncertainty (None: no words), one model pass."""
    check_strategy(strategy, type(tagger))
    prepared = tagger.prepare_texts(texts, split_sentences=split_sentences)
    if strategy in DISTRIBUTION_STRATEGIES:
        scores = tagger.word_scores(prepared.units, batch_size=batch_size)
        labelled = [tagger.decode(s) for s in scores]
        values = [word_uncertainty(s, strategy) for s in scores]
    else:
        labelled = tagger.label_words(prepared.units, batch_size=batch_size)
        values = [np.asarray(probs, dtype=np.float64) for _, probs in labelled]
    tagged = tagger.tagged_texts(prepared, labelled)
    out, unit = [], 0
    for result, count in zip(tagged, prepared.unit_counts()):
        mine = values[unit : unit + count]
        unit += count
        joined = np.concatenate(mine) if mine else np.zeros(0)
        out.append((result, text_uncertainty(joined, strategy)))
    return out


def select(
    tagger: Tagger,
    texts: Iterable[str | Sequence[str]],
    top: int,
    strategy: str = "margin",
    *,
    batch_size: int | None = None,
    split_sentences: bool = True,
    chunk_size: int = 512,
) -> Selection:
    """The `top` texts the model is least sure about, most uncertain first (ties: earlier input first)."""
    if top < 1:
        raise ValueError(f"top must be at least 1, got {top}")
    check_strategy(strategy, type(tagger))
    heap: list[tuple[float, int, TaggedText]] = []  # (uncertainty, -index): the root is the first to drop
    selection = Selection()
    iterator = iter(texts)
    while chunk := list(islice(iterator, chunk_size)):
        scored = score_texts(tagger, chunk, strategy, batch_size=batch_size, split_sentences=split_sentences)
        for tagged, uncertainty in scored:
            index = selection.seen
            selection.seen += 1
            if uncertainty is None:
                selection.empty += 1
                continue
            entry = (uncertainty, -index, tagged)
            if len(heap) < top:
                heapq.heappush(heap, entry)
            elif entry[:2] > heap[0][:2]:
                heapq.heapreplace(heap, entry)
    ranked = sorted(heap, key=lambda e: (-e[0], -e[1]))
    selection.records = [Selected(-negative, uncertainty, tagged) for uncertainty, negative, tagged in ranked]
    return selection
