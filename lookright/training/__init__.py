"""Fine-tuning: configuration, the Trainer-based loop, progress reporting.

`train` and `TrainResult` are resolved on first use (PEP 562): the CLI builds its options from
`TrainConfig` without importing torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import lazy_names
from .config import TrainConfig

_LAZY = {"TrainResult": ".trainer", "summarize": ".trainer", "train": ".trainer"}

if TYPE_CHECKING:
    from .trainer import TrainResult, summarize, train


__getattr__, __dir__ = lazy_names(__name__, _LAZY, globals())


__all__ = ["TrainConfig", "TrainResult", "summarize", "train"]
