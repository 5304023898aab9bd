"""Run each method as its own `lookright train` process (peak memory per method), collect one table.

Equal budgets: every method trains on the same sentences, for the same epochs/steps, batch size and
seed, and is selected on the same validation data; only each method's own defaults differ (learning
rate, fine-tuning mode), which is what a user gets from `lookright train --method ...`. Rows are
appended to `results.jsonl` as methods finish, so an interrupted comparison resumes where it stopped.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from rich.console import Console

from ..console import print_plain
from ..errors import LookrightError
from ..methods.registry import get_method
from ..modeling.artifact import CARD_FILE
from ..sweep.launch import Job, run_jobs
from ..training.rundir import has_checkpoint, seed_run_dir
from ..training.splits import load_run_data
from .config import CompareConfig
from .methods import MethodSpec
from .report import write_report
from .rows import CompareRow, aggregate_rows, results_file


def _search_best(cfg: CompareConfig, console: Console) -> tuple[str, float, int]:
    """unmask:BEST: successive halving over the candidates, on the same data and budget."""
    from ..sweep import SweepConfig, run_sweep

    sweep = SweepConfig(
        base=replace(cfg.base, method="unmask", unmask=None, output="", test=None),  # selection: validation only
        output=str(Path(cfg.output) / "unmask-search"),
        groups=cfg.groups,
        configs=cfg.best_among,
        strategy="successive-halving",
        parallel=cfg.parallel,
        submit=cfg.submit,
        seeds=cfg.seeds,  # several seeds: the config with the best mean on validation
    )
    summary = run_sweep(sweep, console=console)
    return summary.best.config, summary.train_seconds, summary.tokens


def run_compare(cfg: CompareConfig, console: Console | None = None) -> list[CompareRow]:
    """Train and score every method (skipping those already in results.jsonl); write the report."""
    console = console or Console(stderr=True)
    cfg.validate()
    writers = [spec.name for spec in cfg.methods if get_method(spec.name).writes_spans]
    load_run_data(cfg.base, spans_for=f"method {writers[0]}" if writers else None)  # data checked before any run
    output = Path(cfg.output)
    output.mkdir(parents=True, exist_ok=True)
    results = results_file(output)
    seeds = cfg.seed_list
    several = len(seeds) > 1

    def seed_of(row: CompareRow) -> int:
        return row.seed if row.seed is not None else cfg.base.seed

    done = {(row.method, seed_of(row)): row for row in results}
    jobs: list[tuple[MethodSpec, Job, float, int]] = []
    for spec in cfg.methods:
        missing = [seed for seed in seeds if (spec.spec, seed) not in done]
        if not missing:
            print_plain(console, f"{spec.spec}: already measured, skipped (delete its row in {results.path} to rerun)")
            continue
        if len(missing) < len(seeds):
            print_plain(console, f"{spec.spec}: seeds {', '.join(str(s) for s in seeds if s not in missing)} "
                                 "already measured")
        overrides = dict(spec.overrides)
        search_seconds, search_tokens = 0.0, 0
        if spec.needs_search:
            best, search_seconds, search_tokens = _search_best(cfg, console)
            console.print(f"unmask:BEST -> {best} (search: {search_seconds:,.0f} s, {search_tokens:,} tokens)")
            overrides["unmask"] = best
        for seed in missing:
            run_dir = seed_run_dir(output / spec.slug, seed, several)  # an interrupted run resumes there
            name = spec.slug if run_dir == output / spec.slug else f"{spec.slug}-seed-{seed}"
            train_cfg = replace(cfg.base, **overrides, seed=seed, output=str(run_dir), resume=has_checkpoint(run_dir),
                                overwrite=False)
            jobs.append((spec, Job(config=name, rung=0, train=train_cfg, run_dir=run_dir),
                         search_seconds, search_tokens))
    by_slug = {job.config: (spec, job, s, t) for spec, job, s, t in jobs}

    def on_result(result) -> None:
        spec, job, search_seconds, search_tokens = by_slug[result.config]
        card = json.loads((job.run_dir / CARD_FILE).read_text())
        training = card["training"]
        if "test" not in card["metrics"]:
            raise LookrightError(f"{spec.spec}: the run in {job.run_dir} has no test scores")
        row = CompareRow(
            method=spec.spec, detail=job.train.describe(), validation=result.validation, test=result.test,
            train_seconds=result.train_seconds, tokens_seen=result.tokens, tokens_per_second=result.tokens_per_second,
            steps=result.steps, test_words_per_second=training.get("test_words_per_second", 0.0),
            peak_memory_mb=training.get("peak_memory_mb_with_evaluation", result.peak_memory_mb),
            model_dir=str(job.run_dir), search_seconds=round(search_seconds, 1), search_tokens=search_tokens,
            seed=job.train.seed,
        )
        results.append(row)
        done[(spec.spec, row.seed)] = row
        of_seed = f" seed {row.seed}" if several else ""
        console.print(f"[bold]{spec.spec}[/]{of_seed}: test {row.test['metric']} {row.test['score']:.4f}, "
                      f"train {row.train_seconds:,.0f} s, {row.test_words_per_second:,.0f} words/s")

    if jobs:
        run_jobs([job for _, job, _, _ in jobs], "compare", parallel=cfg.parallel, submit=cfg.submit,
                 console=console, on_result=on_result)
    rows = [aggregate_rows([done[(spec.spec, seed)] for seed in seeds]) for spec in cfg.methods
            if all((spec.spec, seed) in done for seed in seeds)]
    write_report(rows, cfg, output, console)
    return rows
