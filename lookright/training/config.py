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
import math
import os
import tomllib
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..methods.auto_policy import AUTO_LARGE_UNMASK, AUTO_REPEAT_UP_TO
from ..methods.registry import get_method
from ..unmasking.config import DEFAULT_UNMASK

if TYPE_CHECKING:
    from ..methods.base import Method

# Which commands offer a setting as a flag of its own; every setting is also reachable with `--set`.
ALL_COMMANDS = ("train", "sweep", "compare")
TRAIN_AND_SWEEP = ("train", "sweep")
TRAIN = ("train",)


# `--epochs` unset: 3 passes, more on a small training set so that it gets about the optimizer steps
# of 1,000 sentences x 3 epochs. Measured (bench/README, learning curve, 3 seeds): NER at 250
# sentences, repetition + unmasking, 39.3 F1 after 3 epochs and 60.4 after 12.
DEFAULT_EPOCHS = 3.0
MIN_SENTENCES_SEEN = 3000


def auto_epochs(train_sentences: int) -> float:
    """Whole passes for `--epochs` unset: the default, or enough to see MIN_SENTENCES_SEEN sentences."""
    return float(max(DEFAULT_EPOCHS, math.ceil(MIN_SENTENCES_SEEN / max(train_sentences, 1))))


def setting(default: Any, help: str, *, commands: tuple[str, ...] = TRAIN, flag: str | None = None, short: str = ""):
    """A `TrainConfig` field with its documentation, from which the CLI builds its options.

    `commands`: the commands with a flag for it (empty: `--set` and config files only); `flag`: the
    flag's name, default `--field-name` (`--x/--no-x` for booleans; a bare `--x` only turns it on).
    """
    return field(default=default, metadata={"help": help, "commands": commands, "flag": flag, "short": short})


