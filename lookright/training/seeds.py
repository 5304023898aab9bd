"""`lookright train --seeds 42,43,44`: the same run once per seed, and the spread the seeds show.

One seed of a small model moves F1 by points, so a result worth reporting is a mean with its
sample standard deviation (the paper averages 5 seeds). Each seed trains into OUTPUT/seed-N, an
ordinary run directory (the model of that seed); `seeds.jsonl` gets a row as each seed finishes,
so an interrupted run trains only the seeds it has not finished. `seeds.{md,json}` hold the table.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from rich.console import Console

from ..console import print_plain
from ..errors import LookrightError
from ..evaluation.seeds import average_scores, mean_sd, score_text
from ..modeling.artifact import CARD_FILE
from ..outputs import write_text_atomic
from ..sweep.results import JsonLines, report_scores
from .config import TrainConfig
from .rundir import has_checkpoint, seed_dir

SEEDS_FILE = "seeds.jsonl"


@dataclass
class SeedRun:
    """What one seed's run measured."""

    seed: int
    model_dir: str
    validation: dict[str, Any] = field(default_factory=dict)
    test: dict[str, Any] = field(default_factory=dict)
    train_seconds: float = 0.0
    tokens_per_second: float = 0.0
    steps: int = 0


@dataclass
class SeedsSummary:
    """Every seed's run, and the mean ± sd of their scores."""

    runs: list[SeedRun]
    validation: dict[str, Any]
    test: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"seeds": [r.seed for r in self.runs], "validation": self.validation, "test": self.test,
                "train_seconds": round(sum(r.train_seconds for r in self.runs), 1),
                "runs": [asdict(r) for r in self.runs]}


def train_seeds(cfg: TrainConfig, seeds: Sequence[int], console: Console | None = None,
                trainer: Callable | None = None) -> SeedsSummary:
    """Train `cfg` once per seed (skipping seeds already in seeds.jsonl) and write seeds.{md,json}."""
    from . import train as run_train
    from .distributed import is_main_process

    console = console or Console(stderr=True)
    trainer = trainer or run_train
    output = Path(cfg.output)
    if (output / CARD_FILE).exists():
        raise LookrightError(f"{output} holds a single trained model ({CARD_FILE}); --seeds writes one run per seed "
                             "into OUTPUT/seed-N: choose another --output")
    runs = JsonLines(output / SEEDS_FILE, SeedRun, "seed run row")
    if cfg.overwrite and runs.path.exists() and is_main_process():
        runs.path.unlink()  # --overwrite: every seed is trained again
    done = {row.seed: row for row in runs}
    for index, seed in enumerate(seeds, start=1):
        if seed in done:
            print_plain(console, f"seed {seed}: already trained into {done[seed].model_dir}, skipped "
                                 f"(delete its line in {runs.path} to retrain)")
            continue
        console.rule(f"seed {seed} ({index}/{len(seeds)})")
        run_cfg = replace(cfg, seed=seed, output=str(seed_dir(output, seed)))
        if cfg.resume and not has_checkpoint(run_cfg.output):  # --resume continues the seed that was stopped
            run_cfg = replace(run_cfg, resume=False)            # and starts the ones not begun yet
        result = trainer(run_cfg, console=console)
        row = SeedRun(
            seed=seed, model_dir=run_cfg.output,
            validation=report_scores(result.validation.to_dict()) if result.validation is not None else {},
            test=report_scores(result.test.to_dict()) if result.test is not None else {},
            train_seconds=round(result.train_seconds, 1), tokens_per_second=round(result.tokens_per_second, 1),
            steps=result.steps,
        )
        if is_main_process():
            runs.append(row)
        done[seed] = row
    ordered = [done[seed] for seed in seeds]
    summary = SeedsSummary(
        runs=ordered,
        validation=average_scores([r.validation for r in ordered]) if all(r.validation for r in ordered) else {},
        test=average_scores([r.test for r in ordered]) if all(r.test for r in ordered) else {},
    )
    if is_main_process():
        write_text_atomic(output / "seeds.json", json.dumps(summary.to_dict(), indent=2) + "\n")
        write_text_atomic(output / "seeds.md", markdown(summary))
    return summary


def table(summary: SeedsSummary) -> tuple[list[str], list[list[str]]]:
    """Header and rows: one per seed, then the mean ± sample sd, for validation and (when given) test."""
    splits = [name for name in ("validation", "test") if getattr(summary, name)]
    head = ["seed", *[f"{name} {getattr(summary, name)['metric']}" for name in splits], "train s", "tokens/s", "model"]
    rows = [[str(run.seed), *[f"{getattr(run, name)['score']:.4f}" for name in splits],
             f"{run.train_seconds:,.0f}", f"{run.tokens_per_second:,.0f}", run.model_dir] for run in summary.runs]
    rows.append(["mean ± sd", *[score_text(getattr(summary, name), each=False) for name in splits],
                 f"{mean_sd([r.train_seconds for r in summary.runs])[0]:,.0f}",
                 f"{mean_sd([r.tokens_per_second for r in summary.runs])[0]:,.0f}", ""])
    return head, rows


def markdown(summary: SeedsSummary) -> str:
    head, rows = table(summary)
    *runs, mean = rows
    cells = [[*run[:-1], f"`{run[-1]}`"] for run in runs] + [[f"**{mean[0]}**", *mean[1:]]]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)] + ["| " + " | ".join(c) + " |" for c in cells]
    return (f"# {len(summary.runs)} seeds\n\nsd is the sample standard deviation (n - 1) over the seeds.\n\n"
            + "\n".join(lines) + "\n")
