"""`lookright sweep`: train one model per unmasking configuration and compare them fairly.

Every run uses the same seed, data order and budget (no in-run checkpoint selection, so budgets
stay equal), is scored on validation, and is appended to `results.jsonl` the moment it finishes.

Three strategies:
- `exhaustive`: every configuration gets the full budget (the paper's grid).
- `probe`: a linear probe on the frozen, untrained model under each mask ranks all configurations
  without a training step (see `probe.py`); only the best 1/eta get the full budget.
- `successive-halving`: every configuration first gets a small share of the budget; only the best
  1/eta by validation score continue, and so on until the survivors have the full budget. A
  configuration's partial run is an exact prefix of its full run (same schedule, resumed from its
  checkpoint), so the survivors end with exactly the model the exhaustive sweep would have trained.
"""

from __future__ import annotations

import math
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from rich.console import Console

from ..console import print_plain
from ..errors import TrainingInterrupted
from ..evaluation.seeds import parse_seeds, score_text
from ..modeling.resolve import resolve_model
from ..outputs import write_text_atomic
from ..training import TrainConfig
from ..training import train as run_train
from ..training.progress import hms
from ..training.rundir import has_checkpoint, seed_run_dir
from ..training.splits import load_run_data
from .grid import validate_configs
from .results import ResultsFile, RunResult, aggregate_runs, report_scores

STRATEGIES = ("exhaustive", "successive-halving", "probe")
RUNG_METRICS = ("loss", "score")
RUNS_DIR = "runs"


@dataclass
class SweepConfig:
    """A sweep: the shared training setup plus which configurations and how to search them."""

    base: TrainConfig
    output: str
    groups: int = 4
    configs: list[str] | None = None
    strategy: str = "exhaustive"
    eta: int = 4
    min_fraction: float = 0.125
    rung_metric: str = "loss"  # what ranks successive-halving/probe survivors: validation "loss" or "score"
    keep: int | None = None  # probe: configurations trained in full (default: ceil(n / eta))
    probe_sentences: int = 500  # probe: training and validation sentences it reads (each)
    retrain_best: bool = False
    keep_models: bool = False
    parallel: int = 1  # runs trained at once, each in its own process (one per GPU when there are GPUs)
    submit: str | None = None  # shell template handing each run to a scheduler, e.g. "sbatch --wrap '{command}'"
    seeds: list[int] | None = None  # train every configuration once per seed and rank by the mean (default: base.seed)

    def validate(self, num_layers: int) -> list[str]:
        """All checks that can fail, done before the first training step."""
        if self.strategy not in STRATEGIES:
            raise ValueError(f"unknown strategy {self.strategy!r}: use {' or '.join(STRATEGIES)}")
        if self.rung_metric not in RUNG_METRICS:
            raise ValueError(f"unknown rung metric {self.rung_metric!r}: use {' or '.join(RUNG_METRICS)}")
        if self.eta < 2:
            raise ValueError("eta must be at least 2")
        if not 0 < self.min_fraction <= 1:
            raise ValueError("min_fraction must be in (0, 1]")
        if self.keep is not None and self.keep < 1:
            raise ValueError("keep must be at least 1")
        if self.probe_sentences < 1:
            raise ValueError("probe_sentences must be at least 1")
        if self.parallel < 1:
            raise ValueError("parallel must be at least 1")
        if self.seeds is not None:
            self.seeds = parse_seeds(self.seeds)
        if self.submit is not None and "{command}" not in self.submit:
            raise ValueError("the --submit template must contain {command} (the lookright train command to run)")
        if not self.base.labelling.takes_unmask:  # auto, unmask, repeat, or a registered method that reads --unmask
            raise ValueError(f"a sweep compares unmasking configurations: method {self.base.method!r} takes no "
                             "--unmask (use auto, unmask or repeat)")
        configs = validate_configs(self.configs, self.groups, num_layers)
        self.base.unmask = configs[0]
        self.base.validate()
        if not (self.base.validation or self.base.validation_holdout):
            raise ValueError("a sweep selects on validation data: give --validation or --validation-holdout")
        return configs


def rung_fractions(min_fraction: float, eta: int) -> list[float]:
    """Budget shares of successive-halving rungs: min_fraction, x eta, ..., up to the full budget."""
    fractions = [min_fraction]
    while fractions[-1] < 1:
        fractions.append(min(1.0, fractions[-1] * eta))
    return fractions


def planned_budget(n_configs: int, min_fraction: float, eta: int) -> float:
    """Training budget of successive halving in full-run units (exhaustive = n_configs)."""
    total, survivors, previous = 0.0, n_configs, 0.0
    for fraction in rung_fractions(min_fraction, eta):
        total += survivors * (fraction - previous)
        previous = fraction
        survivors = max(1, math.ceil(survivors / eta))
    return total


