"""Whether the disk under OUTPUT holds what a run will write, said before its first step.

A disk that fills hours into a run stops it at a checkpoint (`outputs.disk_full_explained`), and a
full fine-tune's checkpoints are three times its weights (AdamW keeps two fp32 moments per weight).
A warning before the first step lets the user free space or keep fewer checkpoints instead.
"""

from __future__ import annotations

import os

from peft import PeftModel
from torch import nn

from ..outputs import free_bytes

ADAM_MOMENTS = 2  # fp32 optimizer states per trainable weight
FP32_BYTES = 4


def checkpoints_at_once(saves: int, keep: int | None) -> int:
    """Checkpoints on disk together: transformers writes a new one before it deletes the oldest."""
    return min(saves, keep + 1) if keep and keep > 0 else saves


def run_bytes(model: nn.Module, checkpoints: int) -> int:
    """Bytes a run writes at most: `checkpoints` checkpoints (weights + optimizer state), then the model.

    A LoRA run saves its adapter and head (the trainable weights), a full fine-tune every weight.
    """
    trainable = [p for p in model.parameters() if p.requires_grad]
    saved = trainable if isinstance(model, PeftModel) else list(model.parameters())
    weights = sum(p.numel() * p.element_size() for p in saved)
    optimizer = ADAM_MOMENTS * FP32_BYTES * sum(p.numel() for p in trainable)
    return checkpoints * (weights + optimizer) + weights


def disk_warning(output: str | os.PathLike, needed: int) -> str | None:
    """A one-line warning when the disk under `output` has less free space than `needed`."""
    free = free_bytes(output)
    if free >= needed:
        return None
    return (f"warning: {output}: {_size(free)} free on its disk, and this run writes up to {_size(needed)} "
            "(checkpoints with optimizer state, then the model); it would stop at a full disk. Free some space, "
            "or keep fewer checkpoints (--set keep_checkpoints=1).")


def _size(count: int) -> str:
    for unit, size in (("GiB", 2**30), ("MiB", 2**20)):
        if count >= size:
            return f"{count / size:,.1f} {unit}"
    return f"{count / 2**10:,.0f} KiB"
