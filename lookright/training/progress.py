"""Training progress the user can read: a live bar in a terminal, timed plain lines in a log.

In a terminal it is a rich bar with loss and throughput. In a log file (CI, nohup, SLURM) escape
codes and a line per logging step are both useless (a slow run printed two lines in six minutes),
so it prints one plain line every `log_every_seconds` (step, training loss, tokens/s, elapsed,
ETA), one at each validation and one at the end. Each number says what it is: a validation score
or loss comes from the validation metrics, the training loss is the running loss of the last
logged steps. Only the main process reports, so multi-process runs print once.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from transformers import TrainerCallback

from ..console import print_plain

DEFAULT_LOG_EVERY_SECONDS = 30.0


def hms(seconds: float) -> str:
    """`1h02m` or `3m05s`: durations in progress lines."""
    seconds = int(max(seconds, 0))
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m" if seconds >= 3600 else f"{seconds // 60}m{seconds % 60:02d}s"


class RichProgressCallback(TrainerCallback):
    """Replaces transformers' tqdm bar: steps, ETA, training loss, tokens/s, validation results."""

    def __init__(
        self,
        console: Console | None = None,
        metric: str = "eval_f1",
        *,
        log_every_seconds: float = DEFAULT_LOG_EVERY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.console = console or Console(stderr=True)
        self.metric = metric
        self.log_every_seconds = log_every_seconds
        self.clock = clock
        self.progress: Progress | None = None
        self.task = None
        self.eval_task = None
        self.started = 0.0
        self.last_line = 0.0
        self.steps_at_start = 0
        self.tokens_at_start = 0
        self.loss: float | None = None
        self.score: float | None = None

    def _elapsed(self) -> float:
        return max(self.clock() - self.started, 1e-9)

    def _tokens_per_second(self, state) -> float:
        return ((state.num_input_tokens_seen or 0) - self.tokens_at_start) / self._elapsed()

    def _status(self, state) -> str:
        """The live bar's status field."""
        parts = []
        if self.loss is not None:
            parts.append(f"train loss {self.loss:.4f}")
        parts.append(f"{self._tokens_per_second(state):,.0f} tok/s")
        if self.score is not None:
            parts.append(f"validation {self.metric.removeprefix('eval_')} {self.score:.4f}")
        return " | ".join(parts)

    def _line(self, state, *parts: str, eta: bool = True) -> str:
        """`step N/M | ... | train loss | tok/s | elapsed | eta`: one plain progress line."""
        items = [f"step {state.global_step}/{state.max_steps}", *parts]
        if self.loss is not None:
            items.append(f"train loss {self.loss:.4f}")
        items += [f"{self._tokens_per_second(state):,.0f} tok/s", f"elapsed {hms(self._elapsed())}"]
        done = state.global_step - self.steps_at_start
        if eta and done > 0:
            items.append(f"eta {hms(self._elapsed() / done * (state.max_steps - state.global_step))}")
        return " | ".join(items)

    def on_train_begin(self, args, state, control, **kwargs):
        if not state.is_world_process_zero:
            return
        self.started = self.last_line = self.clock()
        self.steps_at_start = state.global_step  # a resumed run's rate counts this call's steps only
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
        if not state.is_world_process_zero:
            return
        if self.progress is not None:
            self.progress.update(self.task, completed=state.global_step, status=self._status(state))
        elif self.clock() - self.last_line >= self.log_every_seconds:
            print_plain(self.console, self._line(state))
            self.last_line = self.clock()

    def on_prediction_step(self, args, state, control, eval_dataloader=None, **kwargs):
        if self.progress is None or eval_dataloader is None:
            return
        if self.eval_task is None:
            self.eval_task = self.progress.add_task("validate", total=len(eval_dataloader), status="validating")
        self.progress.advance(self.eval_task)

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        if not state.is_world_process_zero:
            return
        if self.progress is not None and self.eval_task is not None:
            self.progress.remove_task(self.eval_task)
            self.eval_task = None
        if not metrics:
            return
        if self.metric in metrics:
            self.score = metrics[self.metric]
        shown = [name for name in (self.metric, "eval_loss") if name in metrics]
        results = [f"validation {name.removeprefix('eval_')} {metrics[name]:.4f}" for name in dict.fromkeys(shown)]
        print_plain(self.console, self._line(state, *results, eta=False))
        self.last_line = self.clock()

    def on_log(self, args, state, control, logs=None, **kwargs):
        if state.is_world_process_zero and logs and "loss" in logs:
            self.loss = float(logs["loss"])

    def on_train_end(self, args, state, control, **kwargs):
        if not state.is_world_process_zero:
            return
        if self.progress is not None:
            self.progress.update(self.task, completed=state.global_step, status=self._status(state))
            self.progress.stop()
            self.progress = None
        else:
            print_plain(self.console, self._line(state, "training ended", eta=False))
