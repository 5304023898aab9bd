"""Dynamic int8 linear layers for CPU scoring that keep a decoder's labels (`--quantize int8`).

Plain dynamic quantization (torch's `quantize_dynamic`, int8 weights, activations quantized per call)
costs a decoder token classifier 10+ F1 points: decoders carry activation outliers in a few channels
(and a "massive activation" at the first position: SmolLM2's first-position hidden state reaches
33,618, bench/results/int8_backends.md), so one scale per tensor leaves ordinary values a handful
of int8 steps. Two measured remedies make it usable (bench/README.md, "int8"):

- smoothing (SmoothQuant, Xiao et al. 2023): each linear layer's input channel j is divided by
  s_j = max|x_j|^alpha / max|W_:,j|^(1-alpha) and its weight column multiplied by s_j, which moves
  the outliers' range from the activations into the weights, where per-channel scales absorb it.
  The maxima come from a calibration pass (built-in sentences, or the user's);
- the layers that *write* the outliers, projections from a wider space back to the hidden size
  (the MLP's down projection), and the classification head stay in full precision.

The result is a plain module tree of `torch.ao` dynamic int8 linears (oneDNN kernels where torch has
them, VNNI/AMX int8 on x86), built from the fp32 weights and the smoothing scales, so a saved int8
model is its fp32 weights plus the scales (`int8_smoothing.safetensors`), re-quantized identically on load.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn

from ..errors import ModelError
from .loading import HEAD_MODULES

SCALES_FILE = "int8_smoothing.safetensors"
DEFAULT_ALPHA = 0.8  # measured: 0.5 keeps fewer labels (bench/README.md)

# Calibration text: ordinary sentences of the kinds taggers read (names, places, numbers, case). The
# channel maxima it measures are properties of the model (which channels carry outliers), not of the
# domain; pass your own sentences to `quantize_int8` to calibrate on your data instead.
CALIBRATION_SENTENCES = [
    "The European Commission said on Thursday it disagreed with German advice to consumers.",
    "Peter Blackburn reported from Brussels that the ministers would meet again in March 1997.",
    "SOCCER - JAPAN GET LUCKY WIN , CHINA IN SURPRISE DEFEAT .",
    "Shares of Acme Corp. rose 3.5 percent to $ 42.10 in early trading on the New York Stock Exchange.",
    "Nadim Ladki scored twice as Al Ain beat Syria 2-1 in the Asian Cup on Friday .",
    "The United Nations Security Council voted 14-0 to extend the mission in Bosnia by six months.",
    "Dr. Maria Gonzalez, a researcher at the University of Toronto, published the study in Nature.",
    "Heavy rain flooded roads in northern Italy, and trains between Milan and Turin were cancelled.",
    "In a statement released late on Sunday, the company denied that it had breached the contract.",
    "Results of English Premier League matches played on Saturday : Arsenal 2 Chelsea 1 , Leeds 0 Everton 0 .",
    "Prime Minister John Howard told reporters in Sydney that the budget would return to surplus.",
    "The Dow Jones industrial average fell 57.32 points , or 0.9 percent , to 6,400.15 .",
    "She moved to Berlin in 2015 and now works for a small software start-up called Lumen.",
    "Police in Nairobi arrested three men after a shooting near the Kenyatta International Conference Centre.",
    "What time does the next flight from London Heathrow to Tokyo Narita leave tomorrow morning?",
    "Volkswagen AG and Toyota Motor Corp plan to cut prices of their small cars in Europe next year.",
    "the quick brown fox jumps over the lazy dog while the farmer watches from the old barn",
    "A spokesman for the Red Cross in Geneva said aid convoys had reached the town of Goma .",
    "Serena Williams won the final 6-3 , 7-5 at Wimbledon , her seventh title there .",
    "Oil prices climbed above $ 90 a barrel after OPEC agreed to extend production cuts until June .",
    "I bought a new phone from Samsung last week but the battery already drains too fast .",
    "Barcelona coach Louis van Gaal said Ronaldo would miss Wednesday 's match against Valencia .",
    "The court in The Hague adjourned the hearing until 10 a.m. on Monday , 14 October .",
    "Microsoft Chairman Bill Gates spoke at a technology conference in Las Vegas on Tuesday night .",
]


@dataclass(frozen=True)
class Int8Record:
    """How a model was quantized (written to the model card and the parity report)."""

    scheme: str
    engine: str
    alpha: float
    quantized_layers: int
    full_precision_layers: int
    calibration: str

    def to_dict(self) -> dict:
        return asdict(self)


def _require_quantized_engine() -> str:
    """oneDNN where torch has it (measured fastest here: 1.5x fbgemm, 1.9x x86), else the default."""
    engines = torch.backends.quantized.supported_engines
    if not engines or engines == ["none"]:
        raise ModelError("this torch build has no quantized CPU kernels: --quantize int8 is not available")
    if "onednn" in engines:
        torch.backends.quantized.engine = "onednn"
    return torch.backends.quantized.engine


def int8_layers(model: nn.Module) -> tuple[dict[str, nn.Linear], list[str]]:
    """(linear layers to quantize, names kept in full precision): the head and every projection from
    a wider space back to the hidden size (the MLP down projection, which writes the outliers into
    the residual stream)."""
    config = getattr(model, "config", None)
    config = config.get_text_config() if config is not None and hasattr(config, "get_text_config") else config
    hidden = getattr(config, "hidden_size", None)
    quantize, keep = {}, []
    for name, module in model.named_modules():
        if not isinstance(module, nn.Linear):
            continue
        writes_back = module.out_features == hidden and module.in_features > hidden
        if name.rsplit(".", 1)[-1] in HEAD_MODULES or writes_back:
            keep.append(name)
        else:
            quantize[name] = module
    return quantize, keep


def channel_maxima(layers: dict[str, nn.Linear], run: Callable[[], None]) -> dict[str, torch.Tensor]:
    """max |input| per input channel of each layer over what `run()` feeds the model."""
    maxima: dict[str, torch.Tensor] = {}

    def recorder(name: str):
        def hook(module, args):
            x = args[0].detach().abs().float().reshape(-1, args[0].shape[-1]).amax(0)
            maxima[name] = torch.maximum(maxima[name], x) if name in maxima else x

        return hook

    handles = [layer.register_forward_pre_hook(recorder(name)) for name, layer in layers.items()]
    try:
        run()
    finally:
        for handle in handles:
            handle.remove()
    missing = sorted(set(layers) - set(maxima))
    if missing:
        raise ModelError(f"int8 calibration never reached {len(missing)} layers (e.g. {missing[0]})")
    return maxima


def smoothing_scales(layers: dict[str, nn.Linear], maxima: dict[str, torch.Tensor], alpha: float) -> dict[str, torch.Tensor]:
    """s_j = max|x_j|^alpha / max|W_:,j|^(1-alpha) per input channel (SmoothQuant)."""
    scales = {}
    for name, layer in layers.items():
        weight_max = layer.weight.detach().abs().float().amax(0).clamp(min=1e-5)
        scales[name] = (maxima[name].clamp(min=1e-5) ** alpha / weight_max ** (1 - alpha)).clamp(min=1e-5)
    return scales


def fold_smoothing(layers: dict[str, nn.Linear], scales: dict[str, torch.Tensor]) -> None:
    """W[:, j] *= s_j and x_j /= s_j (a forward pre-hook): the same function, outliers moved into W."""
    with torch.no_grad():
        for name, layer in layers.items():
            scale = scales[name].to(layer.weight.dtype)
            layer.weight.mul_(scale)
            inverse = (1 / scale).contiguous()
            layer.register_forward_pre_hook(lambda module, args, inverse=inverse: (args[0] * inverse, *args[1:]))


def apply_int8(
    model: nn.Module, scales: dict[str, torch.Tensor], *, alpha: float, calibration: str
) -> Int8Record:
    """Fold the smoothing scales into the weights and swap the layers for dynamic int8 ones, in place."""
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    if next(model.parameters()).dtype != torch.float32:
        raise ModelError("int8 quantization starts from fp32 weights: load the model with precision fp32")
    layers, keep = int8_layers(model)
    if set(scales) != set(layers):
        raise ModelError(f"the int8 smoothing scales cover {len(scales)} layers, the model has {len(layers)} to quantize")
    engine = _require_quantized_engine()
    fold_smoothing(layers, scales)
    with warnings.catch_warnings():  # torch deprecates quantized tensors, not these modules (torch 2.13)
        warnings.simplefilter("ignore")
        quantize_dynamic(model, {name: per_channel_dynamic_qconfig for name in layers}, dtype=torch.qint8, inplace=True)
    return Int8Record("int8-dynamic, smoothed, per-channel weights", engine, alpha, len(layers), len(keep), calibration)


def quantize_int8(
    model: nn.Module, run_calibration: Callable[[], None], *, alpha: float = DEFAULT_ALPHA, calibration: str = "built-in"
) -> tuple[Int8Record, dict[str, torch.Tensor]]:
    """Calibrate (run_calibration() feeds sentences through `model`), smooth, quantize in place.

    Returns the record and the smoothing scales (what `save_scales` writes, so a reload is identical).
    """
    layers, _ = int8_layers(model)
    if not layers:
        raise ModelError(f"{type(model).__name__} has no linear layers to quantize")
    scales = smoothing_scales(layers, channel_maxima(layers, run_calibration), alpha)
    return apply_int8(model, scales, alpha=alpha, calibration=calibration), scales


def save_scales(scales: dict[str, torch.Tensor], directory: str | os.PathLike) -> Path:
    from safetensors.torch import save_file

    path = Path(directory) / SCALES_FILE
    save_file({name: tensor.contiguous() for name, tensor in scales.items()}, str(path))
    return path


def load_scales(directory: str | os.PathLike) -> dict[str, torch.Tensor]:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = Path(directory) / SCALES_FILE
    if not path.is_file():
        raise ModelError(f"{path} is missing: the card says the model is int8, but its smoothing scales are gone")
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError) as error:
        raise ModelError(f"{path}: unreadable int8 smoothing scales ({error}); re-export the model") from None
