"""Sweeps over unmasking configurations: exhaustive (the paper's grid), successive halving, or probe-screened."""

from .grid import all_configs, parse_config_list, validate_configs
from .results import ResultsFile, RunResult
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

__all__ = [
    "RUNG_METRICS",
    "STRATEGIES",
    "ResultsFile",
    "RunResult",
    "SweepConfig",
    "SweepSummary",
    "all_configs",
    "parse_config_list",
    "planned_budget",
    "rank_rung",
    "rung_fractions",
    "run_sweep",
    "validate_configs",
]
