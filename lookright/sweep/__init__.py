"""Sweeps over unmasking configurations: exhaustive (the paper's grid), successive halving, or probe-screened.

The runner (torch, transformers) loads on first use (PEP 562): `lookright sweep` refuses a mistyped
config in a fraction of a second.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import lazy_names
from .grid import all_configs, check_config_strings, parse_config_list, validate_configs
from .results import ResultsFile, RunResult

_LAZY = dict.fromkeys(("RUNG_METRICS", "STRATEGIES", "SweepConfig", "SweepSummary", "planned_budget", "rank_rung",
                       "run_sweep", "rung_fractions"), ".runner")

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


__getattr__, __dir__ = lazy_names(__name__, _LAZY, globals())


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
    "run_sweep",
    "rung_fractions",
    "validate_configs",
]
