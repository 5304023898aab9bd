"""A cheap runtime proof that each block sees exactly what the unmasking config says.

Every peer that patches decoders has shipped a silent causal fallback at some point (batch size 1,
SDPA's `is_causal` fast path, flash attention, dead override methods). Instead of trusting the
mechanism we measure it: each block is fed its own recorded input with a future position perturbed,
and we look at whether earlier positions of *that block's* output move. Feeding every block its
recorded input isolates blocks from each other, so one check of two forward passes tests all of them.
The same check perturbs padding positions and requires real tokens to stay untouched.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from ..errors import UnmaskingError
from .state import DecoderStructure, current_unmasking, find_decoder

PAD = 2  # padding positions per padded check row


@dataclass(frozen=True)
class AttentionCheck:
    """What the self-check measured, per decoder block."""

    sees_right: tuple[int, ...]  # blocks whose earlier positions changed when a later token changed
    padding_leaks: tuple[int, ...]  # blocks whose real tokens changed when only padding changed
    expected: tuple[int, ...]  # blocks the unmasking config says are bidirectional
    num_layers: int

    @property
    def ok(self) -> bool:
        return self.sees_right == self.expected and not self.padding_leaks


def _hidden_of(args: tuple, kwargs: dict) -> torch.Tensor:
    return kwargs["hidden_states"] if "hidden_states" in kwargs else args[0]


def _with_hidden(args: tuple, kwargs: dict, hidden: torch.Tensor) -> tuple[tuple, dict]:
    if "hidden_states" in kwargs:
        return args, {**kwargs, "hidden_states": hidden}
    return (hidden, *args[1:]), kwargs


def _output_of(output) -> torch.Tensor:
    return output[0] if isinstance(output, (tuple, list)) else output


def _run_recorded(
    structure: DecoderStructure,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor | None,
    replace: Callable[[int, torch.Tensor], torch.Tensor] | None,
) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Run the backbone, recording each block's input and output; optionally replace its input."""
    inputs: list[torch.Tensor | None] = [None] * structure.num_layers
    outputs: list[torch.Tensor | None] = [None] * structure.num_layers
    handles = []
    for i, layer in enumerate(structure.layers):

        def pre(module, args, kwargs, i=i):
            hidden = _hidden_of(args, kwargs)
            if replace is not None:
                hidden = replace(i, hidden)
                args, kwargs = _with_hidden(args, kwargs, hidden)
            inputs[i] = hidden.detach().clone()
            return args, kwargs

        def post(module, args, kwargs, output, i=i):
            outputs[i] = _output_of(output).detach().float().clone()

        handles.append(layer.register_forward_pre_hook(pre, with_kwargs=True))
        handles.append(layer.register_forward_hook(post, with_kwargs=True))
    try:
        structure.backbone(input_ids=input_ids, attention_mask=attention_mask, use_cache=False)
    finally:
        for h in handles:
            h.remove()
    return inputs, outputs  # type: ignore[return-value]


def _changed(diff: torch.Tensor, reference: torch.Tensor, dtype: torch.dtype) -> bool:
    """Whether any position moved by more than rounding noise, judged against that position's own scale.

    One global scale does not work: decoders keep "massive activations" (33,618 measured at SmolLM2's
    first position, against ~20 elsewhere), which would hide a real bf16 change at every other position.
    """
    relative = 1e-4 if dtype in (torch.float32, torch.float64) else 1e-3
    scale = reference.abs().amax(dim=-1).clamp_min(1e-6)
    return bool((diff.amax(dim=-1) > relative * scale).any())


def check_attention(model: nn.Module, *, seq_len: int = 8, seed: int = 0) -> AttentionCheck:
    """Measure, block by block, whether earlier positions see later ones and whether padding leaks."""
    structure = find_decoder(model)
    expected = current_unmasking(model).layers
    params = list(structure.backbone.parameters())
    device = params[0].device
    vocab = int(getattr(structure.config, "vocab_size", 1000))
    generator = torch.Generator().manual_seed(seed)
    low = min(100, vocab // 2)
    ids = torch.randint(low, vocab, (3, seq_len), generator=generator).to(device)

    # Row 0: no padding. Row 1: right padding. Row 2: left padding.
    mask = torch.ones(3, seq_len, dtype=torch.long)
    mask[1, -PAD:] = 0
    mask[2, :PAD] = 0
    mask = mask.to(device)

    sees_right: set[int] = set()
    leaks: set[int] = set()
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for batch_ids, batch_mask in ((ids[:1], None), (ids, mask)):
                base_in, base_out = _run_recorded(structure, batch_ids, batch_mask, None)

                def perturb(i: int, hidden: torch.Tensor, base_in=base_in, padded=batch_mask is not None):
                    new = base_in[i].clone()
                    noise = torch.randn(new[:, :1].shape, generator=generator).to(new.device, new.dtype)
                    noise = noise * (10 * float(new.float().std()) + 1e-3)
                    new[0, -1:] += noise[0]
                    if padded:
                        new[1, -PAD:] += noise[0]
                        new[2, :PAD] += noise[0]
                    return new

                _, new_out = _run_recorded(structure, batch_ids, batch_mask, perturb)
                for i in range(structure.num_layers):
                    dtype, ref = base_in[i].dtype, base_out[i]
                    diff = (new_out[i] - ref).abs()
                    if _changed(diff[0, :-1], ref[0, :-1], dtype):
                        sees_right.add(i)
                    if batch_mask is not None and (
                        _changed(diff[1, :-PAD], ref[1, :-PAD], dtype) or _changed(diff[2, PAD:], ref[2, PAD:], dtype)
                    ):
                        leaks.add(i)
    finally:
        model.train(was_training)
    return AttentionCheck(
        sees_right=tuple(sorted(sees_right)),
        padding_leaks=tuple(sorted(leaks)),
        expected=tuple(expected),
        num_layers=structure.num_layers,
    )


def verify_unmasking(model: nn.Module) -> AttentionCheck:
    """Raise `UnmaskingError` unless exactly the configured blocks see right context and padding never leaks."""
    measured = check_attention(model)
    if measured.ok:
        return measured
    expected, seen = set(measured.expected), set(measured.sees_right)
    problems = []
    if expected - seen:
        problems.append(f"blocks {sorted(expected - seen)} should be bidirectional but stayed causal")
    if seen - expected:
        problems.append(f"blocks {sorted(seen - expected)} should be causal but see later tokens")
    if measured.padding_leaks:
        problems.append(f"blocks {measured.padding_leaks} let padding tokens change real tokens")
    impl = getattr(getattr(model, "config", None), "_attn_implementation", "unknown")
    raise UnmaskingError(
        "unmasking self-check failed (attention implementation "
        f"{impl!r}): " + "; ".join(problems) + ". Try attn_implementation='sdpa' or 'eager'."
    )


# Earlier names ("probe" also names the linear probe of `lookright sweep --strategy probe`); kept so code using them runs.
AttentionProbe = AttentionCheck
probe_attention = check_attention