def num_layers_of(model: str | None) -> int:
    """Depth of the model from its config alone (no weights loaded)."""
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(resolve_model(model))
    return config.get_text_config().num_hidden_layers


class Sweep:
    """Runs a `SweepConfig`, resuming from `results.jsonl`."""

    def __init__(self, cfg: SweepConfig, console: Console | None = None, trainer: Callable = run_train) -> None:
        self.cfg = cfg
        self.console = console or Console(stderr=True)
        self.train = trainer
        self.output = Path(cfg.output)
        self.results = ResultsFile(self.output / "results.jsonl")
        self.configs = cfg.validate(num_layers_of(cfg.base.model))
        self.seeds = cfg.seeds or [cfg.base.seed]
        load_run_data(cfg.base)  # every data file checked before the first run (the test file is read last)
        self.started = time.perf_counter()
        self.units_done = 0.0  # full-run units trained in this process (for the ETA)

    def run(self) -> list[RunResult]:
        self.output.mkdir(parents=True, exist_ok=True)
        if self.cfg.strategy == "exhaustive":
            final = self._rung(self.configs, rung=0, fraction=1.0, previous=0.0, plan=len(self.configs))
        elif self.cfg.strategy == "probe":
            final = self._probe_then_train()
        else:
            final = self._halving()
        if self.cfg.retrain_best:
            self._retrain(best_of(final).config)
        if not self.cfg.keep_models:
            self._prune_models(best_of(final).config)
        return final

    def _halving(self) -> list[RunResult]:
        fractions = rung_fractions(self.cfg.min_fraction, self.cfg.eta)
        plan = planned_budget(len(self.configs), self.cfg.min_fraction, self.cfg.eta)
        survivors, previous = list(self.configs), 0.0
        for rung, fraction in enumerate(fractions):
            rows = self._rung(survivors, rung, fraction, previous, plan)
            if fraction >= 1:
                return rows
            keep = max(1, math.ceil(len(survivors) / self.cfg.eta))
            ranked, by = rank_rung(rows, self.cfg.rung_metric, self.configs)
            survivors = [r.config for r in ranked[:keep]]
            self.console.print(
                f"[bold]rung {rung}[/] ({fraction:.0%} of the budget): keeping {', '.join(survivors)} (by validation {by})"
            )
            previous = fraction
        raise AssertionError("unreachable: the last rung has the full budget")

    def _probe_then_train(self) -> list[RunResult]:
        from .probe import probe_configs

        probed = {r.config: r for r in self.results if r.strategy == "probe" and r.rung == 0}
        for config in self.configs:
            if config in probed:
                self.console.print(f"{config}: already probed, validation {probed[config].score:.4f}; skipping")

        def record(result) -> None:
            row = RunResult(
                config=result.config, strategy="probe", rung=0, steps=0, total_steps=0, tokens=0,
                train_seconds=0.0, tokens_per_second=0.0, peak_memory_mb=0.0,
                validation=_scores(result.report), wall_seconds=round(result.seconds, 1),
            )
            self.results.append(row)
            probed[row.config] = row
            self.console.print(
                f"[bold]{row.config}[/] probe ({len(probed)}/{len(self.configs)}): validation "
                f"{row.validation['metric']} {row.score:.4f}, log loss {row.validation['log_loss']:.4f} "
                f"({result.seconds:.0f} s, no training)"
            )

        if any(c not in probed for c in self.configs):
            self.console.rule(f"probe: {len(self.configs)} configurations, frozen features, no training")
            probe_configs(self.cfg.base, self.configs, sentences=self.cfg.probe_sentences,
                          on_result=record, skip=list(probed))
        self.started = time.perf_counter()  # the ETA of the training that follows should not count the probe
        keep = self.cfg.keep or max(1, math.ceil(len(self.configs) / self.cfg.eta))
        ranked, by = rank_rung([probed[c] for c in self.configs], self.cfg.rung_metric, self.configs)
        survivors = [r.config for r in ranked[:keep]]
        self.console.print(f"[bold]probe[/]: training {', '.join(survivors)} in full (best {keep} by probe {by})")
        return self._rung(survivors, rung=1, fraction=1.0, previous=0.0, plan=len(survivors))

    def _resumes(self, rung: int) -> bool:
        """Only successive-halving rungs continue an earlier rung's checkpoint."""
        return rung > 0 and self.cfg.strategy == "successive-halving"

    def _run_dir(self, config: str, seed: int) -> Path:
        """runs/CONFIG for one seed (as before seeds existed), runs/CONFIG/seed-N beside another seed's run."""
        return seed_run_dir(self.output / RUNS_DIR / config, seed, several=len(self.seeds) > 1)

    def _rung(self, configs: list[str], rung: int, fraction: float, previous: float, plan: float) -> list[RunResult]:
        """Train every (config, seed) of a rung not yet in results.jsonl; one row per config (the seeds' mean)."""
        finished_runs: dict[tuple[str, int | None], RunResult] = {}
        for r in self.results:  # one read of results.jsonl; the first row of a run wins
            if (r.strategy, r.rung) == (self.cfg.strategy, rung):  # a run counts for its own seed only
                finished_runs.setdefault((r.config, r.seed_or(self.cfg.base.seed)), r)
        rows: dict[tuple[str, int], RunResult] = {}
        todo = []
        for config in configs:
            for seed in self.seeds:
                done = finished_runs.get((config, seed))
                if done is not None:
                    self.console.print(f"{config} seed {seed}: already trained (rung {rung}), score {done.score:.4f}; "
                                       "skipping")
                    rows[(config, seed)] = done
                else:
                    todo.append((config, seed))
        finished = len(rows)
        count = len(configs) * len(self.seeds)

        def record(row: RunResult) -> None:
            nonlocal finished
            self.results.append(row)
            rows[(row.config, row.seed_or(self.cfg.base.seed))] = row
            finished += 1
            self.units_done += fraction - previous
            self._report_progress(row, finished, count, rung, plan)

        if todo and (self.cfg.parallel > 1 or self.cfg.submit):
            from .launch import Job, run_jobs

            runs = [(c, self._run_config(c, seed, fraction, self._resumes(rung))) for c, seed in todo]
            jobs = [Job(c, rung, run_cfg, Path(run_cfg.output)) for c, run_cfg in runs]
            run_jobs(jobs, self.cfg.strategy, parallel=self.cfg.parallel, submit=self.cfg.submit,
                     console=self.console, on_result=record)
        else:
            for config, seed in todo:
                record(self._train_one(config, seed, rung, fraction, resume=self._resumes(rung)))
        return [aggregate_runs([rows[(c, seed)] for seed in self.seeds]) for c in configs]

    def _run_config(self, config: str, seed: int, fraction: float, resume: bool) -> TrainConfig:
        """The training setup of one run: the shared base, this config and seed, no in-run selection."""
        run_dir = self._run_dir(config, seed)
        return replace(
            self.cfg.base,
            unmask=config,
            seed=seed,
            output=str(run_dir),
            select_best=False,
            patience=None,
            resume=resume or has_checkpoint(run_dir),  # an interrupted run continues where it stopped
            overwrite=False,
            stop_after_fraction=fraction if fraction < 1 else None,
            test=self.cfg.base.test if fraction >= 1 else None,
        )

    def _train_one(self, config: str, seed: int, rung: int, fraction: float, resume: bool) -> RunResult:
        cfg = self._run_config(config, seed, fraction, resume)
        run_dir = Path(cfg.output)  # where _run_config placed this seed's run
        of_seeds = f", seed {seed}" if len(self.seeds) > 1 else ""
        self.console.rule(f"{self.cfg.strategy}: {config} (rung {rung}, {fraction:.0%} of the budget{of_seeds})")
        started = time.perf_counter()
        with _resumed_by_rerunning():
            result = self.train(cfg, console=self.console)
        wall = time.perf_counter() - started
        return RunResult(
            config=config,
            strategy=self.cfg.strategy,
            rung=rung,
            steps=result.steps,
            total_steps=result.total_steps,
            tokens=result.tokens_seen,
            train_seconds=round(result.train_seconds, 1),
            tokens_per_second=round(result.tokens_per_second, 1),
            peak_memory_mb=round(result.peak_memory_mb, 1),
            validation=_scores(result.validation),
            test=_scores(result.test) if result.test is not None else {},
            model_dir=str(run_dir),
            wall_seconds=round(wall, 1),
            seed=seed,
        )

    def _report_progress(self, row: RunResult, index: int, count: int, rung: int, plan: float) -> None:
        elapsed = time.perf_counter() - self.started
        reached: dict[tuple[str, int], float] = {}  # each (config, seed)'s budget share trained so far
        for r in self.results:
            if r.strategy == self.cfg.strategy and r.total_steps:
                key = (r.config, r.seed_or(self.cfg.base.seed))
                reached[key] = max(reached.get(key, 0.0), r.steps / r.total_steps)
        plan *= len(self.seeds)
        done_units = sum(reached.values())
        rate = elapsed / self.units_done if self.units_done else 0
        eta = max(0.0, (plan - done_units) * rate)
        seed = f" seed {row.seed}" if len(self.seeds) > 1 else ""
        self.console.print(
            f"[bold]{row.config}[/]{seed} rung {rung} ({index}/{count}): validation {row.validation['metric']} "
            f"{row.score:.4f} | budget {done_units:.2f}/{plan:.2f} full runs | elapsed {hms(elapsed)} | eta {hms(eta)}"
        )

    def _retrain(self, config: str) -> None:
        best = self.output / "best"
        cfg = replace(self.cfg.base, unmask=config, seed=self.seeds[0], output=str(best), resume=has_checkpoint(best),
                      overwrite=False)
        print_plain(self.console, f"retraining the best configuration {config} into {cfg.output}")
        with _resumed_by_rerunning():
            self.train(cfg, console=self.console)

    def _prune_models(self, best: str) -> None:
        """Keep the best configuration's models (every seed's); drop the others' weights and checkpoints (their scores stay)."""
        runs = self.output / RUNS_DIR
        if not runs.is_dir():
            return
        for run_dir in runs.iterdir():
            if run_dir.name != best:
                shutil.rmtree(run_dir, ignore_errors=True)


