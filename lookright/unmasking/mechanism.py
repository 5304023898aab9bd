"""Layer-wise causal-mask removal for any transformers decoder, without forking model code.

transformers 5.x builds one causal mask per forward and hands the same mask to every decoder block;
attention backends then also consult each attention module's `is_causal` flag (SDPA takes a
`None` mask plus `is_causal=True` as "causal", FlashAttention reads the flag only). An unmasked
block therefore needs *both* a padding-only mask and `is_causal=False`, otherwise it silently stays
causal (batch size 1, no padding, SDPA fast path, flash attention).

We get both with two hooks and no copied modelling code:
- a forward pre-hook on the backbone (the module owning the block list) remembers the 2-D padding
  mask of the current call;
- a forward pre-hook on every unmasked block swaps the causal mask for one built by
  `transformers.masking_utils.create_bidirectional_mask` from that padding mask (so the backend-
  specific format is the library's job), and the block's attention modules get `is_causal=False`.

Masked blocks are left completely untouched, so `"0000"` is bit-identical to the plain model.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from transformers.masking_utils import create_bidirectional_mask, create_bidirectional_sliding_window_mask

from ..errors import UnmaskingError
from .config import CONFIG_KEY, UnmaskConfig

_STATE_ATTR = "_lookright_unmask_state"


class _CallContext(threading.local):
    """Padding mask of the forward in flight, per thread (a server may run several)."""

    def __init__(self) -> None:
        self.padding_mask: torch.Tensor | None = None
        self.masks: dict = {}


@dataclass
class _UnmaskState:
    config: UnmaskConfig
    handles: list = field(default_factory=list)
    original_is_causal: dict = field(default_factory=dict)  # attention module -> original flag
    context: _CallContext = field(default_factory=_CallContext)


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


def _bind(fn: Any, args: tuple, kwargs: dict) -> inspect.BoundArguments:
    return inspect.signature(fn).bind_partial(*args, **kwargs)


def _remember_padding_mask(state: _UnmaskState, structure: DecoderStructure):
    forward = structure.backbone.forward
    params = inspect.signature(forward).parameters

    def hook(module: nn.Module, args: tuple, kwargs: dict):
        mask = kwargs.get("attention_mask")
        if mask is None and "attention_mask" in params and args:
            bound = _bind(forward, args, kwargs)
            mask = bound.arguments.get("attention_mask")
        if mask is not None and not (isinstance(mask, torch.Tensor) and mask.dim() == 2):
            raise UnmaskingError(
                "unmasked layers need the usual 2-D padding mask (batch, seq_len) as `attention_mask`; "
                f"got {type(mask).__name__}{tuple(mask.shape) if isinstance(mask, torch.Tensor) else ''}. "
                "Pass the tokenizer's attention_mask instead of a prepared 4-D or per-layer mask."
            )
        state.context.padding_mask = mask
        state.context.masks = {}
        return None

    return hook


def _swap_in_bidirectional_mask(state: _UnmaskState, structure: DecoderStructure, index: int):
    layer = structure.layers[index]
    forward_params = list(inspect.signature(layer.forward).parameters)
    sliding = structure.is_sliding(index)

    def hook(module: nn.Module, args: tuple, kwargs: dict):
        if "hidden_states" in kwargs:
            hidden = kwargs["hidden_states"]
        elif args:
            hidden = args[0]
        else:
            raise UnmaskingError(f"decoder block {index} was called without hidden states")
        key = ("sliding" if sliding else "full", hidden.shape[0], hidden.shape[1], hidden.dtype, hidden.device)
        masks = state.context.masks
        if key not in masks:
            build = create_bidirectional_sliding_window_mask if sliding else create_bidirectional_mask
            masks[key] = build(
                config=structure.config,
                inputs_embeds=hidden,
                attention_mask=state.context.padding_mask,
            )
        new_mask = masks[key]
        if "attention_mask" in kwargs or "attention_mask" not in forward_params[: len(args)]:
            kwargs = dict(kwargs)
            kwargs["attention_mask"] = new_mask
        else:
            args = list(args)
            args[forward_params.index("attention_mask")] = new_mask
            args = tuple(args)
        return args, kwargs

    return hook


def _get_state(structure: DecoderStructure) -> _UnmaskState | None:
    return getattr(structure.backbone, _STATE_ATTR, None)


def remove_unmasking(model: nn.Module) -> None:
    """Remove every hook lookright installed and restore the attention modules' causal flags."""
    structure = find_decoder(model)
    state = _get_state(structure)
    if state is None:
        return
    for handle in state.handles:
        handle.remove()
    for module, flag in state.original_is_causal.items():
        module.is_causal = flag
    delattr(structure.backbone, _STATE_ATTR)


