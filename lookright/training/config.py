"""One validated training configuration shared by the CLI, config files and the Python API.

Defaults follow the paper's recipe (LoRA with a fully trained head, first-subword labels, 128-subword
inputs, lr 2e-4 for 7B models, 5 epochs, selection on validation) scaled to the small default model:
a 135M decoder learns faster with a higher learning rate and LoRA on every block linear layer.

`method` picks how labels are produced (a `lookright.methods.Method`), so the alternatives the paper
compares against train with the same data pipeline and budget: `unmask` (token classifier, chosen
groups bidirectional), `causal` (the same with no unmasking), `repeat` (sequence repetition: the
sentence r+1 times through the causal model, labels from the last copy), `generative` (SIFT-style
constrained span generation), `encoder` (an MLM encoder such as BERT/MiniLM as token classifier),
or one registered with `lookright.methods.register`. What depends on the method (default learning
rate and fine-tuning mode, unmasking, checks) the method answers.
"""

from __future__ import annotations

import difflib
import json
import os
import tomllib
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..methods.registry import get_method

if TYPE_CHECKING:
    from ..methods.base import Method


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
    method: str = "unmask"  # unmask | causal | repeat | generative | encoder
    unmask: str | None = None  # method unmask: group string (first char = input side) or layers:i,j; default 0011
    finetune: str = "auto"  # lora | full | auto (full for encoders, LoRA for decoders)
    repeat: int = 1  # method repeat: extra copies r (the model reads r+1 copies)
    exit_layer: int | None = None  # keep only the first N blocks (early exit); None = all
    demos: int = 1  # method generative: demonstrations in each prompt (0, 1, 3...)
    demo_selection: str = "similar"  # similar (most word overlap) | random
    instruction: bool = False  # method generative: prepend an instruction naming the label types
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    lora_targets: str = "all"  # all | attention | qv | comma-separated module names
    epochs: float = 3.0
    max_steps: int = -1
    batch_size: int = 16
    grad_accum: int = 1
    learning_rate: float | None = None  # None: 1e-3 LoRA, 5e-4 generative LoRA, 1e-4 encoder, 5e-5 full decoder
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
    eval_batch_tokens: int | None = None  # tokens per evaluation batch; None: 1,024 on CPU, 8,192 on GPU
    resume: bool = False  # continue OUTPUT/checkpoints (written with the same settings only)
    overwrite: bool = False  # replace whatever run OUTPUT holds (cleared when training starts)
    keep_checkpoints: int = 2
    log_every_seconds: float = 30.0  # not in a terminal (logs, CI): a progress line this often; a terminal has a live bar

    def __post_init__(self) -> None:
        if self.method in ("lora", "full"):  # configs written before `finetune` existed
            self.finetune, self.method = self.method, "unmask"

    @property
    def labelling(self) -> Method:
        """The labelling method (`lookright.methods`) this configuration trains."""
        return get_method(self.method)

    @property
    def unmask_config(self) -> str:
        """The unmasking actually applied: the user's for `unmask`, none (causal) for the other built-ins."""
        return self.labelling.unmask_config(self)

    @property
    def finetune_mode(self) -> str:
        """`lora` or `full`: as given, or the method's default (full for encoders, LoRA for decoders)."""
        return self.finetune if self.finetune != "auto" else self.labelling.default_finetune

    @property
    def lr(self) -> float:
        """The learning rate: as given, or the method's default for its fine-tuning mode."""
        if self.learning_rate is not None:
            return self.learning_rate
        return self.labelling.learning_rate(self.finetune_mode)

    @property
    def repeats(self) -> int:
        """Extra copies of each window the model reads (0 unless method is `repeat`)."""
        return self.labelling.repeats(self)

    def describe(self) -> str:
        """What runs, in a few words (logs, comparison tables): e.g. `unmask 0011`, `repeat r=1`."""
        return self.labelling.describe(self) + (f", exit at block {self.exit_layer}" if self.exit_layer else "")

    def validate(self) -> TrainConfig:
        if not self.train:
            raise ValueError("a training file is required (--train)")
        if self.validation and self.validation_holdout:
            raise ValueError("give either a validation file or validation_holdout, not both")
        method = self.labelling  # an unknown name fails here, listing the known ones
        if self.finetune not in ("lora", "full", "auto"):
            raise ValueError(f"unknown finetune mode {self.finetune!r}: use lora, full or auto")
        method.validate(self)
        if self.exit_layer is not None and self.exit_layer < 1:
            raise ValueError("exit_layer must be a positive number of blocks")
        if self.demos < 0:
            raise ValueError("demos must be 0 or more")
        if self.demo_selection not in ("similar", "random"):
            raise ValueError("demo_selection must be similar or random")
        if self.batch_size < 1 or self.grad_accum < 1:
            raise ValueError("batch_size and grad_accum must be positive")
        if self.max_length < 8:
            raise ValueError("max_length must be at least 8 subwords")
        if not 0 <= self.stride < self.max_length // 2:
            raise ValueError("stride must be between 0 and max_length / 2")
        if self.log_every_seconds < 0:
            raise ValueError("log_every_seconds must be 0 (a line every step) or more")
        if self.stop_after_fraction is not None and not 0 < self.stop_after_fraction <= 1:
            raise ValueError("stop_after_fraction must be in (0, 1]")
        if self.train_scheme.upper() not in ("IOB2", "BIO", "BIOES", "IOBES"):
            raise ValueError("train_scheme must be IOB2 or BIOES")
        from ..modeling.loading import DTYPES  # the names Precision.choose accepts

        if self.precision != "auto" and self.precision not in DTYPES:
            *others, last = ["auto", *DTYPES]
            raise ValueError(f"precision must be {', '.join(others)} or {last}, not {self.precision!r}")
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
        if data.get("extra") == {}:  # a field earlier versions wrote and never used
            del data["extra"]
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"{path}: unknown settings {unknown}; valid: {sorted(known)}")
        data.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**data)

    @classmethod
    def parse_settings(cls, items: Sequence[str]) -> dict[str, Any]:
        """`KEY=VALUE` strings (the CLI's `--set`) as settings: any field, without a flag for each.

        VALUE is read as JSON when it parses (`16`, `0.1`, `true`, `null`, `["q_proj"]`) and as a
        string otherwise, so `--set lora_targets=attention` and `--set lora_r=16` both work.
        """
        known = {f.name for f in fields(cls)}
        out: dict[str, Any] = {}
        for item in items:
            key, sep, raw = item.partition("=")
            key = key.strip().replace("-", "_")
            if not sep or not key:
                raise ValueError(f"--set {item!r}: expected KEY=VALUE, e.g. --set lora_r=16")
            if key not in known:
                close = difflib.get_close_matches(key, known, n=3)
                hint = f"; did you mean {', '.join(close)}?" if close else f"; valid: {', '.join(sorted(known))}"
                raise ValueError(f"--set {item!r}: unknown setting {key!r}{hint}")
            try:
                out[key] = json.loads(raw)
            except json.JSONDecodeError:
                out[key] = raw
        return out
