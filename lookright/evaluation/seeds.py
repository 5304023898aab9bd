"""Scores over several seeds: mean, sample standard deviation, and every seed's value kept.

One seed of a small model moves F1 by points, so a config or method is chosen on the mean over
seeds and reported with its spread (the paper averages 5 seeds). The averaged score dicts keep the
keys of a single run's (`sweep.results.report_scores`), so ranking and tables read them unchanged;
`sd` and `per_seed` (each a dict by key) are added next to them.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any


def parse_seeds(text: str | Sequence[int] | None) -> list[int] | None:
    """`"42,43,44"` (or a list) as distinct ints; None when not given."""
    if text is None:
        return None
    parts = [p.strip() for p in text.split(",")] if isinstance(text, str) else list(text)
    seeds = []
    for part in parts:
        try:
            seed = int(part)
        except (TypeError, ValueError):
            raise ValueError(f"--seeds takes comma-separated integers, e.g. 42,43,44; got {text!r}") from None
        if seed in seeds:
            raise ValueError(f"--seeds lists seed {seed} twice")
        seeds.append(seed)
    if not seeds:
        raise ValueError("--seeds is empty: give comma-separated integers, e.g. 42,43,44")
    return seeds


def mean_sd(values: Sequence[float]) -> tuple[float, float | None]:
    """Mean and sample standard deviation (n - 1); no sd for a single value."""
    values = [float(v) for v in values]
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else None)


def average_scores(scores: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The mean of every numeric entry of several runs' score dicts, plus `sd` and `per_seed` per entry."""
    if not scores:
        return {}
    if len(scores) == 1:
        return dict(scores[0])
    averaged: dict[str, Any] = {}
    spread: dict[str, float | None] = {}
    each: dict[str, list[float]] = {}
    for key, first in scores[0].items():
        values = [s.get(key) for s in scores]
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            averaged[key], spread[key] = mean_sd(values)
            each[key] = [float(v) for v in values]
        elif all(v is None for v in values):
            averaged[key] = None
        else:
            averaged[key] = first  # the metric's name, the same for every seed
    averaged["sd"] = spread
    averaged["per_seed"] = each
    return averaged


def score_text(scores: dict[str, Any], key: str = "score", digits: int = 4, *, each: bool = True) -> str:
    """`0.8123` for one run; `0.8123 ± 0.0040 (0.8090, 0.8110, 0.8170)` for a mean over seeds."""
    value = scores[key]
    if key not in scores.get("per_seed", {}):
        return f"{value:.{digits}f}"
    text = f"{value:.{digits}f} ± {scores['sd'][key]:.{digits}f}"
    if each:
        text += " (" + ", ".join(f"{v:.{digits}f}" for v in scores["per_seed"][key]) + ")"
    return text
