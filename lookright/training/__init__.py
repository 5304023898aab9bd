"""Fine-tuning: configuration, the Trainer-based loop, progress reporting."""

from .config import TrainConfig
from .trainer import TrainResult, summarize, train

__all__ = ["TrainConfig", "TrainResult", "summarize", "train"]
