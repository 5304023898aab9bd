"""Method specs of `lookright compare --methods`: `name[:argument]`, each a set of train settings.

Each labelling method reads its own argument (`Method.compare_settings`); the built-ins:
- `causal`: the decoder as a plain token classifier (no unmasking);
- `unmask[:CONFIG]`: unmasked groups, e.g. `unmask:0011`; `unmask:BEST` searches the configs of
  `--best-among` with successive halving on validation first (its cost is reported);
- `repeat[:R[:CONFIG]]`: sequence repetition with R extra copies (default 1), causal or with the
  groups of CONFIG unmasked (`repeat:1:0011`);
- `generative[:K]`: SIFT-style generation with K demonstrations (default 1);
- `encoder[:MODEL]`: an MLM encoder (default the packaged all-MiniLM-L6-v2, or `--encoder-model`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..methods.registry import get_method, method_names
from ..methods.token import BEST  # unmask:BEST: the unmasking configuration is searched first


@dataclass(frozen=True)
class MethodSpec:
    """One row of the comparison: a slug for its directory and the settings it trains with."""

    spec: str
    name: str
    overrides: dict[str, Any] = field(default_factory=dict)

    @property
    def slug(self) -> str:
        return re.sub(r"[^A-Za-z0-9_.-]+", "-", self.spec).strip("-")

    @property
    def needs_search(self) -> bool:
        return self.overrides.get("unmask") == BEST


def parse_method(spec: str, encoder_model: str | None = None) -> MethodSpec:
    spec = spec.strip()
    name, _, argument = spec.partition(":")
    try:
        method = get_method(name)
    except ValueError:
        usage = [get_method(known).compare_usage or known for known in method_names()]
        raise ValueError(f"unknown method {spec!r}: use {', '.join(usage[:-1])} or {usage[-1]}") from None
    return MethodSpec(spec, name, method.compare_settings(argument, spec, encoder_model))


def parse_methods(text: str, encoder_model: str | None = None) -> list[MethodSpec]:
    """Parse `causal,unmask:BEST,repeat,...`; every problem is reported before anything trains."""
    specs = [parse_method(part, encoder_model) for part in text.split(",") if part.strip()]
    if not specs:
        raise ValueError("--methods is empty")
    slugs = [s.slug for s in specs]
    if len(set(slugs)) != len(slugs):
        raise ValueError(f"--methods lists a method twice: {text}")
    return specs
