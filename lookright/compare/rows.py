"""One row per method of a comparison, appended to `results.jsonl` as each method finishes."""

from __future__ import annotations

from dataclasses import dataclass
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


def results_file(output: str | Path) -> JsonLines[CompareRow]:
    """The comparison's `results.jsonl` (rows of earlier versions carry an unused `extra`)."""
    return JsonLines(Path(output) / RESULTS_FILE, CompareRow, "comparison row", ignored=("extra",))
