"""Rank unmasking configurations before training any of them: a linear probe on frozen features.

For each configuration the *untrained* model is unmasked that way, its final hidden state at each
word's first subword (exactly what the token-classification head reads) is extracted for a slice
of the training and validation data, and a multinomial logistic regression is fitted on the
training words and scored on the validation words. No training tokens are spent: only forward
passes, once per configuration, with the same windows, stitching and decoding as training.

Why it works where early successive-halving rungs fail: after a few LoRA steps every run is still
in its warm-up transient (configs that unmask input-side blocks fit the first steps fastest and end
worst), while how well the frozen representations under a mask already separate the labels is a
stable property of the configuration (our reading). Measured in `bench/results/probe_sweep.md`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..alignment.encoder import WindowEncoder
from ..alignment.windows import Window, stitch
from ..evaluation import EvaluationReport, evaluate_tags, gold_log_loss
from ..inference.decoding import decode_sentence
from ..inference.scoring import last_copy_positions, run_windows
from ..modeling.loading import Precision, head_module_name, load_base
from ..training import TrainConfig
from ..training.splits import gold_tags, load_train_and_validation
from ..unmasking import unmask

DEFAULT_PROBE_SENTENCES = 500


@dataclass
class ProbeScore:
    """One configuration's probe: validation report of the fitted probe and what it cost."""

    config: str
    report: EvaluationReport
    seconds: float


def word_features(model: nn.Module, windows: Sequence[Window], lengths: Sequence[int], pad_id: int,
                  token_budget: int | None = None, repeats: int = 0) -> np.ndarray:
    """(words x hidden) final hidden states at first subwords, windows stitched back to words.

    The head is swapped for an identity while this runs, so any decoder (or encoder) with a
    transformers token-classification head gives what its head would see. `repeats` r: each
    window is read r+1 times and the features come from the last copy, as sequence repetition
    (and the default method on small sets) trains and labels.
    """
    head_name = head_module_name(model)
    owner, attr = _parent_of(model, head_name)
    head = getattr(owner, attr)
    per_window: list[np.ndarray | None] = [None] * len(windows)
    setattr(owner, attr, nn.Identity())
    try:
        for batch, hidden in run_windows(model, windows, pad_id, token_budget=token_budget, repeats=repeats):
            hidden = hidden.float().cpu().numpy()
            for row, i in enumerate(batch):
                per_window[i] = hidden[row, last_copy_positions(windows[i], repeats)]
    finally:
        setattr(owner, attr, head)
    per_sentence = stitch(windows, per_window, lengths)
    return np.concatenate([np.stack(rows) for rows in per_sentence if rows])


def _parent_of(model: nn.Module, name: str) -> tuple[nn.Module, str]:
    for module_name, module in model.named_modules():
        for child_name, _ in module.named_children():
            if child_name == name:
                return module, child_name
    raise AssertionError(f"no module named {name}")  # head_module_name found it


def fit_probe(x: np.ndarray, y: np.ndarray, n_labels: int, l2: float = 1e-2, max_iter: int = 200) -> Callable:
    """Multinomial logistic regression (L-BFGS, standardised features); returns x -> log-probabilities."""
    mean, std = x.mean(0), x.std(0) + 1e-5
    features = torch.from_numpy((x - mean) / std).float()
    targets = torch.from_numpy(y).long()
    weight = torch.zeros(features.shape[1], n_labels, requires_grad=True)
    bias = torch.zeros(n_labels, requires_grad=True)
    optimizer = torch.optim.LBFGS([weight, bias], max_iter=max_iter, line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(features @ weight + bias, targets) + l2 * weight.pow(2).sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    weight, bias = weight.detach(), bias.detach()

    def log_probs(z: np.ndarray) -> np.ndarray:
        scaled = torch.from_numpy((z - mean) / std).float()
        return torch.log_softmax(scaled @ weight + bias, dim=-1).numpy()

    return log_probs


def probe_configs(
    cfg: TrainConfig,
    configs: Sequence[str],
    *,
    sentences: int = DEFAULT_PROBE_SENTENCES,
    on_result: Callable[[ProbeScore], None] | None = None,
    skip: Sequence[str] = (),
) -> list[ProbeScore]:
    """Probe every configuration not in `skip` with the sweep's data, labels and windows.

    `sentences` caps both the training and the validation slice: probing costs forward passes
    over them once per configuration, so it stays cheap on a full-size data set. The features
    are read the way the trained runs will read them: `auto` resolves by the whole training set.
    """
    train_sents, val_sents = load_train_and_validation(cfg)
    repeats = cfg.labelling.resolve(cfg, len(train_sents)).repeats
    train_sents, val_sents = train_sents[:sentences], val_sents[:sentences]
    gold = gold_tags(cfg, train_sents, val_sents)
    scheme, labels, train_tags, val_tags = gold.scheme, gold.labels, gold.train, gold.validation
    index = {label: i for i, label in enumerate(labels)}
    y_train = np.array([index[t] for tags in train_tags for t in tags])

    precision = Precision.choose(cfg.precision, "none", finetune="lora")
    model, tokenizer = load_base(cfg.model, labels, precision=precision, attn_implementation=cfg.attn_implementation)
    encoder = WindowEncoder(tokenizer, cfg.max_length, cfg.stride)
    splits = []
    for sents in (train_sents, val_sents):
        windows = encoder.encode([s.tokens for s in sents], [s.where for s in sents])
        splits.append((windows, [len(s) for s in sents]))

    results = []
    for config in configs:
        if config in skip:
            continue
        started = time.perf_counter()
        unmask(model, config)
        x_train, x_val = (word_features(model, w, n, tokenizer.pad_token_id, cfg.eval_batch_tokens, repeats)
                          for w, n in splits)
        log_probs = fit_probe(x_train, y_train, len(labels))(x_val)
        per_sentence = np.split(log_probs, np.cumsum([len(tags) for tags in val_tags])[:-1])
        predicted = [decode_sentence(s, labels, scheme, "argmax") for s in per_sentence]
        report = evaluate_tags(val_tags, predicted, scheme)
        report.log_loss = gold_log_loss(per_sentence, val_tags, labels)
        result = ProbeScore(config, report, time.perf_counter() - started)
        results.append(result)
        if on_result is not None:
            on_result(result)
    return results
