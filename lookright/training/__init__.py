"""Fine-tuning: configuration, the Trainer-based loop, progress reporting.

`train` and `TrainResult` are resolved on first use (PEP 562): the CLI builds its options from
`TrainConfig` without importing torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .config import TrainConfig

_LAZY = {"TrainResult": ".trainer", "summarize": ".trainer", "train": ".trainer"}

if TYPE_CHECKING:
    from .trainer import TrainResult, summarize, train


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__all__ = ["TrainConfig", "TrainResult", "summarize", "train"]
