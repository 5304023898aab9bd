"""lookright: decoder-only LLMs as first-class sequence labelers.

Fine-tune any Hugging Face decoder as a token classifier with the causal mask removed in chosen
groups of blocks (Dukic & Snajder, ACL Findings 2024), evaluate it with strict and lenient span
metrics, and tag raw text with character-offset spans.

The public names are resolved on first use (PEP 562), so `import lookright` and tools that only
read data or score files (`lookright score`, `lookright --help`) never import torch.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

from .errors import DataError, LookrightError, ModelError, TrainingInterrupted, UnmaskingError
from .lazy import lazy_names

# peft and the Trainer still call transformers' deprecated gradient-checkpointing names
warnings.filterwarnings("ignore", message=r".*gradient_checkpointing.*deprecated", category=FutureWarning)

__version__ = "0.1.0"

_LAZY = {  # public name -> the module that defines it
    "UnmaskConfig": ".unmasking",
    "apply_saved_unmasking": ".unmasking",
    "check_attention": ".unmasking",
    "probe_attention": ".unmasking",  # the earlier name of check_attention
    "unmask": ".unmasking",
    "verify_unmasking": ".unmasking",
}

if TYPE_CHECKING:
    from .unmasking import (
        UnmaskConfig,
        apply_saved_unmasking,
        check_attention,
        probe_attention,
        unmask,
        verify_unmasking,
    )


__getattr__, __dir__ = lazy_names(__name__, _LAZY, globals())


__all__ = [
    "DataError",
    "LookrightError",
    "ModelError",
    "TrainingInterrupted",
    "UnmaskConfig",
    "UnmaskingError",
    "apply_saved_unmasking",
    "check_attention",
    "probe_attention",
    "unmask",
    "verify_unmasking",
]
