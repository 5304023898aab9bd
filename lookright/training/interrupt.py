"""Ctrl-C or SIGTERM during training: finish the step, save a checkpoint, stop with the resume command.

Python's defaults lose the work since the last checkpoint (up to an epoch, by default): Ctrl-C
raises KeyboardInterrupt wherever the loop happens to be, and SIGTERM (a job scheduler's time
limit, `kill`, a sweep stopping its other runs) ends the process on the spot. While a run trains,
both only ask it to stop; the Trainer then saves a checkpoint after the current step, the way it
saves a successive-halving pause, and `--resume` continues exactly from there. A second Ctrl-C
stops at once; a repeated SIGTERM changes nothing (a scheduler may send it again before its kill).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch
from rich.console import Console
from transformers import TrainerCallback

from ..console import print_plain
from ..errors import TrainingInterrupted
from .distributed import is_main_process
from .rundir import last_checkpoint

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopRequest(TrainerCallback):
    """Ends training with a checkpoint after the step during which a stop was asked for."""

    def __init__(self) -> None:
        self.signal_name: str | None = None

    def on_step_end(self, args, state, control, **kwargs):
        if self._asked_anywhere(args):
            control.should_save = True
            control.should_training_stop = True

    def _asked_anywhere(self, args) -> bool:
        """Whether any process was asked: all must stop after the same step, or those still training
        would wait forever for the others in the next gradient sync."""
        asked = self.signal_name is not None
        if not (torch.distributed.is_available() and torch.distributed.is_initialized()):
            return asked
        flag = torch.tensor([int(asked)], device=args.device)
        torch.distributed.all_reduce(flag, op=torch.distributed.ReduceOp.MAX)
        anywhere = bool(flag.item())  # one device sync a step, not two
        if anywhere and not asked:
            self.signal_name = "a signal to another process"
        return anywhere

    def interrupted(self, output: str | Path, step: int, total: int) -> TrainingInterrupted:
        return TrainingInterrupted(self.signal_name or "signal", step, total, last_checkpoint(output)[0])


@contextmanager
def stop_on_signal(request: StopRequest, console: Console) -> Iterator[None]:
    """While the block runs, SIGINT and SIGTERM set `request` instead of ending the process (unless ignored).

    Signal handlers can only be set from the main thread; elsewhere (a training started from a
    worker thread) Python's own handling stays.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handle(number: int, frame) -> None:
        name = signal.Signals(number).name
        if request.signal_name is None:
            request.signal_name = name
            if is_main_process():
                print_plain(console, f"{name}: stopping after this step, with a checkpoint to resume from"
                                     + (" (Ctrl-C again stops at once, losing the steps since the last checkpoint)"
                                        if number == signal.SIGINT else ""))
        elif number == signal.SIGINT:
            raise KeyboardInterrupt

    # A signal the process ignores stays ignored (a shell starts `cmd &` with SIGINT ignored).
    previous = {n: signal.getsignal(n) for n in SIGNALS if signal.getsignal(n) is not signal.SIG_IGN}
    for number in previous:
        signal.signal(number, handle)
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler if handler is not None else signal.SIG_DFL)
