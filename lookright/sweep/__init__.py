"""Sweeps over unmasking configurations: exhaustive (the paper's grid), successive halving, or probe-screened.

The runner (torch, transformers) loads on first use (PEP 562): `lookright sweep` refuses a mistyped
config in a fraction of a second.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .grid import all_configs, check_config_strings, parse_config_list, validate_configs
from .results import ResultsFile, RunResult

_RUNNER = ("RUNG_METRICS", "STRATEGIES", "SweepConfig", "SweepSummary", "planned_budget", "rank_rung", "run_sweep",
           "rung_fractions")

if TYPE_CHECKING:
    from .runner import (
        RUNG_METRICS,
        STRATEGIES,
        SweepConfig,
        SweepSummary,
        planned_budget,
        rank_rung,
        run_sweep,
        rung_fractions,
    )


def __getattr__(name: str) -> Any:
    if name in _RUNNER:
        value = getattr(importlib.import_module(".runner", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_RUNNER])


__all__ = [
    "RUNG_METRICS",
    "STRATEGIES",
    "ResultsFile",
    "RunResult",
    "SweepConfig",
    "SweepSummary",
    "all_configs",
    "check_config_strings",
    "parse_config_list",
    "planned_budget",
    "rank_rung",
    "rung_fractions",
    "run_sweep",
    "validate_configs",
]
