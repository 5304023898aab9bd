"""A trained model directory that reloads as exactly what was trained.

Layout of a lookright model directory:
- `lookright.json`: labels, scheme, labelling method (`lookright.methods`: unmask, causal, repeat,
  generative, encoder, or a registered one), fine-tuning mode (lora/full), base model, window
  settings, unmasking, repetition, training record;
- `config.json`: the model config with `id2label` and `lookright_unmask` (the unmasking travels with
  the weights, so a reload re-applies it);
- LoRA runs: `adapter_config.json` + `adapter_model.safetensors` (adapters *and* the trained head,
  via peft's `modules_to_save`); full fine-tuning: `model.safetensors`;
- the tokenizer files; generative models also keep their demonstration pool (`demonstrations.jsonl`).
"""

from __future__ import annotations

import json
import os
from dataclasses import MISSING, asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from peft import PeftModel
from transformers import AutoConfig, PreTrainedModel

from ..errors import ModelError
from ..methods.registry import get_method
from ..outputs import write_text_atomic
from ..unmasking import apply_saved_unmasking
from .adapters import merge_for_inference
from .files import RESTORE, check_safetensors, check_tokenizer_files, check_weights, loading, read_json_file
from .loading import Precision, load_causal_lm, load_token_classifier, load_tokenizer, quiet_transformers
from .resolve import is_default, resolve_model

if TYPE_CHECKING:
    from ..methods.base import Method

CARD_FILE = "lookright.json"
CONFIG_FILE = "config.json"
ADAPTER_CONFIG = "adapter_config.json"
ADAPTER_WEIGHTS = "adapter_model.safetensors"
FORMAT_VERSION = 2  # 2: `method` is the labelling method, `finetune` the weights (was `method`)


@dataclass
class ModelCard:
    """What a trained directory holds, enough to rebuild and use it without the training config."""

    labels: list[str]
    scheme: str
    method: str
    base_model: str
    max_length: int
    stride: int
    unmask: str
    finetune: str = "lora"
    repeat: int = 0  # extra copies of each window the model reads (method repeat)
    generation: dict[str, Any] = field(default_factory=dict)  # method generative: prompt settings
    label_column: str | int | None = None
    quantization: dict[str, Any] = field(default_factory=dict)  # int8 export: how, and its parity with fp32
    training: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION

    def write(self, directory: str | os.PathLike) -> None:
        path = Path(directory) / CARD_FILE
        write_text_atomic(path, json.dumps(asdict(self), indent=2, default=str) + "\n")

    @classmethod
    def read(cls, directory: str | os.PathLike) -> ModelCard:
        path = Path(directory) / CARD_FILE
        if not path.is_file():
            raise ModelError(f"{directory} is not a lookright model directory (no {CARD_FILE})")
        data = read_json_file(path)
        version = data.get("format_version", 0)
        if not isinstance(version, int):
            raise ModelError(f"{path}: format_version is {version!r}, not a number; {RESTORE}")
        if version > FORMAT_VERSION:
            raise ModelError(f"{path} was written by a newer lookright (format {data['format_version']})")
        if version < 2 and data.get("method") in ("lora", "full"):
            data["finetune"], data["method"] = data["method"], "unmask"
        fields = cls.__dataclass_fields__
        missing = [name for name, f in fields.items() if name not in data and f.default is MISSING
                   and f.default_factory is MISSING]
        if missing:
            raise ModelError(f"{path}: incomplete model card, no {', '.join(missing)}; {RESTORE}")
        labels = data["labels"]
        if not isinstance(labels, list) or not labels or not all(isinstance(label, str) for label in labels):
            raise ModelError(f"{path}: labels must be a non-empty list of strings; {RESTORE}")
        return cls(**{k: v for k, v in data.items() if k in fields})

    def labelling_method(self, directory: str | os.PathLike | None = None) -> Method:
        """The `Method` this model was trained with (a registered one must be registered here too)."""
        try:
            return get_method(self.method)
        except ValueError as error:
            where = Path(directory) / CARD_FILE if directory is not None else CARD_FILE
            raise ModelError(f"{where}: {error}; a method registered by another package must be registered "
                             "before its models load") from None


