"""Which decoder blocks attend bidirectionally: one validated, serialisable object.

The paper writes a configuration as a bit string over m contiguous groups of blocks (`"0011"`:
first character = group nearest the input, `1` = causal mask removed). Users with a specific
hypothesis also want to name layers directly. Both resolve to the same thing: a set of layer
indices for a model of known depth, validated once and stored in the model config.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

CONFIG_KEY = "lookright_unmask"
LAYERS_PREFIX = "layers:"
DEFAULT_UNMASK = "0011"  # the upper half bidirectional: the best NER configuration in the paper and here


def _parse_layer_list(text: str) -> list[int]:
    """Parse the `3,4,5` part of a command-line spec `layers:3,4,5`."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not all(p.isdigit() for p in parts):
        raise ValueError(f"invalid layer list {text!r}: expected comma-separated layer indices such as 'layers:20,21,22'")
    return [int(p) for p in parts]


def split_into_groups(num_layers: int, num_groups: int) -> list[range]:
    """Split `num_layers` blocks into `num_groups` contiguous groups, sizes differing by at most one.

    When the split is uneven the groups nearer the input get the extra block (numpy.array_split's
    convention), e.g. 30 layers in 4 groups -> 8, 8, 7, 7.
    """
    if num_groups < 1:
        raise ValueError("the number of groups must be at least 1")
    if num_groups > num_layers:
        raise ValueError(
            f"cannot split {num_layers} layers into {num_groups} groups: "
            f"use at most {num_layers} groups (one character per group)"
        )
    base, extra = divmod(num_layers, num_groups)
    groups, start = [], 0
    for g in range(num_groups):
        size = base + (1 if g < extra else 0)
        groups.append(range(start, start + size))
        start += size
    return groups


def parse_group_string(spec: str) -> str:
    """Validate a group string such as `"0011"` and return it unchanged."""
    if not spec:
        raise ValueError("an unmasking config string must not be empty; e.g. '0011'")
    bad = sorted({c for c in spec if c not in "01"})
    if bad:
        raise ValueError(
            f"invalid unmasking config {spec!r}: only '0' (causal) and '1' (bidirectional) are allowed, "
            f"found {''.join(bad)!r}"
        )
    return spec


@dataclass(frozen=True)
class UnmaskConfig:
    """The resolved set of bidirectional layers of a model with `num_layers` decoder blocks.

    `groups` keeps the group string the user gave (None for an explicit layer list) so that
    reports and sweeps can show the paper's notation.
    """

    num_layers: int
    layers: tuple[int, ...]
    groups: str | None = None

    def __post_init__(self) -> None:
        if self.num_layers < 1:
            raise ValueError("a model needs at least one layer")
        for i in self.layers:
            if not 0 <= i < self.num_layers:
                raise ValueError(f"layer index {i} is out of range for a model with {self.num_layers} layers")
        if tuple(sorted(set(self.layers))) != self.layers:
            object.__setattr__(self, "layers", tuple(sorted(set(self.layers))))
        if self.groups is not None:
            parse_group_string(self.groups)
            split_into_groups(self.num_layers, len(self.groups))

    @classmethod
    def resolve(cls, spec: str | Iterable[int] | UnmaskConfig | None, num_layers: int) -> UnmaskConfig:
        """Turn a group string, a layer list or an existing config into a config for this depth."""
        if spec is None:
            return cls(num_layers=num_layers, layers=())
        if isinstance(spec, UnmaskConfig):
            if spec.num_layers != num_layers:
                if spec.groups is None:
                    raise ValueError(
                        f"this unmasking config was made for {spec.num_layers} layers, the model has {num_layers}"
                    )
                return cls.resolve(spec.groups, num_layers)
            return spec
        if isinstance(spec, str):
            spec = spec.strip()
            if spec.startswith(LAYERS_PREFIX):
                return cls.resolve(_parse_layer_list(spec[len(LAYERS_PREFIX):]), num_layers)
            groups = parse_group_string(spec)
            ranges = split_into_groups(num_layers, len(groups))
            layers = tuple(i for bit, r in zip(groups, ranges) if bit == "1" for i in r)
            return cls(num_layers=num_layers, layers=layers, groups=groups)
        layers = tuple(int(i) for i in spec)
        return cls(num_layers=num_layers, layers=tuple(sorted(set(layers))), groups=None)

    @property
    def is_causal(self) -> bool:
        """True when no layer is unmasked (the plain decoder)."""
        return not self.layers

    @property
    def label(self) -> str:
        """Short human-readable name: the group string, or the layer list."""
        if self.groups is not None:
            return self.groups
        return LAYERS_PREFIX + ",".join(map(str, self.layers))

    def to_dict(self) -> dict[str, Any]:
        return {"num_layers": self.num_layers, "layers": list(self.layers), "groups": self.groups}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> UnmaskConfig:
        return cls(num_layers=int(data["num_layers"]), layers=tuple(data["layers"]), groups=data.get("groups"))
