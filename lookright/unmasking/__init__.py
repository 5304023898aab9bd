"""Layer-wise causal-mask removal: choose blocks, apply them to a loaded model, prove it worked.

- `config`: which blocks (`UnmaskConfig`, group strings such as `0011`, layer lists);
- `state`: where a model's decoder blocks are and which unmasking is in effect;
- `mechanism`: `unmask` (hooks, no copied modelling code), saved settings re-applied on load;
- `check`: `check_attention` measures which blocks see right context, `verify_unmasking` insists.

The torch-side modules load on first use (PEP 562): a command checks a config string such as
`0021` and refuses it in a fraction of a second, before torch is imported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import lazy_names
from .config import UnmaskConfig, split_into_groups

_LAZY = {
    **dict.fromkeys(("AttentionCheck", "AttentionProbe", "check_attention", "probe_attention", "verify_unmasking"),
                    ".check"),
    **dict.fromkeys(("apply_saved_unmasking", "remove_unmasking", "saved_unmasking", "unmask"), ".mechanism"),
    **dict.fromkeys(("current_unmasking", "find_decoder"), ".state"),
}

if TYPE_CHECKING:
    from .check import AttentionCheck, AttentionProbe, check_attention, probe_attention, verify_unmasking
    from .mechanism import apply_saved_unmasking, remove_unmasking, saved_unmasking, unmask
    from .state import current_unmasking, find_decoder


__getattr__, __dir__ = lazy_names(__name__, _LAZY, globals())


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
