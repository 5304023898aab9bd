"""The configurations a sweep trains: all 2^m group strings, or a validated user list."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from ..unmasking.config import parse_group_string, split_into_groups


def all_configs(groups: int) -> list[str]:
    """Every group string of length `groups`, in the paper's order (0000, 0001, ..., 1111)."""
    if groups < 1:
        raise ValueError("--groups must be at least 1")
    return ["".join(bits) for bits in itertools.product("01", repeat=groups)]


def check_config_strings(configs: Sequence[str] | None, groups: int) -> list[str]:
    """The configs without repeats, each 0/1 only with one character per group: all a typo needs, no model."""
    if groups < 1:
        raise ValueError("--groups must be at least 1")
    if not configs:
        return all_configs(groups)
    seen: list[str] = []
    for config in configs:
        config = config.strip()
        parse_group_string(config)
        if len(config) != groups:
            raise ValueError(f"config {config!r} has {len(config)} characters but --groups is {groups}")
        if config not in seen:
            seen.append(config)
    return seen


def validate_configs(configs: Sequence[str] | None, groups: int, num_layers: int) -> list[str]:
    """Check every config before any training starts: 0/1 only, one character per group, m <= n."""
    split_into_groups(num_layers, groups)  # raises if there are more groups than layers
    return check_config_strings(configs, groups)


def parse_config_list(text: str | None) -> list[str] | None:
    """`"0000,0011"` from the command line -> a list (None when not given)."""
    if not text:
        return None
    return [part.strip() for part in text.split(",") if part.strip()]
