"""Sweep runs as separate jobs: N local processes at once (one per GPU), or a job scheduler.

Each run is an ordinary `lookright train --config RUN_DIR/train_config.json` command, so what a
scheduler runs is exactly what a user would type. A run is finished when its model card holds its
validation scores; the sweep then reads the card and appends the row to `results.jsonl`, as for
runs trained in-process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from ..console import command_line, print_plain
from ..errors import LookrightError
from ..modeling.artifact import CARD_FILE
from ..training import TrainConfig
from ..training.rundir import LAUNCH_CONFIG
from .results import RunResult, report_scores

CONFIG_FILE = LAUNCH_CONFIG  # like the log, left alone by `train`'s output checks and --overwrite
LOG_FILE = "train.log"


@dataclass
class Job:
    """One configuration's training run, as a command."""

    config: str
    rung: int
    train: TrainConfig
    run_dir: Path

    def command(self) -> list[str]:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        data = self.train.to_dict()
        (self.run_dir / CONFIG_FILE).write_text(json.dumps(data, indent=2) + "\n")
        return [sys.executable, "-m", "lookright", "train", "--config", str(self.run_dir / CONFIG_FILE)]


def finished_card(run_dir: Path, since: float) -> dict[str, Any] | None:
    """The run's model card once training wrote its final scores (and not a card from an earlier rung)."""
    path = run_dir / CARD_FILE
    try:
        if path.stat().st_mtime < since:
            return None
        card = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):  # not there yet, or being written
        return None
    return card if "validation" in card.get("metrics", {}) else None


def result_from_card(job: Job, card: dict[str, Any], strategy: str, wall: float) -> RunResult:
    training, metrics = card["training"], card["metrics"]
    return RunResult(
        config=job.config,
        strategy=strategy,
        rung=job.rung,
        steps=training["steps"],
        total_steps=training.get("total_steps", training["steps"]),
        tokens=training["tokens_seen"],
        train_seconds=training["train_seconds"],
        tokens_per_second=training["tokens_per_second"],
        peak_memory_mb=training["peak_memory_mb"],
        validation=report_scores(metrics["validation"]),
        test=report_scores(metrics["test"]) if "test" in metrics else {},
        model_dir=str(job.run_dir),
        wall_seconds=round(wall, 1),
        seed=job.train.seed,
    )


def _gpu_count() -> int:
    try:
        import torch

        return torch.cuda.device_count()
    except Exception:  # noqa: BLE001 - no torch CUDA: CPU slots
        return 0


def run_jobs(
    jobs: list[Job],
    strategy: str,
    *,
    parallel: int = 1,
    submit: str | None = None,
    poll_seconds: float = 5.0,
    console: Console | None = None,
    on_result=None,
) -> list[RunResult]:
    """Run `jobs` (at most `parallel` at once, or all handed to `submit`) and return results in job order.

    `submit` is a shell template: `{command}` is the train command, `{name}`, `{config}` and
    `{run_dir}` are also filled in, e.g. `sbatch --gpus=1 -J {name} -o {run_dir}/slurm.log --wrap "{command}"`.
    `on_result` is called as each run finishes (the sweep appends it to results.jsonl there).
    When one run fails, or the sweep is stopped (Ctrl-C, SIGTERM), the local runs still training stop
    with a checkpoint before the sweep ends, so running it again resumes them.
    """
    launcher = _Launcher(strategy, parallel, submit, poll_seconds, console or Console(stderr=True), on_result)
    try:
        launcher.run(jobs)
    except BaseException:
        launcher.stop_running()
        raise
    return [launcher.results[i] for i in range(len(jobs))]


class _Launcher:
    """One `run_jobs` call: the jobs waiting, the ones running (and on which slot), the results."""

    def __init__(self, strategy: str, parallel: int, submit: str | None, poll_seconds: float, console: Console,
                 on_result) -> None:
        self.strategy, self.parallel, self.submit, self.poll_seconds = strategy, parallel, submit, poll_seconds
        self.console, self.on_result = console, on_result
        self.gpus = _gpu_count()
        self.running: dict[int, tuple[Job, subprocess.Popen | None, float]] = {}
        self.results: dict[int, RunResult] = {}
        self.slots = list(range(parallel)) if not submit else []
        self.slot_of: dict[int, int] = {}

    def run(self, jobs: list[Job]) -> None:
        pending = list(enumerate(jobs))
        while pending or self.running:
            while pending and (self.submit or self.slots):
                self._start(*pending.pop(0))
            time.sleep(self.poll_seconds if self.submit else min(self.poll_seconds, 0.5))
            for index in list(self.running):
                self._check(index)

    def _start(self, index: int, job: Job) -> None:
        command = job.command()
        started = time.time()
        log = job.run_dir / LOG_FILE
        if self.submit:
            line = self.submit.format(
                command=command_line(command), name=f"lookright-{job.config}-r{job.rung}-s{job.train.seed}",
                config=job.config, run_dir=str(job.run_dir),
            )
            print_plain(self.console, f"submit {job.config}: {line}")
            code = subprocess.call(line, shell=True)
            if code != 0:
                raise LookrightError(f"submitting {job.config} failed (exit {code}): {line}")
            self.running[index] = (job, None, started)
            return
        slot = self.slots.pop(0)
        self.slot_of[index] = slot
        env = dict(os.environ)
        if self.gpus:
            env["CUDA_VISIBLE_DEVICES"] = str(slot % self.gpus)
        else:
            env["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // self.parallel))
        print_plain(self.console, f"start {job.config} (rung {job.rung}) on slot {slot}; log {log}")
        with log.open("w") as handle:
            process = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, env=env)
        self.running[index] = (job, process, started)

    def _check(self, index: int) -> None:
        """Take a run's result once it has one; a run that failed ends the sweep."""
        job, process, started = self.running[index]
        if process is not None and process.poll() is None:
            return
        if process is not None and process.returncode != 0:
            tail = (job.run_dir / LOG_FILE).read_text(errors="replace")[-2000:]
            raise LookrightError(f"training {job.config} failed (exit {process.returncode}):\n{tail}")
        card = finished_card(job.run_dir, started)
        if card is None:
            if process is not None:  # exited 0 without final scores: a bug, not a wait
                raise LookrightError(f"training {job.config} ended without writing its scores in {job.run_dir}")
            return
        self.results[index] = result_from_card(job, card, self.strategy, time.time() - started)
        del self.running[index]
        if index in self.slot_of:
            self.slots.append(self.slot_of.pop(index))
        if self.on_result is not None:
            self.on_result(self.results[index])

    def stop_running(self) -> None:
        """Ask each local run still training to stop (SIGTERM: a checkpoint after its current step, see
        `training.interrupt`) and wait until it has, so that the same sweep command resumes it."""
        live = [(job, proc) for job, proc, _ in self.running.values() if proc is not None and proc.poll() is None]
        for _, process in live:
            process.terminate()
        for job, process in live:
            print_plain(self.console, f"stopping {job.config} (seed {job.train.seed}) after its current step, with "
                                      f"a checkpoint in {job.run_dir}; log {job.run_dir / LOG_FILE}")
            process.wait()
        if live:
            print_plain(self.console, "run the same command again to continue: it resumes them from their checkpoints")
