"""Which decoder blocks get LoRA adapters (`lora_blocks`), checked without loading torch."""

from __future__ import annotations

from collections.abc import Sequence

BLOCKS_ALL, BLOCKS_UNMASKED = "all", "unmasked"


def check_lora_blocks(spec: str) -> None:
    """`all`, `unmasked` or `A-B` (block indices, inclusive); the model's depth is checked when it is loaded."""
    if spec in (BLOCKS_ALL, BLOCKS_UNMASKED):
        return
    start, dash, end = spec.partition("-")
    if not (dash and start.strip().isdigit() and end.strip().isdigit() and int(start) <= int(end)):
        raise ValueError(f"lora_blocks must be all, unmasked or a block range such as 15-29, not {spec!r}")


def lora_block_indices(spec: str, num_layers: int, unmasked: Sequence[int]) -> list[int] | None:
    """The decoder blocks `spec` names; None for all of them.

    `unmasked` starts at the lowest unmasked block: LoRA below it would only adapt blocks that
    still see the left context alone, and leaving them frozen means backpropagation stops there.
    """
    check_lora_blocks(spec)
    if spec == BLOCKS_ALL:
        return None
    if spec == BLOCKS_UNMASKED:
        if not unmasked:
            raise ValueError("lora_blocks=unmasked needs unmasked blocks, and this run unmasks none (causal)")
        return list(range(min(unmasked), num_layers))
    start, _, end = spec.partition("-")
    first, last = int(start), int(end)
    if last >= num_layers:
        raise ValueError(f"lora_blocks={spec}: the model has blocks 0-{num_layers - 1}")
    return list(range(first, last + 1))
