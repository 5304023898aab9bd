"""Method specs of `lookright compare --methods`: `name[:argument]`, each a set of train settings.

- `causal`: the decoder as a plain token classifier (no unmasking);
- `unmask[:CONFIG]`: unmasked groups, e.g. `unmask:0011`; `unmask:BEST` searches the configs of
  `--best-among` with successive halving on validation first (its cost is reported);
- `repeat[:R]`: sequence repetition with R extra copies (default 1);
- `generative[:K]`: SIFT-style generation with K demonstrations (default 1);
- `encoder[:MODEL]`: an MLM encoder (default the packaged all-MiniLM-L6-v2, or `--encoder-model`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..unmasking.config import parse_group_string

BEST = "BEST"


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
        return self.name == "unmask" and self.overrides.get("unmask") == BEST


def _int(name: str, value: str, spec: str) -> int:
    if not value.isdigit():
        raise ValueError(f"method {spec!r}: {name} must be a whole number, not {value!r}")
    return int(value)


def parse_method(spec: str, encoder_model: str | None = None) -> MethodSpec:
    spec = spec.strip()
    name, _, arg = spec.partition(":")
    if name == "causal" and not arg:
        return MethodSpec(spec, name, {"method": "causal"})
    if name == "unmask":
        config = arg or "0011"
        if config.upper() == BEST:
            return MethodSpec(spec, name, {"method": "unmask", "unmask": BEST})
        if not config.startswith("layers:"):
            parse_group_string(config)
        return MethodSpec(spec, name, {"method": "unmask", "unmask": config})
    if name == "repeat":
        return MethodSpec(spec, name, {"method": "repeat", "repeat": _int("R", arg, spec) if arg else 1})
    if name == "generative":
        return MethodSpec(spec, name, {"method": "generative", "demos": _int("K", arg, spec) if arg else 1})
    if name == "encoder":
        return MethodSpec(spec, name, {"method": "encoder", "model": arg or encoder_model or "minilm"})
    raise ValueError(
        f"unknown method {spec!r}: use causal, unmask[:CONFIG|BEST], repeat[:R], generative[:K] or encoder[:MODEL]"
    )


def parse_methods(text: str, encoder_model: str | None = None) -> list[MethodSpec]:
    """Parse `causal,unmask:BEST,repeat,...`; every problem is reported before anything trains."""
    specs = [parse_method(part, encoder_model) for part in text.split(",") if part.strip()]
    if not specs:
        raise ValueError("--methods is empty")
    slugs = [s.slug for s in specs]
    if len(set(slugs)) != len(slugs):
        raise ValueError(f"--methods lists a method twice: {text}")
    return specs