def scoring_precision(card: ModelCard, precision: str = "auto", device: str | None = None) -> Precision:
    """The numerics to score a trained directory in. `auto`: what `auto` trains this kind of model in
    here (`Precision.choose`: LoRA in bf16 on a GPU or a CPU with native bf16, full fine-tuning in
    fp32 on a CPU), and bf16 on any CPU for a model trained in bf16, so recorded scores reproduce."""
    weights = card.training.get("merged_from") or card.finetune  # an export that merged LoRA in
    chosen = Precision.choose(precision, "none", device, finetune=weights)
    trained_bf16 = card.training.get("precision") == "torch.bfloat16"
    if precision == "auto" and chosen.device == "cpu" and trained_bf16:
        chosen = Precision.choose("bf16", "none", device)
    return chosen


def base_model_spec(spec: str | None) -> str:
    """How the base model is recorded: 'default' for the bundled model, else an absolute path or hub id."""
    if spec is None or is_default(spec):
        return "default"
    path = Path(spec).expanduser()
    return str(path.resolve()) if path.exists() else str(spec)


def unwrap(model) -> PreTrainedModel:
    """The transformers model under a peft wrapper (or the model itself)."""
    return model.get_base_model() if isinstance(model, PeftModel) else model


def save_model_dir(model, tokenizer, card: ModelCard, directory: str | os.PathLike) -> Path:
    """Write weights (adapter + head, or full), config with labels and unmasking, tokenizer, card."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    if isinstance(model, PeftModel):
        model.save_pretrained(directory)
        unwrap(model).config.save_pretrained(directory)
    else:
        model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    card.write(directory)
    return directory


def check_model_dir(directory: str | os.PathLike, card: ModelCard) -> None:
    """Every file `load_model_dir` will read is there and whole (JSON parses, safetensors headers cover
    their tensors), so a damaged file is named in one line instead of deep in a library's traceback."""
    directory = Path(directory)
    read_json_file(directory / CONFIG_FILE)
    check_tokenizer_files(directory)
    if card.finetune == "lora":
        if "peft_type" not in read_json_file(directory / ADAPTER_CONFIG):
            raise ModelError(f"{directory / ADAPTER_CONFIG}: not a peft adapter config (no peft_type); {RESTORE}")
        check_safetensors(directory / ADAPTER_WEIGHTS)
    else:
        check_weights(directory)


def load_model_dir(
    directory: str | os.PathLike,
    *,
    card: ModelCard | None = None,
    precision: Precision | None = None,
    verify: bool = True,
    merge: bool = True,
) -> tuple[Any, Any, ModelCard]:
    """Rebuild a trained model: base weights + adapter/head (or full weights), unmasking re-applied.

    `card`: the directory's card when the caller has read it already. The card's method says
    which head the model has (`Method.task`). With `merge=True` LoRA is folded into the weights for
    inference (see `merge_for_inference`).
    """
    directory = Path(directory)
    card = card if card is not None else ModelCard.read(directory)
    if card.finetune not in ("lora", "full"):
        raise ModelError(f"{directory}: unknown fine-tuning mode {card.finetune!r} in {CARD_FILE}")
    check_model_dir(directory, card)  # every file named before the slow loads below read any of them
    tokenizer = load_tokenizer(directory)
    with loading(directory / CONFIG_FILE, "model config", errors=(OSError, ValueError, KeyError)):
        config = AutoConfig.from_pretrained(directory)
    load = load_causal_lm if card.labelling_method(directory).task == "causal" else load_token_classifier
    if card.finetune == "lora":
        base_path = resolve_model(None if card.base_model == "default" else card.base_model)
        base = load(base_path, card.labels, precision=precision, config=config)
        adapter_errors = (OSError, RuntimeError, ValueError, KeyError, TypeError)
        with quiet_transformers(), loading(directory, "LoRA adapter", errors=adapter_errors):
            model = PeftModel.from_pretrained(base, directory)
        if merge:
            model = merge_for_inference(model)
    else:
        model = load(directory, card.labels, precision=precision, config=config)
    model.eval()
    apply_saved_unmasking(model, verify=verify)
    return model, tokenizer, card
