"""Run a token classifier over windows, fast: length-sorted, token-budgeted batches, no autograd."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import torch

from ..alignment.windows import Window


def token_budget_batches(lengths: Sequence[int], token_budget: int, max_batch: int) -> Iterator[list[int]]:
    """Indices grouped by similar length so that batch_size x longest <= token_budget.

    Sorting by length keeps padding (wasted compute) near zero; the caller restores input order.
    """
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    batch: list[int] = []
    longest = 0
    for i in order:
        new_longest = max(longest, lengths[i])
        if batch and (new_longest * (len(batch) + 1) > token_budget or len(batch) >= max_batch):
            yield batch
            batch, new_longest = [], lengths[i]
        batch.append(i)
        longest = new_longest
    if batch:
        yield batch


def _device_of(model) -> torch.device:
    return next(model.parameters()).device


def default_token_budget(device: torch.device) -> int:
    """Tokens per forward pass: GPUs want big batches; CPUs run fastest with ~1k-token batches that
    stay in cache (measured with SmolLM2-135M on 2 cores: 1,024 tokens ~20% faster than 8,192)."""
    return 8192 if device.type == "cuda" else 1024


def last_copy_positions(window: Window, repeats: int) -> list[int]:
    """Where the window's labelled subwords sit in the last of its `repeats` + 1 copies."""
    offset = len(window) * repeats
    return [offset + p for p in window.positions]


def run_windows(
    model,
    windows: Sequence[Window],
    pad_id: int,
    *,
    token_budget: int | None = None,
    max_batch: int = 64,
    progress=None,
    repeats: int = 0,
) -> Iterator[tuple[list[int], torch.Tensor]]:
    """(window indices, the model's `logits` for them) per length-sorted, token-budgeted batch.

    Each window is read `repeats` + 1 times in one sequence; eval mode and no autograd while it runs.
    """
    copies = repeats + 1
    device = _device_of(model)
    token_budget = token_budget or default_token_budget(device)
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            lengths = [len(w) * copies for w in windows]
            for batch in token_budget_batches(lengths, token_budget, max_batch):
                longest = max(lengths[i] for i in batch)
                ids = torch.full((len(batch), longest), pad_id, dtype=torch.long)
                mask = torch.zeros((len(batch), longest), dtype=torch.long)
                for row, i in enumerate(batch):
                    ids[row, : lengths[i]] = torch.tensor(windows[i].input_ids * copies)
                    mask[row, : lengths[i]] = 1
                yield batch, model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits
                if progress is not None:
                    progress(len(batch))
    finally:
        model.train(was_training)


def score_windows(
    model,
    windows: Sequence[Window],
    pad_id: int,
    *,
    token_budget: int | None = None,
    max_batch: int = 64,
    progress=None,
    repeats: int = 0,
) -> list[np.ndarray]:
    """Log-probabilities (words x labels, float32) at each window's labelled positions, in input order.

    `repeats` r: each window is read r+1 times in one sequence and scored on its last copy
    (sequence repetition: a causal model then sees the whole sentence before every labelled token).
    """
    out: list[np.ndarray | None] = [None] * len(windows)
    for batch, logits in run_windows(model, windows, pad_id, token_budget=token_budget, max_batch=max_batch,
                                     progress=progress, repeats=repeats):
        logprobs = torch.log_softmax(logits.float(), dim=-1).cpu().numpy()
        for row, i in enumerate(batch):
            out[i] = logprobs[row, last_copy_positions(windows[i], repeats)]
    return out  # type: ignore[return-value]
