"""`results.jsonl`: one row per finished training run, appended as soon as it finishes.

Appending (and flushing) each row is what makes sweeps and comparisons resumable: an interrupted
one reads the file back and never retrains a configuration, rung or method that already finished.
`JsonLines` is that file for any row type (sweep runs here, comparison rows in `compare`);
`report_scores` is the one place that says which numbers of a run's report a row keeps.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from ..errors import DataError, DataWarning

Row = TypeVar("Row")


class JsonLines(Generic[Row]):
    """Append-only JSON lines of one dataclass, read back on resume; a bad line names file and line."""

    def __init__(self, path: str | os.PathLike, row_type: type[Row], what: str, *, ignored: Sequence[str] = ()) -> None:
        self.path = Path(path)
        self.row_type = row_type
        self.what = what  # "sweep result row", for errors
        self.ignored = frozenset(ignored)  # keys rows written by earlier versions have and this one dropped

    def __iter__(self) -> Iterator[Row]:
        if not self.path.exists():
            return
        with self.path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                if not line.endswith("\n") and not _parses(line):
                    warnings.warn(DataWarning(
                        f"{self.path}:{number}: the last {self.what} was cut off while it was written (a crash or "
                        "a full disk); it is left out and that run is read again from its directory"
                    ), stacklevel=2)
                    return
                try:
                    data = json.loads(line)
                    yield self.row_type(**{k: v for k, v in data.items() if k not in self.ignored})
                except (json.JSONDecodeError, TypeError, AttributeError) as err:
                    raise DataError(f"not a {self.what} ({err}); remove or fix the line", self.path, number) from err

    def rows(self) -> list[Row]:
        return list(self)

    def append(self, row: Row) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._mend_tail()
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(asdict(row)) + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def _mend_tail(self) -> None:
        """Before appending: end a whole last row that lacks its newline, drop one cut off mid-write."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return
        if not data or data.endswith(b"\n"):
            return
        start = data.rfind(b"\n") + 1
        with self.path.open("r+b") as handle:
            if _parses(data[start:].decode("utf-8", errors="replace")):
                handle.seek(0, os.SEEK_END)
                handle.write(b"\n")
            else:
                handle.truncate(start)


def _parses(line: str) -> bool:
    try:
        json.loads(line)
    except json.JSONDecodeError:
        return False
    return True


def report_scores(report: dict[str, Any]) -> dict[str, Any]:
    """What a results row keeps of an evaluation report (`EvaluationReport.to_dict()`, as in a model card)."""
    return {
        "metric": report["headline"]["name"],
        "score": report["headline"]["value"],
        "strict_f1": report["strict"]["micro"]["f1"],
        "lenient_f1": report["lenient"]["micro"]["f1"],
        "token_accuracy": report["token_accuracy"],
        "log_loss": report.get("log_loss"),
    }


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
    seed: int | None = None  # None: rows written before seeds were recorded (the sweep's base seed)
    seeds: list[int] = field(default_factory=list)  # a mean over several seeds: which (scores are means)

    @property
    def score(self) -> float:
        return self.validation["score"]

    def key(self) -> tuple[str, str, int]:
        return (self.strategy, self.config, self.rung)

    def seed_or(self, base_seed: int | None) -> int | None:
        """The run's seed; rows written before seeds were recorded ran with the sweep's base seed."""
        return self.seed if self.seed is not None else base_seed


class ResultsFile(JsonLines[RunResult]):
    """A sweep's `results.jsonl`."""

    def __init__(self, path: str | os.PathLike) -> None:
        super().__init__(path, RunResult, "sweep result row")

    def find(self, strategy: str, config: str, rung: int) -> RunResult | None:
        return next((r for r in self if r.key() == (strategy, config, rung)), None)


def aggregate_runs(rows: Sequence[RunResult]) -> RunResult:
    """One configuration's runs over several seeds as one row: mean scores (with sd and every seed's)."""
    from ..evaluation.seeds import average_scores

    if len(rows) == 1:
        return rows[0]
    first = rows[0]
    return RunResult(
        config=first.config,
        strategy=first.strategy,
        rung=first.rung,
        steps=first.steps,
        total_steps=first.total_steps,
        tokens=sum(r.tokens for r in rows),
        train_seconds=round(sum(r.train_seconds for r in rows), 1),
        tokens_per_second=round(sum(r.tokens_per_second for r in rows) / len(rows), 1),
        peak_memory_mb=max(r.peak_memory_mb for r in rows),
        validation=average_scores([r.validation for r in rows]),
        test=average_scores([r.test for r in rows]) if all(r.test for r in rows) else {},
        model_dir=first.model_dir,
        wall_seconds=round(sum(r.wall_seconds for r in rows), 1),
        seeds=[r.seed for r in rows],
    )


def to_dict(result: RunResult) -> dict[str, Any]:
    return asdict(result)
