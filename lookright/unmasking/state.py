"""Where a model's decoder blocks are, and which unmasking is in effect on them.

Shared by the mechanism (which installs the hooks and records their state here) and the self-check
(which reads the configured blocks), so neither imports the other's internals.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from ..errors import UnmaskingError
from .config import UnmaskConfig

STATE_ATTR = "_lookright_unmask_state"


class CallContext(threading.local):
    """Padding mask of the forward in flight, per thread (a server may run several)."""

    def __init__(self) -> None:
        self.padding_mask: torch.Tensor | None = None
        self.masks: dict = {}


@dataclass
class UnmaskState:
    """The hooks installed on one decoder and the attention flags they changed."""

    config: UnmaskConfig
    handles: list = field(default_factory=list)
    original_is_causal: dict = field(default_factory=dict)  # attention module -> original flag
    context: CallContext = field(default_factory=CallContext)
    right_weight: float = 1.0  # < 1 only while training eases the blocks in (see `easing`)


@dataclass(frozen=True)
class DecoderStructure:
    """Where the decoder blocks of a model live: the backbone module and its block list."""

    backbone: nn.Module
    layers: nn.ModuleList
    config: Any  # the text config that drives mask creation

    @property
    def num_layers(self) -> int:
        return len(self.layers)

    def attention_modules(self, index: int) -> list[nn.Module]:
        """Self-attention modules of block `index`: the submodules that carry an `is_causal` flag."""
        return [m for m in self.layers[index].modules() if isinstance(getattr(m, "is_causal", None), bool)]

    def is_sliding(self, index: int) -> bool:
        layer_types = getattr(self.config, "layer_types", None)
        if layer_types is not None and index < len(layer_types):
            return layer_types[index] == "sliding_attention"
        return False


def find_decoder(model: nn.Module) -> DecoderStructure:
    """Locate the decoder blocks of any transformers decoder, bare or wrapped (peft, task heads).

    The block list is the `ModuleList` whose length equals the configured number of hidden layers
    and whose blocks contain an attention module with an `is_causal` flag; this holds for every
    decoder in transformers 5.x without naming model classes.
    """
    config = getattr(model, "config", None)
    text_config = config.get_text_config() if config is not None and hasattr(config, "get_text_config") else config
    expected = getattr(text_config, "num_hidden_layers", None)
    found: list[tuple[nn.Module, nn.ModuleList]] = []
    for parent in model.modules():
        for child in parent.children():
            if not isinstance(child, nn.ModuleList) or len(child) == 0:
                continue
            if expected is not None and len(child) != expected:
                continue
            first = child[0]
            if any(isinstance(getattr(m, "is_causal", None), bool) for m in first.modules()):
                if not any(child is layers for _, layers in found):
                    found.append((parent, child))
    if not found:
        raise UnmaskingError(
            f"could not find the decoder blocks of {type(model).__name__}: no module list of "
            f"{expected} blocks with attention modules exposing `is_causal` (is this a transformers 5.x decoder?)"
        )
    if len(found) > 1:
        names = ", ".join(type(p).__name__ for p, _ in found)
        raise UnmaskingError(f"{type(model).__name__} has several candidate block lists ({names}); pass layers explicitly")
    backbone, layers = found[0]
    backbone_config = getattr(backbone, "config", text_config)
    return DecoderStructure(backbone=backbone, layers=layers, config=backbone_config)


def unmask_state(structure: DecoderStructure) -> UnmaskState | None:
    """The hooks lookright installed on this decoder, if any."""
    return getattr(structure.backbone, STATE_ATTR, None)


def current_unmasking(model: nn.Module) -> UnmaskConfig:
    """The unmasking in effect on `model` (all-causal when none was applied)."""
    structure = find_decoder(model)
    state = unmask_state(structure)
    if state is None:
        return UnmaskConfig(num_layers=structure.num_layers, layers=())
    return state.config
