"""Load a decoder with a token-classification head, on CPU or GPU, optionally in 4 bits.

One function for every architecture: the head class comes from the Auto API (or `heads.py` when
transformers has none), the unmasking is applied separately by `lookright.unmask`.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import AutoConfig, AutoModelForTokenClassification, AutoTokenizer, PreTrainedModel
from transformers.utils import logging as hf_logging

from ..errors import ModelError
from .files import RESTORE, check_hf_directory, loading
from .hardware import cpu_has_native_bf16
from .heads import ensure_token_classification_class
from .resolve import cache_dir, resolve_model

HEAD_MODULE = "score"  # transformers' decoder heads (GenericForTokenClassification) name it so
HEAD_MODULES = (HEAD_MODULE, "classifier")  # decoders' `score`; BERT/RoBERTa/DeBERTa's `classifier`


def head_module_name(model) -> str:
    """The name of the token-classification head of `model` (peft trains and saves it fully)."""
    for name in HEAD_MODULES:
        for module_name, _ in model.named_modules():
            if module_name.rsplit(".", 1)[-1] == name:
                return name
    raise ModelError(f"{type(model).__name__} has no token-classification head named {' or '.join(HEAD_MODULES)}")


DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


@dataclass(frozen=True)
class Precision:
    """Numerics chosen for the hardware: bf16 where it runs natively (a CUDA GPU, or a CPU with
    AVX512-BF16/AMX), fp32 elsewhere, optionally 4-bit on a CUDA GPU."""

    dtype: torch.dtype
    quantize_4bit: bool
    device: str

    @classmethod
    def choose(
        cls, precision: str = "auto", quantize: str = "none", device: str | None = None, finetune: str = "lora"
    ) -> Precision:
        """The rule for `precision="auto"`, for training and scoring a model fine-tuned with `finetune`
        (`lora` or `full`):

        - a CUDA GPU with bf16: bf16 weights for LoRA (adapters and head train in fp32, see `add_lora`);
          full fine-tuning keeps fp32 master weights and trains under bf16 autocast;
        - a CPU with native bf16 (`cpu_has_native_bf16`: AVX512-BF16 or AMX): bf16 for LoRA training
          (frozen base in bf16, adapters and head in fp32 under bf16 autocast) and for scoring;
        - anything else, and full fine-tuning on a CPU: fp32.

        `quantize="auto"`: 4-bit QLoRA when a CUDA GPU and bitsandbytes are there and LoRA is used.
        """
        device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        on_gpu = device.startswith("cuda") and torch.cuda.is_available()
        if quantize not in ("none", "4bit", "auto"):
            raise ModelError(f"unknown quantization {quantize!r}: use none, 4bit or auto")
        if quantize == "4bit" and not on_gpu:
            raise ModelError("4-bit QLoRA needs a CUDA GPU (bitsandbytes); on CPU use --quantize none")
        if quantize == "4bit" and finetune != "lora":
            raise ModelError("4-bit weights cannot be fine-tuned directly: use --finetune lora with --quantize 4bit")
        has_bnb = importlib.util.find_spec("bitsandbytes") is not None
        q4 = quantize == "4bit" or (quantize == "auto" and on_gpu and finetune == "lora" and has_bnb)
        if precision == "auto":
            bf16_ok = torch.cuda.is_bf16_supported() if on_gpu else cpu_has_native_bf16()
            dtype = torch.bfloat16 if bf16_ok and finetune == "lora" else torch.float32
        elif precision in DTYPES:
            dtype = DTYPES[precision]
        else:
            raise ModelError(f"unknown precision {precision!r}: use auto, {', '.join(DTYPES)}")
        return cls(dtype=dtype, quantize_4bit=q4, device=device)

    @property
    def autocast_bf16(self) -> bool:
        """Train under bf16 autocast: on a GPU with bf16 support whatever the weights' dtype, on a
        CPU when bf16 was asked for (the fp32 adapters and head then meet bf16 activations)."""
        if self.device.startswith("cuda"):
            return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
        return self.dtype == torch.bfloat16


def training_attention(requested: str, precision: Precision) -> str:
    """The attention kernel to train with: `auto` means eager on a CPU, the library's choice elsewhere.

    On a CPU, SDPA's backward pass costs more than eager attention's for the short windows sequence
    labelling trains on (SmolLM2-135M, bf16, 2 cores: 813 vs 616 tokens/s at 16 x 48 tokens, equal at
    8 x 128; bench/README.md), and the forward passes cost the same, so scoring keeps SDPA.
    """
    if requested == "auto" and not precision.device.startswith("cuda"):
        return "eager"
    return requested


def restore_scoring_attention(model, requested: str) -> None:
    """After training in eager attention on a CPU (`training_attention`), score as a reload will:
    with the library's default kernel (SDPA where the model has it), so recorded scores reproduce."""
    if requested == "auto" and model.config._attn_implementation == "eager" and getattr(model, "_supports_sdpa", False):
        model.set_attn_implementation("sdpa")


