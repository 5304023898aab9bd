"""Errors that tell the user what went wrong and where.

Every error raised on bad input names the file, the line and the problem, so a user with a
300 MB CoNLL file can jump straight to the offending line instead of bisecting it.
"""

from __future__ import annotations

from pathlib import Path


class LookrightError(Exception):
    """Base class of every error lookright raises on purpose."""


class DataError(LookrightError):
    """Malformed or inconsistent input data, located by file and line."""

    def __init__(self, problem: str, path: str | Path | None = None, line: int | None = None) -> None:
        self.problem = problem
        self.path = str(path) if path is not None else None
        self.line = line
        where = ""
        if self.path is not None:
            where = self.path + (f":{line}" if line is not None else "")
            where += ": "
        super().__init__(f"{where}{problem}")


class UnmaskingError(LookrightError):
    """The requested attention pattern is not what the model really computes."""


class ModelError(LookrightError):
    """A model or a saved lookright directory cannot be used as asked."""


class InputTypeError(LookrightError, TypeError):
    """A value handed to a tagger is not one of the documented input types (also a TypeError)."""


EXIT_CODES = {"SIGINT": 130, "SIGTERM": 143}  # what a shell reports for a process these signals ended


class TrainingInterrupted(LookrightError):
    """Training stopped on a signal after saving a checkpoint; `how` says which command continues it."""

    def __init__(self, signal_name: str, step: int, total: int, checkpoint: Path | None,
                 how: str = "run the same command with --resume") -> None:
        self.signal_name, self.step, self.total, self.checkpoint = signal_name, step, total, checkpoint
        self.exit_code = EXIT_CODES.get(signal_name, 1)
        saved = (f"its checkpoint is {checkpoint}: {how} to continue from there" if checkpoint is not None
                 else "no checkpoint was complete: run the same command again")
        super().__init__(f"{signal_name}: training stopped after step {step} of {total}; {saved}")

    def continued_by(self, how: str) -> TrainingInterrupted:
        """The same stop, naming the command that continues it where that is not `train --resume`."""
        return TrainingInterrupted(self.signal_name, self.step, self.total, self.checkpoint, how)


class DataWarning(UserWarning):
    """Something a reader changed or skipped on request or by its documented rule (snapped spans,
    ignored non-span results): said once per file, never silent."""
