"""Layer-wise causal-mask removal: choose blocks, apply them to a loaded model, prove it worked.

- `config`: which blocks (`UnmaskConfig`, group strings such as `0011`, layer lists);
- `state`: where a model's decoder blocks are and which unmasking is in effect;
- `mechanism`: `unmask` (hooks, no copied modelling code), saved settings re-applied on load;
- `check`: `check_attention` measures which blocks see right context, `verify_unmasking` insists.
"""

from .check import AttentionCheck, AttentionProbe, check_attention, probe_attention, verify_unmasking
from .config import UnmaskConfig, split_into_groups
from .mechanism import apply_saved_unmasking, remove_unmasking, saved_unmasking, unmask
from .state import current_unmasking, find_decoder

__all__ = [
    "AttentionCheck",
    "AttentionProbe",
    "UnmaskConfig",
    "apply_saved_unmasking",
    "check_attention",
    "current_unmasking",
    "find_decoder",
    "probe_attention",
    "remove_unmasking",
    "saved_unmasking",
    "split_into_groups",
    "unmask",
    "verify_unmasking",
]
