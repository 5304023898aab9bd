"""Training progress the user can read: a rich bar with loss and throughput, once per job.

In a terminal it is a live bar; in a log file (CI, nohup, SLURM) it prints one line per logging step
instead of escape codes. Only the main process reports, so multi-process runs print once.
"""

from __future__ import annotations

import time

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from transformers import TrainerCallback


class RichProgressCallback(TrainerCallback):
    """Replaces transformers' tqdm bar: steps, ETA, current loss, tokens/s, last validation score."""

    def __init__(self, console: Console | None = None, metric: str = "eval_f1") -> None:
        self.console = console or Console(stderr=True)
        self.metric = metric
        self.progress: Progress | None = None
        self.task = None
        self.eval_task = None
        self.started = 0.0
        self.tokens_at_start = 0
        self.loss: float | None = None
        self.score: float | None = None

    def _status(self, state) -> str:
        elapsed = max(time.perf_counter() - self.started, 1e-9)
        tokens = (state.num_input_tokens_seen or 0) - self.tokens_at_start
        parts = []
        if self.loss is not None:
            parts.append(f"loss {self.loss:.4f}")
        parts.append(f"{tokens / elapsed:,.0f} tok/s")
        if self.score is not None:
            parts.append(f"val {self.metric.removeprefix('eval_')} {self.score:.4f}")
        return " | ".join(parts)

    def on_train_begin(self, args, state, control, **kwargs):
        if not state.is_world_process_zero:
            return
        self.started = time.perf_counter()
        self.tokens_at_start = state.num_input_tokens_seen or 0
        if self.console.is_terminal:
            self.progress = Progress(
                TextColumn("[bold]train"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("eta"),
                TimeRemainingColumn(),
                TextColumn("{task.fields[status]}"),
                console=self.console,
                transient=False,
            )
            self.progress.start()
            self.task = self.progress.add_task("train", total=state.max_steps, completed=state.global_step, status="")

    def on_step_end(self, args, state, control, **kwargs):
        if self.progress is not None:
            self.progress.update(self.task, completed=state.global_step, status=self._status(state))

    def on_prediction_step(self, args, state, control, eval_dataloader=None, **kwargs):
        if self.progress is None or eval_dataloader is None:
            return
        if self.eval_task is None:
            self.eval_task = self.progress.add_task("validate", total=len(eval_dataloader), status="validating")
        self.progress.advance(self.eval_task)

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        if not state.is_world_process_zero:
            return
        if metrics and self.metric in metrics:
            self.score = metrics[self.metric]
        if self.progress is not None and self.eval_task is not None:
            self.progress.remove_task(self.eval_task)
            self.eval_task = None
        elif metrics:
            self.console.print(f"step {state.global_step}/{state.max_steps} validation: {self._status(state)}")

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not state.is_world_process_zero or not logs:
            return
        if "loss" in logs:
            self.loss = float(logs["loss"])
            if self.progress is None:
                elapsed = time.perf_counter() - self.started
                eta = elapsed / max(state.global_step, 1) * (state.max_steps - state.global_step)
                self.console.print(
                    f"step {state.global_step}/{state.max_steps} {self._status(state)} "
                    f"elapsed {elapsed:,.0f}s eta {eta:,.0f}s"
                )

    def on_train_end(self, args, state, control, **kwargs):
        if self.progress is not None:
            self.progress.update(self.task, completed=state.global_step, status=self._status(state))
            self.progress.stop()
            self.progress = None
