"""Layer-wise causal-mask removal: choose blocks, apply them to a loaded model, prove it worked."""

from .check import AttentionProbe, probe_attention, verify_unmasking
from .config import UnmaskConfig, split_into_groups
from .mechanism import (
    apply_saved_unmasking,
    current_unmasking,
    find_decoder,
    remove_unmasking,
    saved_unmasking,
    unmask,
)

__all__ = [
    "AttentionProbe",
    "UnmaskConfig",
    "apply_saved_unmasking",
    "current_unmasking",
    "find_decoder",
    "probe_attention",
    "remove_unmasking",
    "saved_unmasking",
    "split_into_groups",
    "unmask",
    "verify_unmasking",
]
