"""Easing unmasked blocks in: right context weighted by w in [0, 1] (0 = causal, 1 = unmasked).

A decoder pretrained causally has never attended to the right; switching a block to bidirectional
at step 0 changes every representation above it at once, which small training sets may not undo.
While easing, an unmasked block gets an additive attention bias of log(w) on positions to the
right of the query, so their attention weight is scaled by w before normalisation; training
raises w from 0 to 1 over its first steps (`easing_weight`, `training.loop.UnmaskEasing`), and
inference always runs at w = 1, so a saved model is an ordinary unmasked model.

Needs a backend that takes a float mask (eager, SDPA); FlashAttention reads a flag only.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ..errors import UnmaskingError
from .state import DecoderStructure, find_decoder, unmask_state

__all__ = ["eased_mask", "easing_weight", "set_right_context_weight"]


def set_right_context_weight(model: nn.Module, weight: float) -> None:
    """Weight of right context in the unmasked blocks of `model` (no-op for a causal model)."""
    if not 0.0 <= weight <= 1.0:
        raise ValueError(f"right-context weight must be in [0, 1], got {weight}")
    state = unmask_state(find_decoder(model))
    if state is not None:
        state.right_weight = weight


def eased_mask(structure: DecoderStructure, hidden: torch.Tensor, padding: torch.Tensor | None, weight: float,
               index: int) -> torch.Tensor:
    """A 4-D additive mask (batch, 1, q, q): padding at the dtype's minimum, right context at log(weight)."""
    implementation = str(getattr(structure.config, "_attn_implementation", "") or "")
    if implementation.startswith("flash") or structure.is_sliding(index):
        raise UnmaskingError(
            f"easing unmasking in needs eager or SDPA full attention; block {index} uses "
            f"{'sliding-window attention' if structure.is_sliding(index) else implementation}"
        )
    batch, length = hidden.shape[:2]
    if padding is not None and padding.shape[-1] != length:
        raise UnmaskingError(f"easing unmasking in: padding mask covers {padding.shape[-1]} positions, not {length}")
    lowest = torch.finfo(hidden.dtype).min
    right = torch.ones(length, length, dtype=torch.bool, device=hidden.device).triu(1)
    bias = torch.zeros(length, length, dtype=hidden.dtype, device=hidden.device)
    bias.masked_fill_(right, math.log(weight) if weight > 0 else lowest)
    mask = bias.expand(batch, 1, length, length)
    if padding is not None:
        mask = mask.masked_fill(~padding.bool()[:, None, None, :], lowest)
    return mask.contiguous()


def easing_weight(step: int, max_steps: int, fraction: float) -> float:
    """w at optimizer step `step`: linear from 0 to 1 over the first `fraction` of `max_steps`."""
    if fraction <= 0:
        return 1.0
    return min(1.0, step / max(1.0, fraction * max_steps))