@contextlib.contextmanager
def quiet_transformers():
    """Silence the expected 'newly initialized: score' and 'unused lm_head' load reports."""
    previous = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    env = os.environ.get("HF_HUB_DISABLE_PROGRESS_BARS")
    os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(previous)
        hf_logging.enable_progress_bar()
        if env is None:
            os.environ.pop("HF_HUB_DISABLE_PROGRESS_BARS", None)


def restore_hint(path: str | os.PathLike) -> str:
    """What to do about a damaged file under `path`: lookright's own conversion cache rebuilds itself."""
    if not Path(path).exists():
        return "check the model name (a hub id needs a network connection)"
    try:
        Path(path).resolve().relative_to(cache_dir().resolve())
    except ValueError:
        return RESTORE
    return f"delete {path} and lookright converts the model again"


def load_tokenizer(path: str | os.PathLike):
    """The model's fast tokenizer with a pad token (pads are never attended, any id will do)."""
    # the tokenizers library reports a JSON file that is not a tokenizer as a bare Exception
    with quiet_transformers(), loading(path, "tokenizer", restore_hint(path), errors=(Exception,)):
        tokenizer = AutoTokenizer.from_pretrained(path)
    if not tokenizer.is_fast:
        raise ModelError(f"{path}: a fast (Rust) tokenizer is required for character offsets")
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token or tokenizer.unk_token or tokenizer.convert_ids_to_tokens(0)
    return tokenizer


def load_token_classifier(
    path: str | os.PathLike,
    labels: Sequence[str],
    *,
    precision: Precision | None = None,
    attn_implementation: str = "auto",
    pad_token_id: int | None = None,
    classifier_dropout: float = 0.1,
    config=None,
) -> PreTrainedModel:
    """Load `path` (an HF directory) as a token classifier over `labels`; the head starts fresh."""
    precision = precision or Precision.choose()
    if config is None:
        config = AutoConfig.from_pretrained(path)
        config.num_labels = len(labels)
        config.id2label = dict(enumerate(labels))
        config.label2id = {label: i for i, label in enumerate(labels)}
        config.classifier_dropout = classifier_dropout
        if pad_token_id is not None:
            config.pad_token_id = pad_token_id
    ensure_token_classification_class(config)
    # the head stays in full precision under 4 bits (peft#1720)
    return _from_pretrained(AutoModelForTokenClassification, path, precision, attn_implementation, config, HEAD_MODULES)


def load_causal_lm(
    path: str | os.PathLike,
    labels: Sequence[str] = (),
    *,
    precision: Precision | None = None,
    attn_implementation: str = "auto",
    config=None,
) -> PreTrainedModel:
    """Load `path` as a causal LM (method generative writes its labels as text)."""
    from transformers import AutoModelForCausalLM

    return _from_pretrained(AutoModelForCausalLM, path, precision or Precision.choose(), attn_implementation, config)


def _from_pretrained(
    auto_class, path, precision: Precision, attn_implementation: str, config, keep_full: Sequence[str] = ()
) -> PreTrainedModel:
    """`auto_class.from_pretrained` on the chosen device and dtype, 4-bit (NF4) when `precision` says so;
    `keep_full` names modules that stay unquantised."""
    kwargs = {"dtype": precision.dtype}
    if config is not None:
        kwargs["config"] = config
    if attn_implementation != "auto":  # auto: transformers picks SDPA where the model supports it
        kwargs["attn_implementation"] = attn_implementation
    if precision.quantize_4bit:
        from transformers import BitsAndBytesConfig

        if importlib.util.find_spec("bitsandbytes") is None:
            raise ModelError("--quantize 4bit needs bitsandbytes: pip install 'lookright[gpu]'")

        compute = precision.dtype if precision.dtype != torch.float32 else torch.bfloat16
        quantization = dict(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=compute,
            bnb_4bit_quant_storage=compute,  # lets FSDP shard the 4-bit weights like the others
        )
        if keep_full:
            quantization["llm_int8_skip_modules"] = list(keep_full)
        kwargs["quantization_config"] = BitsAndBytesConfig(**quantization)
        kwargs["device_map"] = {"": _local_device(precision.device)}
    hint = restore_hint(path)
    if Path(path).is_dir():  # not a hub id: name a damaged file before transformers trips on it
        check_hf_directory(path, hint)
    with quiet_transformers(), loading(path, "model weights", hint):
        model = auto_class.from_pretrained(path, **kwargs)
    if not precision.quantize_4bit:
        model.to(_local_device(precision.device))
    return model


def _local_device(device: str) -> str:
    """Under `accelerate launch`, each process's own GPU (LOCAL_RANK), not every process on cuda:0."""
    if device == "cuda" and "LOCAL_RANK" in os.environ:
        return f"cuda:{int(os.environ['LOCAL_RANK'])}"
    if device == "cuda":
        return f"cuda:{torch.cuda.current_device()}"
    return device


def load_base(spec: str | None, labels: Sequence[str], **kwargs) -> tuple[PreTrainedModel, object]:
    """Resolve a user model spec, then load its tokenizer and a fresh token classifier."""
    path = resolve_model(spec)
    tokenizer = load_tokenizer(path)
    model = load_token_classifier(path, labels, pad_token_id=tokenizer.pad_token_id, **kwargs)
    return model, tokenizer