@contextmanager
def _resumed_by_rerunning() -> Iterator[None]:
    """A run stopped by Ctrl-C names the sweep command (run again, it resumes), not `train --resume`."""
    try:
        yield
    except TrainingInterrupted as stop:
        raise stop.continued_by("run the same sweep command again") from None


def rank_rung(rows: list[RunResult], metric: str, order: list[str]) -> tuple[list[RunResult], str]:
    """Rows best first, and what ranked them; ties go to the config listed first.

    "loss" (mean -log p(gold label) per word on validation) is the default: after a few steps
    every config's F1 is still near zero and ranking by it is noise, while the loss already
    separates them. Rows without a loss (older results, generative scoring) fall back to the score.
    """
    if metric == "loss" and all(r.validation.get("log_loss") is not None for r in rows):
        return sorted(rows, key=lambda r: (r.validation["log_loss"], order.index(r.config))), "log loss"
    return sorted(rows, key=lambda r: (-r.score, order.index(r.config))), rows[0].validation["metric"] if rows else "score"


def best_of(rows: list[RunResult]) -> RunResult:
    """Highest validation score; ties go to the config listed first."""
    return max(rows, key=lambda r: r.score)


def _scores(report) -> dict[str, float]:
    return report_scores(report.to_dict())


@dataclass
class SweepSummary:
    best: RunResult
    rows: list[RunResult]  # each config's furthest-trained result, in sweep order
    tokens: int  # training tokens spent by this strategy (all rungs)
    train_seconds: float
    wall_seconds: float  # all runs of this strategy, loading and evaluation included


