"""One row per method of a comparison, appended to `results.jsonl` as each method finishes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..sweep.results import JsonLines

RESULTS_FILE = "results.jsonl"


@dataclass
class CompareRow:
    """What one method measured."""

    method: str  # the spec as given, e.g. unmask:BEST
    detail: str  # what actually ran, e.g. unmask 0011
    validation: dict[str, Any]
    test: dict[str, Any]
    train_seconds: float
    tokens_seen: int
    tokens_per_second: float
    steps: int
    test_words_per_second: float
    peak_memory_mb: float  # peak RSS (CPU) or GPU memory of the whole run, evaluation included
    model_dir: str
    search_seconds: float = 0.0  # unmask:BEST: the configuration search before training
    search_tokens: int = 0
    seed: int | None = None  # None: rows written before seeds were recorded (the comparison's base seed)
    seeds: list[int] = field(default_factory=list)  # a mean over several seeds: which (scores are means)


def aggregate_rows(rows: Sequence[CompareRow]) -> CompareRow:
    """One method's rows over several seeds as one: mean scores (with sd and every seed's), summed cost."""
    from ..evaluation.seeds import average_scores

    if len(rows) == 1:
        return rows[0]
    first = rows[0]
    n = len(rows)
    return CompareRow(
        method=first.method, detail=first.detail,
        validation=average_scores([r.validation for r in rows]), test=average_scores([r.test for r in rows]),
        train_seconds=round(sum(r.train_seconds for r in rows), 1), tokens_seen=sum(r.tokens_seen for r in rows),
        tokens_per_second=round(sum(r.tokens_per_second for r in rows) / n, 1), steps=first.steps,
        test_words_per_second=round(sum(r.test_words_per_second for r in rows) / n, 1),
        peak_memory_mb=max(r.peak_memory_mb for r in rows), model_dir=first.model_dir,
        search_seconds=first.search_seconds, search_tokens=first.search_tokens, seeds=[r.seed for r in rows],
    )


def results_file(output: str | Path) -> JsonLines[CompareRow]:
    """The comparison's `results.jsonl` (rows of earlier versions carry an unused `extra`)."""
    return JsonLines(Path(output) / RESULTS_FILE, CompareRow, "comparison row", ignored=("extra",))
