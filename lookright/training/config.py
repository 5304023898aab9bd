"""One validated training configuration shared by the CLI, config files and the Python API.

Defaults follow the paper's recipe (LoRA with a fully trained head, first-subword labels, 128-subword
inputs, lr 2e-4 for 7B models, 5 epochs, selection on validation) scaled to the small default model:
a 135M decoder learns faster with a higher learning rate and LoRA on every block linear layer.
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any


@dataclass
class TrainConfig:
    """Everything `lookright train` needs; any field can come from a JSON/TOML file or a CLI flag."""

    train: str = ""
    validation: str | None = None
    output: str = "runs/model"
    model: str | None = None  # None = the bundled SmolLM2-135M
    data_format: str = "auto"  # auto | conll | conllu | jsonl
    label_column: int | str = -1  # CoNLL column index, CoNLL-U upos/xpos
    scheme: str | None = None  # scheme of the input files; None = detect
    train_scheme: str = "IOB2"  # scheme the model learns (IOB2 or BIOES); NONE data stays NONE
    unmask: str = "0011"  # group string (first char = group nearest the input) or layers:i,j
    method: str = "lora"  # lora | full
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    lora_targets: str = "all"  # all | attention | qv | comma-separated module names
    epochs: float = 3.0
    max_steps: int = -1
    batch_size: int = 16
    grad_accum: int = 1
    learning_rate: float = 1e-3
    weight_decay: float = 0.01
    warmup_ratio: float = 0.06
    max_length: int = 128
    stride: int = 32
    seed: int = 42
    max_train_sentences: int | None = None
    max_validation_sentences: int | None = None
    validation_holdout: int | None = None  # no validation file: hold out the last N training sentences
    labels_from: str | None = None  # take the label set from this labelled file (e.g. the full training set)
    eval_every: int | None = None  # optimizer steps between validations; None = once per epoch
    patience: int | None = 3  # early stopping after this many validations without improvement
    select_best: bool = True  # validate during training and keep the best checkpoint; False: last step
    stop_after_fraction: float | None = None  # pause (checkpointed) after this share of the full run's steps
    test: str | None = None  # evaluated once with the final model and recorded; never used for selection
    precision: str = "auto"  # auto | fp32 | bf16 | fp16
    quantize: str = "auto"  # auto (4-bit QLoRA on a CUDA GPU with bitsandbytes) | 4bit | none
    attn_implementation: str = "auto"
    gradient_checkpointing: bool = False
    eval_batch_tokens: int = 8192
    resume: bool = False
    keep_checkpoints: int = 2
    extra: dict[str, Any] = field(default_factory=dict)

    def validate(self) -> TrainConfig:
        from ..unmasking.config import LAYERS_PREFIX, parse_group_string

        if not self.train:
            raise ValueError("a training file is required (--train)")
        if self.method not in ("lora", "full"):
            raise ValueError(f"unknown method {self.method!r}: use lora or full")
        if not self.unmask.startswith(LAYERS_PREFIX):
            parse_group_string(self.unmask)
        if self.batch_size < 1 or self.grad_accum < 1:
            raise ValueError("batch_size and grad_accum must be positive")
        if self.max_length < 8:
            raise ValueError("max_length must be at least 8 subwords")
        if not 0 <= self.stride < self.max_length // 2:
            raise ValueError("stride must be between 0 and max_length / 2")
        if self.stop_after_fraction is not None and not 0 < self.stop_after_fraction <= 1:
            raise ValueError("stop_after_fraction must be in (0, 1]")
        if self.train_scheme.upper() not in ("IOB2", "BIO", "BIOES", "IOBES"):
            raise ValueError("train_scheme must be IOB2 or BIOES")
        return self

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_file(cls, path: str | os.PathLike, **overrides: Any) -> TrainConfig:
        """Read a JSON or TOML file (keys = field names, optionally under a [train] table)."""
        path = Path(path)
        text = path.read_text()
        data = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
        if isinstance(data.get("train"), dict):  # a [train] table (TOML); a string is the training file
            data = data["train"]
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"{path}: unknown settings {unknown}; valid: {sorted(known)}")
        data.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**data)
