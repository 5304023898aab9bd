"""LoRA through peft, with the classification head trained fully and saved with the adapter.

Two traps from peers are avoided here: peft's "all-linear" preset also wraps the head (it then
cannot be in `modules_to_save`), and a head left out of `modules_to_save` comes back random after
reload (peft#577, #1070). Targets are therefore resolved from the decoder blocks themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from peft import LoraConfig, PeftModel, TaskType, get_peft_model, prepare_model_for_kbit_training
from torch import nn
from transformers import PreTrainedModel

from ..errors import ModelError
from ..unmasking.state import find_decoder
from .loading import head_module_name

TARGET_PRESETS = ("attention", "all", "qv")


@dataclass(frozen=True)
class LoraSettings:
    """LoRA hyper-parameters; `targets` is a preset (attention, all, qv) or module names."""

    r: int = 16
    alpha: int = 32
    dropout: float = 0.05
    targets: Sequence[str] | str = "all"
    blocks: Sequence[int] | None = None  # decoder block indices to adapt; None: every block


def names_in_blocks(model: nn.Module, leaves: Sequence[str], blocks: Sequence[int]) -> list[str]:
    """Full module names of the linear layers called `leaves` inside the given decoder blocks."""
    structure = find_decoder(model)
    inside = {id(m) for index in blocks for m in structure.layers[index].modules()}
    names = [name for name, module in model.named_modules()
             if id(module) in inside and isinstance(module, nn.Linear) and name.rsplit(".", 1)[-1] in leaves]
    if not names:
        raise ModelError(f"no linear layers named {', '.join(leaves)} in decoder blocks {blocks[0]}-{blocks[-1]}")
    return names


class SharedMask:
    """The last dropout draw of one model, for the sibling LoRA layers that read the same input.

    q, k and v projections (and gate and up) are called one after another on one tensor; their
    adapters then take one dropout mask, as peft gives the adapter of a fused qkv projection
    (GPT-NeoX, Phi-3) and loralib's merged layers do. A layer never reuses a draw it has taken, so
    each adapter still sees a fresh mask per forward pass.
    """

    def __init__(self) -> None:
        self.source: torch.Tensor | None = None
        self.version = -1
        self.p = -1.0
        self.output: torch.Tensor | None = None
        self.takers: set[int] = set()

    def take(self, x: torch.Tensor, p: float, taker: nn.Module) -> torch.Tensor | None:
        if self.source is x and self.version == x._version and self.p == p and id(taker) not in self.takers:
            self.takers.add(id(taker))
            return self.output
        return None

    def keep(self, x: torch.Tensor, p: float, output: torch.Tensor, taker: nn.Module) -> None:
        self.source, self.version, self.p, self.output, self.takers = x, x._version, p, output, {id(taker)}

    def __deepcopy__(self, memo) -> SharedMask:  # a copied model starts without a draw (nor its graph)
        return SharedMask()

    def __getstate__(self) -> dict:
        return SharedMask().__dict__


class CpuDropout(nn.Module):
    """Inverted dropout whose random bits cost a quarter of torch's on a CPU.

    peft draws one dropout mask per adapted layer over that layer's whole input, and torch's CPU
    dropout spends ~4 ns per element in its Bernoulli sampler: a third of a LoRA step of
    SmolLM2-135M on 2 cores (profiled). Here one 64-bit draw of the same generator gives four 16-bit
    uniforms, compared with p (exact to 1/65536), so the same seed gives the same masks run to run.
    With a `SharedMask`, layers reading the same input share one draw (another eighth of a step).
    """

    def __init__(self, p: float, shared: SharedMask | None = None) -> None:
        super().__init__()
        if not 0 <= p < 1:
            raise ValueError(f"dropout must be in [0, 1), got {p}")
        self.p = p
        self.threshold = round(p * 65536) - 32768  # int16 uniforms below this are dropped
        self.shared = shared

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0 or x.device.type != "cpu":
            return nn.functional.dropout(x, self.p, self.training)
        if self.shared is not None and (taken := self.shared.take(x, self.p, self)) is not None:
            return taken
        words = (x.numel() + 3) // 4
        bits = torch.empty(words, dtype=torch.int64).random_(torch.iinfo(torch.int64).min, None)
        dropped = bits.view(torch.int16)[: x.numel()].view(x.shape) < self.threshold
        output = x.masked_fill(dropped, 0) * (1 / (1 - self.p))
        if self.shared is not None:
            self.shared.keep(x, self.p, output, self)
        return output

    def extra_repr(self) -> str:
        return f"p={self.p}" + (", mask shared with siblings" if self.shared is not None else "")


class CastOutsideAutocast:
    """peft's `cast_input_dtype_enabled` flag of a LoRA layer, true only while no autocast is on.

    peft casts each adapted layer's input to the adapter's dtype: bf16 activations of a bf16 base to
    the fp32 adapters, a full copy per layer. Under autocast that copy is wasted (autocast casts it
    back to bf16 for the LoRA matmuls) and was a tenth of a CPU LoRA step; without autocast (an
    unmerged model scored in plain bf16) the cast is needed, so it stays on there.
    """

    def __bool__(self) -> bool:
        return not (torch.is_autocast_enabled("cpu") or torch.is_autocast_enabled("cuda"))


def skip_input_casts_under_autocast(model: nn.Module) -> int:
    """Give every LoRA layer a `CastOutsideAutocast` flag; returns how many layers got it."""
    from peft.tuners.tuners_utils import BaseTunerLayer

    layers = [m for m in model.modules() if isinstance(m, BaseTunerLayer)]
    for layer in layers:
        layer.cast_input_dtype_enabled = CastOutsideAutocast()
    return len(layers)


def use_cpu_dropout(model: nn.Module) -> int:
    """Swap peft's LoRA dropout modules for `CpuDropout` (same p, one `SharedMask` per model); returns
    how many were swapped."""
    swapped = 0
    shared = SharedMask()
    for module in model.modules():
        dropouts = getattr(module, "lora_dropout", None)
        if not isinstance(dropouts, nn.ModuleDict):
            continue
        for name, dropout in dropouts.items():
            if isinstance(dropout, nn.Dropout) and dropout.p > 0:
                dropouts[name] = CpuDropout(dropout.p, shared)
                swapped += 1
    return swapped


def block_linear_names(model: nn.Module, preset: str) -> list[str]:
    """Leaf names of the linear layers inside decoder blocks (`q_proj`, `dense_h_to_4h`...)."""
    structure = find_decoder(model)
    block = structure.layers[0]
    attention_ids = {id(m) for a in structure.attention_modules(0) for m in a.modules()}
    names = []
    for name, module in block.named_modules():
        if not isinstance(module, nn.Linear):
            continue
        leaf = name.rsplit(".", 1)[-1]
        in_attention = id(module) in attention_ids
        if preset == "all" or (preset == "attention" and in_attention) or (preset == "qv" and leaf in ("q_proj", "v_proj")):
            if leaf not in names:
                names.append(leaf)
    if not names:
        raise ModelError(f"no linear layers match the LoRA target preset {preset!r} in {type(block).__name__}")
    return names


def add_lora(
    model: PreTrainedModel, settings: LoraSettings, *, quantized: bool = False, task: str = "token"
) -> PeftModel:
    """Wrap `model` with LoRA adapters; a token-classification head is fully trainable and saved with them.

    `task="causal"` (method generative) keeps the LM head frozen: it is tied to the embeddings.
    """
    if isinstance(settings.targets, str) and settings.targets in TARGET_PRESETS:
        targets = block_linear_names(model, settings.targets)
    elif isinstance(settings.targets, str):
        targets = [t.strip() for t in settings.targets.split(",") if t.strip()]
    else:
        targets = list(settings.targets)
    if settings.blocks is not None:  # full names match exactly one module each in peft
        targets = names_in_blocks(model, targets, settings.blocks)
    if quantized:
        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=False)
    causal = task == "causal"
    config = LoraConfig(
        task_type=TaskType.CAUSAL_LM if causal else TaskType.TOKEN_CLS,
        r=settings.r,
        lora_alpha=settings.alpha,
        lora_dropout=settings.dropout,
        target_modules=targets,
        modules_to_save=[] if causal else [head_module_name(model)],
        bias="none",
    )
    wrapped = get_peft_model(model, config)
    if next(model.parameters()).device.type == "cpu":
        use_cpu_dropout(wrapped)
    skip_input_casts_under_autocast(wrapped)
    for parameter in wrapped.parameters():  # adapters and head learn in fp32 over a bf16/4-bit base
        if parameter.requires_grad and parameter.dtype != torch.float32:
            parameter.data = parameter.data.float()
    return wrapped


def merge_for_inference(model):
    """Fold LoRA into the base weights (about twice as fast on CPU); 4-bit bases stay unmerged.

    Training-time evaluation and `Tagger` both score the merged model, so a reloaded model
    reproduces the recorded scores exactly. The unmasking hooks live on the decoder blocks, which
    merging keeps, so the attention pattern is unchanged.
    """
    if not isinstance(model, PeftModel):
        return model
    base = model.get_base_model()
    if getattr(base, "is_loaded_in_4bit", False) or getattr(base, "is_quantized", False):
        return model
    merged = model.merge_and_unload()
    # The head trained in fp32 over a bf16 base; a reloaded model has it in the base's dtype, so
    # scoring matches after reloading (and the bf16 activations meet a bf16 head). Parameters only:
    # `module.to(dtype)` would also round buffers that transformers keeps in fp32 (the rotary
    # embedding's inverse frequencies), which a model loaded in bf16 does not do.
    dtype = merged.get_input_embeddings().weight.dtype
    with torch.no_grad():
        for parameter in merged.parameters():
            if parameter.dtype != dtype:
                parameter.data = parameter.data.to(dtype)
    return merged