@dataclass
class TrainConfig:
    """Everything `lookright train` needs; any field can come from a JSON/TOML file or a CLI flag."""

    train: str = setting("", "Training file (CoNLL, CoNLL-U or JSONL, or hf:dataset:split).", commands=ALL_COMMANDS)
    validation: str | None = setting(
        None, "Validation file: model selection happens here only.", commands=ALL_COMMANDS
    )
    output: str = setting("runs/model", "Directory for the trained model.", short="-o")
    model: str | None = setting(
        None, "HF model dir, .gguf file or hub id; default: bundled SmolLM2-135M.", commands=ALL_COMMANDS
    )
    data_format: str = setting(
        "auto", "auto (by extension; .json/.jsonl by their first record), conll, conllu, jsonl, label-studio, doccano, "
        "prodigy or spacy.", commands=ALL_COMMANDS, flag="--format",
    )
    snap_spans: bool = setting(
        False, "Annotation-tool files: extend a span whose edge cuts a word to whole words (counted in a warning) "
        "instead of stopping.", commands=ALL_COMMANDS,
    )
    label_column: int | str = setting(
        -1, "CoNLL column index (CoNLL-2003: 3 NER, 2 chunk, 1 POS), upos/xpos, or a hf: field.", commands=ALL_COMMANDS
    )
    scheme: str | None = setting(None, "Scheme of the input tags (IOB1, IOB2, BIOES, IO, NONE); default: detect.")
    train_scheme: str = setting("IOB2", "Scheme the model learns: IOB2 or BIOES (per-word tags such as POS stay).")
    method: str = setting(
        "auto", f"How labels are produced: auto (default: repeat with --unmask up to {AUTO_REPEAT_UP_TO:,} training "
        "sentences, unmask above), unmask, causal, repeat, generative, encoder or a registered one."
    )
    unmask: str | None = setting(
        None, "Bidirectional groups, e.g. 0011 (first char = input side), or layers:20,21; default: unmask "
        f"{DEFAULT_UNMASK}, repeat none, auto {DEFAULT_UNMASK} up to {AUTO_REPEAT_UP_TO:,} training sentences and "
        f"{AUTO_LARGE_UNMASK} above."
    )
    finetune: str = setting(
        "auto", "lora, full or auto (full for encoders, LoRA for decoders).", commands=TRAIN_AND_SWEEP
    )
    repeat: int = setting(1, "Method repeat: extra copies r of the sentence (the model reads r+1).")
    unmask_easing: float = setting(
        0.0, "Ease the unmasked blocks in over this share of the training steps: right context weighted from 0 "
        "(causal) up to 1 (an attention bias log w); 0: unmasked from the first step. Eager/SDPA attention only."
    )
    exit_layer: int | None = setting(None, "Keep only the first N blocks; the head reads block N (early exit).")
    demos: int = setting(1, "Method generative: demonstrations per prompt (0, 1, 3...).")
    demo_selection: str = setting("similar", "Method generative: similar (word overlap) or random.")
    instruction: bool = setting(False, "Method generative: prepend an instruction naming the types.")
    lora_r: int = setting(16, "LoRA rank.")
    lora_alpha: int = setting(32, "LoRA scaling alpha.")
    lora_dropout: float = setting(0.05, "Dropout on the LoRA inputs.")
    lora_targets: str = setting("all", "Layers LoRA adapts: all, attention, qv or comma-separated module names.")
    lora_blocks: str = setting(
        "all", "Decoder blocks LoRA adapts: all; unmasked (the first unmasked block and all above it: no gradient "
        "flows below, so steps are cheaper); or a range of block indices such as 15-29."
    )
    epochs: float | None = setting(
        None, f"Passes over the training data (fractions allowed); default: {DEFAULT_EPOCHS:g}, more on small sets so "
        f"training sees at least {MIN_SENTENCES_SEEN:,} sentences (250 sentences: 12).", commands=ALL_COMMANDS,
    )
    max_steps: int = setting(-1, "Optimizer steps; when positive, instead of --epochs.", commands=ALL_COMMANDS)
    batch_size: int = setting(16, "Sequences per optimizer step and process.", commands=ALL_COMMANDS)
    grad_accum: int = setting(1, "Gradient accumulation steps per optimizer step.")
    learning_rate: float | None = setting(
        None, "Peak learning rate; default: the method's (1e-3 LoRA, 5e-4 generative LoRA, 1e-4 encoder, 5e-5 full).",
        commands=TRAIN_AND_SWEEP, flag="--lr",
    )
    weight_decay: float = setting(0.01, "AdamW weight decay.")
    warmup_ratio: float = setting(0.06, "Share of the steps with linear learning-rate warm-up.")
    max_length: int = setting(128, "Subwords per window (longer sentences are windowed, never cut).")
    stride: int = setting(32, "Subwords of overlap between windows.")
    seed: int = setting(42, "Random seed (data order, head initialisation, dropout).", commands=ALL_COMMANDS)
    max_train_sentences: int | None = setting(
        None, "Use only the first N training sentences.", commands=ALL_COMMANDS
    )
    max_validation_sentences: int | None = setting(
        None, "Use only the first N validation sentences.", commands=ALL_COMMANDS
    )
    validation_holdout: int | None = setting(
        None, "No validation file: hold out the last N training sentences.", commands=ALL_COMMANDS
    )
    labels_from: str | None = setting(
        None, "Take the label set from this labelled file (e.g. when training on a slice).", commands=ALL_COMMANDS
    )
    eval_every: int | None = setting(None, "Validate every N optimizer steps (default: each epoch).")
    patience: int | None = setting(
        3, "Early stopping after N validations without improvement (F1: counted from its first nonzero score)."
    )
    select_best: bool = setting(
        True, "Validate during training and keep the best checkpoint; false: the last step.", commands=()
    )
    stop_after_fraction: float | None = setting(
        None, "Pause (checkpointed) after this share of the full run's steps.", commands=()
    )
    test: str | None = setting(
        None, "Scored once with the final model (never used for selection).", commands=ALL_COMMANDS
    )
    precision: str = setting(
        "auto", "auto: bf16 for LoRA on a GPU or on a CPU with native bf16 (AVX512-BF16/AMX: frozen base in bf16, "
        "adapters and head in fp32), else fp32; or fp32, bf16, fp16.",
    )
    quantize: str = setting("auto", "none, 4bit or auto (4-bit QLoRA on a CUDA GPU with bitsandbytes).")
    attn_implementation: str = setting(
        "auto", "auto (SDPA where supported), sdpa, eager, flash_attention_2 ...", flag="--attn"
    )
    gradient_checkpointing: bool = setting(False, "Recompute activations in the backward pass (less memory).")
    eval_batch_tokens: int | None = setting(
        None, "Tokens per evaluation batch; default 1,024 on a CPU, 8,192 on a GPU.", commands=()
    )
    resume: bool = setting(
        False, "Continue from the last checkpoint in OUTPUT/checkpoints (same settings only).", flag="--resume"
    )
    overwrite: bool = setting(
        False, "Replace the run in OUTPUT (its model and checkpoints are deleted).", flag="--overwrite"
    )
    keep_checkpoints: int = setting(2, "Checkpoints kept in OUTPUT/checkpoints.", commands=())
    log_every_seconds: float = setting(
        30.0, "Outside a terminal (logs, CI): a progress line this often; a terminal has a live bar.", commands=()
    )

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

    def with_epochs(self, train_sentences: int) -> TrainConfig:
        """The configuration with `epochs` fixed: as given, else `auto_epochs` of the training-set size."""
        return self if self.epochs is not None else replace(self, epochs=auto_epochs(train_sentences))

    def describe_budget(self) -> str:
        """The training budget in words (reports): steps, epochs, or the rule `epochs` unset follows."""
        if self.max_steps > 0:
            return f"{self.max_steps} steps"
        if self.epochs is None:
            return f"{DEFAULT_EPOCHS:g} epochs or enough for {MIN_SENTENCES_SEEN:,} sentences"
        return f"{self.epochs:g} epoch(s)"

    def describe(self) -> str:
        """What runs, in a few words (logs, comparison tables): e.g. `unmask 0011`, `repeat r=1`."""
        return (self.labelling.describe(self) + (f", eased in over {self.unmask_easing:.0%} of steps" if self.unmask_easing else "")
                + (f", exit at block {self.exit_layer}" if self.exit_layer else ""))

    def validate(self) -> TrainConfig:
        if not self.train:
            raise ValueError("a training file is required (--train)")
        if self.validation and self.validation_holdout:
            raise ValueError("give either a validation file or validation_holdout, not both")
        method = self.labelling  # an unknown name fails here, listing the known ones
        if self.finetune not in ("lora", "full", "auto"):
            raise ValueError(f"unknown finetune mode {self.finetune!r}: use lora, full or auto")
        method.validate(self)
        from ..modeling.lora_blocks import check_lora_blocks

        check_lora_blocks(self.lora_blocks)
        if not 0.0 <= self.unmask_easing <= 1.0:
            raise ValueError(f"unmask_easing must be a share of the steps in [0, 1], not {self.unmask_easing}")
        if self.unmask_easing and not self.labelling.takes_unmask:
            raise ValueError(f"unmask_easing eases unmasked blocks in; method {self.method!r} unmasks none")
        if self.exit_layer is not None and self.exit_layer < 1:
            raise ValueError("exit_layer must be a positive number of blocks")
        if self.demos < 0:
            raise ValueError("demos must be 0 or more")
        if self.demo_selection not in ("similar", "random"):
            raise ValueError("demo_selection must be similar or random")
        if self.epochs is not None and self.epochs <= 0:
            raise ValueError(f"epochs must be positive, not {self.epochs:g} (leave it unset for the default)")
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
