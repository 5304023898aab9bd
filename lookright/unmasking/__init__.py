"""Layer-wise causal-mask removal: choose blocks, apply them to a loaded model, prove it worked.

- `config`: which blocks (`UnmaskConfig`, group strings such as `0011`, layer lists);
- `state`: where a model's decoder blocks are and which unmasking is in effect;
- `mechanism`: `unmask` (hooks, no copied modelling code), saved settings re-applied on load;
- `check`: `check_attention` measures which blocks see right context, `verify_unmasking` insists.

The torch-side modules load on first use (PEP 562): a command checks a config string such as
`0021` and refuses it in a fraction of a second, before torch is imported.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

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


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


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
