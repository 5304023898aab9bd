"""Early exit: keep only the first N decoder blocks, so the head reads block N's states.

The repetition paper labels from an intermediate block (e.g. 24 of 32) at a fraction of the cost.
Truncating the block list and the config (not a forward hook) means the saved config says N blocks,
so a reload builds exactly the truncated model and never computes the dropped blocks.
"""

from __future__ import annotations

from torch import nn

from ..errors import ModelError
from ..unmasking.state import find_decoder


def keep_first_blocks(model: nn.Module, n: int) -> nn.Module:
    """Drop every decoder block after the first `n` (in place); returns `model`."""
    structure = find_decoder(model)
    total = structure.num_layers
    if not 1 <= n <= total:
        raise ModelError(f"exit layer {n} is outside 1..{total} (the model has {total} blocks)")
    if n == total:
        return model
    for parent in model.modules():
        for name, child in list(parent.named_children()):
            if child is structure.layers:
                setattr(parent, name, nn.ModuleList(list(structure.layers)[:n]))
    configs = {id(c): c for c in (getattr(model, "config", None), structure.config) if c is not None}
    for config in configs.values():
        text = config.get_text_config() if hasattr(config, "get_text_config") else config
        text.num_hidden_layers = n
        if isinstance(getattr(text, "layer_types", None), list):
            text.layer_types = text.layer_types[:n]
    return model
