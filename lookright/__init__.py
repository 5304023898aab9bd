"""lookright: decoder-only LLMs as first-class sequence labelers.

Fine-tune any Hugging Face decoder as a token classifier with the causal mask removed in chosen
groups of blocks (Dukic & Snajder, ACL Findings 2024), evaluate it with strict and lenient span
metrics, and tag raw text with character-offset spans.
"""

import warnings

# peft and the Trainer still call transformers' deprecated gradient-checkpointing names
warnings.filterwarnings("ignore", message=r".*gradient_checkpointing.*deprecated", category=FutureWarning)

from .errors import DataError, LookrightError, ModelError, UnmaskingError  # noqa: E402
from .unmasking import (  # noqa: E402
    UnmaskConfig,
    apply_saved_unmasking,
    probe_attention,
    unmask,
    verify_unmasking,
)

__version__ = "0.1.0"

__all__ = [
    "DataError",
    "LookrightError",
    "ModelError",
    "UnmaskConfig",
    "UnmaskingError",
    "apply_saved_unmasking",
    "probe_attention",
    "unmask",
    "verify_unmasking",
]