def run_sweep(cfg: SweepConfig, console: Console | None = None, trainer: Callable = run_train) -> SweepSummary:
    """Run (or resume) a sweep and write results.jsonl, summary.md, best.json and a PNG chart."""
    import json

    from .report import latest_per_config, markdown_table, plot, render_table

    console = console or Console(stderr=True)
    sweep = Sweep(cfg, console, trainer)
    final = sweep.run()
    best = best_of(final)
    mine = [r for r in sweep.results if r.strategy == cfg.strategy]
    rows = latest_per_config(mine, sweep.configs, sweep.seeds, cfg.base.seed)
    summary = SweepSummary(
        best=best,
        rows=rows,
        tokens=sum(r.tokens for r in mine),
        train_seconds=sum(r.train_seconds for r in mine),
        wall_seconds=sum(r.wall_seconds for r in mine),
    )
    render_table(rows, best.config, Console())
    output = Path(cfg.output)
    of_seeds = (f" Every configuration trained with seeds {', '.join(map(str, sweep.seeds))}; scores are the mean "
                f"± sample sd (each seed's in brackets), ranked by the mean." if len(sweep.seeds) > 1 else "")
    write_text_atomic(
        output / "summary.md",
        f"# Sweep ({cfg.strategy})\n\nBest configuration on validation: `{best.config}` "
        f"({best.validation['metric']} {score_text(best.validation)}).{of_seeds} Training tokens: {summary.tokens:,}; "
        f"training time: {summary.train_seconds:,.0f} s.\n\n"
        + ("Rows marked *probe only* were never trained: their score is the frozen-feature probe's, "
           "which ranked them below the trained ones.\n\n" if cfg.strategy == "probe" else "")
        + markdown_table(rows, best.config)
    )
    write_text_atomic(
        output / "best.json",
        json.dumps({"config": best.config, "validation": best.validation, "test": best.test,
                    "strategy": cfg.strategy, "tokens": summary.tokens, "seeds": sweep.seeds}, indent=2) + "\n"
    )
    plot(rows, best.config, output / "f1_by_config.png")
    print_plain(console, f"best configuration: {best.config} — results in {output}")
    return summary
