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
from collections.abc import Iterable
from typing import Any

import torch
from torch import nn
from transformers.masking_utils import create_bidirectional_mask, create_bidirectional_sliding_window_mask

from ..errors import UnmaskingError
from .check import verify_unmasking
from .config import CONFIG_KEY, UnmaskConfig
from .easing import eased_mask
from .state import STATE_ATTR, DecoderStructure, UnmaskState, find_decoder, unmask_state

__all__ = ["apply_saved_unmasking", "remove_unmasking", "saved_unmasking", "unmask"]


def _bind(fn: Any, args: tuple, kwargs: dict) -> inspect.BoundArguments:
    return inspect.signature(fn).bind_partial(*args, **kwargs)


def _remember_padding_mask(state: UnmaskState, structure: DecoderStructure):
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


def _swap_in_bidirectional_mask(state: UnmaskState, structure: DecoderStructure, index: int):
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
        key = ("sliding" if sliding else "full", hidden.shape[0], hidden.shape[1], hidden.dtype, hidden.device,
               state.right_weight)
        masks = state.context.masks
        if key not in masks:
            if state.right_weight < 1:  # training eases the block in (see `easing`)
                masks[key] = eased_mask(structure, hidden, state.context.padding_mask, state.right_weight, index)
            else:
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


def remove_unmasking(model: nn.Module) -> None:
    """Remove every hook lookright installed and restore the attention modules' causal flags."""
    structure = find_decoder(model)
    state = unmask_state(structure)
    if state is None:
        return
    for handle in state.handles:
        handle.remove()
    for module, flag in state.original_is_causal.items():
        module.is_causal = flag
    delattr(structure.backbone, STATE_ATTR)


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
        state = UnmaskState(config=resolved)
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
        setattr(structure.backbone, STATE_ATTR, state)

    _record_in_configs(model, structure, resolved)
    if verify:
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