def unmask(
    model: nn.Module,
    config: str | Iterable[int] | UnmaskConfig | None,
    *,
    verify: bool = True,
) -> nn.Module:
    """Make the chosen decoder blocks attend bidirectionally (padding still masked); returns `model`.

    `config` is a group string such as `"0011"` (blocks split into `len(config)` contiguous groups,
    first character = group nearest the input), an iterable of layer indices, or an `UnmaskConfig`.
    `"0000"` (or an empty layer list) restores the plain causal model. The setting is written to
    `model.config.lookright_unmask` so that a saved model reloads with it (see `apply_saved_unmasking`).
    With `verify=True` a quick forward-pass check proves the pattern is really in effect.
    """
    structure = find_decoder(model)
    resolved = UnmaskConfig.resolve(config, structure.num_layers)
    remove_unmasking(model)

    if resolved.layers:
        state = _UnmaskState(config=resolved)
        state.handles.append(
            structure.backbone.register_forward_pre_hook(_remember_padding_mask(state, structure), with_kwargs=True)
        )
        for index in resolved.layers:
            attention = structure.attention_modules(index)
            if not attention:
                raise UnmaskingError(f"decoder block {index} has no attention module with an `is_causal` flag")
            for module in attention:
                state.original_is_causal[module] = module.is_causal
                module.is_causal = False
            state.handles.append(
                structure.layers[index].register_forward_pre_hook(
                    _swap_in_bidirectional_mask(state, structure, index), with_kwargs=True
                )
            )
        setattr(structure.backbone, _STATE_ATTR, state)

    _record_in_configs(model, structure, resolved)
    if verify:
        from .check import verify_unmasking

        verify_unmasking(model)
    return model


def _record_in_configs(model: nn.Module, structure: DecoderStructure, resolved: UnmaskConfig) -> None:
    """Store the setting in every config object the model exposes (head and backbone may differ)."""
    seen = set()
    for obj in (getattr(model, "config", None), structure.config):
        if obj is None or id(obj) in seen:
            continue
        seen.add(id(obj))
        if resolved.is_causal:
            if hasattr(obj, CONFIG_KEY):
                delattr(obj, CONFIG_KEY)
        else:
            setattr(obj, CONFIG_KEY, resolved.to_dict())


def current_unmasking(model: nn.Module) -> UnmaskConfig:
    """The unmasking in effect on `model` (all-causal when none was applied)."""
    structure = find_decoder(model)
    state = _get_state(structure)
    if state is None:
        return UnmaskConfig(num_layers=structure.num_layers, layers=())
    return state.config


def saved_unmasking(config: Any) -> UnmaskConfig | None:
    """The unmasking recorded in a (loaded) model config, if any."""
    data = getattr(config, CONFIG_KEY, None)
    return UnmaskConfig.from_dict(data) if data else None


def apply_saved_unmasking(model: nn.Module, *, verify: bool = True) -> UnmaskConfig | None:
    """Re-apply the unmasking stored in `model.config` after `from_pretrained`; returns it."""
    saved = saved_unmasking(model.config)
    if saved is not None:
        unmask(model, saved, verify=verify)
    return saved
