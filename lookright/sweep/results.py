"""`results.jsonl`: one row per finished training run, appended as soon as it finishes.

Appending (and flushing) each row is what makes a sweep resumable: an interrupted sweep reads the
file back and never retrains a configuration (or a successive-halving rung) that already finished.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import DataError


@dataclass
class RunResult:
    """What one training run of one configuration measured."""

    config: str
    strategy: str
    rung: int  # 0 for exhaustive runs; successive-halving rung otherwise
    steps: int  # optimizer steps completed (cumulative for resumed runs)
    total_steps: int  # steps of the full run (the budget a config gets in the exhaustive sweep)
    tokens: int  # training tokens spent by this run (not counting earlier rungs)
    train_seconds: float
    tokens_per_second: float
    peak_memory_mb: float
    validation: dict[str, Any]  # metric name, score (the headline), strict/lenient F1, token accuracy
    test: dict[str, Any] = field(default_factory=dict)
    model_dir: str | None = None
    wall_seconds: float = 0.0  # the whole run: loading, training and evaluation

    @property
    def score(self) -> float:
        return self.validation["score"]

    def key(self) -> tuple[str, str, int]:
        return (self.strategy, self.config, self.rung)


class ResultsFile:
    """Append-only JSON lines, read back on resume."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)

    def __iter__(self) -> Iterator[RunResult]:
        if not self.path.exists():
            return
        with self.path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    yield RunResult(**json.loads(line))
                except (json.JSONDecodeError, TypeError) as err:
                    raise DataError(f"not a sweep result row ({err}); remove or fix the line", self.path, number) from err

    def rows(self) -> list[RunResult]:
        return list(self)

    def append(self, result: RunResult) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(asdict(result)) + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def find(self, strategy: str, config: str, rung: int) -> RunResult | None:
        return next((r for r in self if r.key() == (strategy, config, rung)), None)


def to_dict(result: RunResult) -> dict[str, Any]:
    return asdict(result)
