"""`lookright train`: data -> windows -> unmasked decoder (+LoRA) -> transformers Trainer -> model dir.

The loop itself is transformers' Trainer (accelerate underneath), so gradient accumulation,
checkpoint/resume, best-checkpoint selection, length-grouped batches and multi-GPU engines are the
library's well-tested code. lookright adds what it does not know: windows and first-subword labels,
word-level validation F1 (windows stitched back to sentences) and the unmasking self-check.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rich.console import Console
from torch.utils.data import SequentialSampler
from transformers import DataCollatorForTokenClassification, ProgressCallback, Trainer, set_seed
from transformers.trainer_pt_utils import LengthGroupedSampler

from ..alignment.encoder import IGNORE_INDEX, WindowEncoder, window_labels
from ..alignment.windows import Window, stitch
from ..data.sentence import Sentence
from ..evaluation import EvaluationReport, evaluate_tags
from ..inference.decoding import decode_sentence
from ..modeling.adapters import LoraSettings, add_lora, merge_for_inference
from ..modeling.artifact import ModelCard, base_model_spec, save_model_dir
from ..modeling.early_exit import keep_first_blocks
from ..modeling.loading import Precision, load_base, restore_scoring_attention, training_attention
from ..modeling.resolve import ENCODER_ALIAS
from ..outputs import require_writable_dir
from ..unmasking import unmask, verify_unmasking
from .config import TrainConfig
from .distributed import is_main_process
from .loop import (
    F1_SELECTION,
    Selection,
    TrainResult,
    record_inference_speed,
    run_training,
    training_arguments,
    training_callbacks,
    training_record,
    write_final_card,
)
from .rundir import check_output
from .splits import load_run_data

__all__ = ["TrainResult", "evaluate_split", "summarize", "train"]


@dataclass
class EncodedSplit:
    sentences: list[Sentence]
    tags: list[list[str]]
    windows: list[Window]
    features: list[dict[str, list[int]]]


def _encode(
    encoder: WindowEncoder,
    sentences: list[Sentence],
    tags: list[list[str]],
    label_ids: dict[str, int],
    repeats: int = 0,
) -> EncodedSplit:
    """Model inputs per window; with `repeats` r the window is read r+1 times, labels on the last copy."""
    windows = encoder.encode([s.tokens for s in sentences], [s.where for s in sentences])
    ids = [[label_ids[t] for t in sent_tags] for sent_tags in tags]
    features = []
    for w in windows:
        labels = window_labels(w, ids[w.sentence])
        features.append({
            "input_ids": w.input_ids * (repeats + 1),
            "attention_mask": [1] * (len(w) * (repeats + 1)),
            "labels": [IGNORE_INDEX] * (len(w) * repeats) + labels,
        })
    return EncodedSplit(sentences, tags, windows, features)


def word_scores(window_scores: list[np.ndarray], split: EncodedSplit) -> list[np.ndarray]:
    """Per sentence, (words x labels) log-probabilities stitched from its windows."""
    per_sentence = stitch(split.windows, window_scores, [len(s) for s in split.sentences])
    return [np.stack(rows) for rows in per_sentence]


def gold_log_loss(scores: list[np.ndarray], gold: list[list[str]], labels: list[str]) -> float:
    """Mean -log p(gold label) over all words."""
    index = {label: i for i, label in enumerate(labels)}
    picked = [s[np.arange(len(tags)), [index[t] for t in tags]] for s, tags in zip(scores, gold) if tags]
    return float(-np.concatenate(picked).mean()) if picked else 0.0


class LookrightTrainer(Trainer):
    """Trainer whose validation keeps dataset order (windows are stitched back by position).

    transformers reuses the randomised length-grouped sampler for evaluation when training uses
    it; stitching windows back into sentences needs predictions in dataset order.
    """

    def _get_train_sampler(self, train_dataset=None):
        """Length groups sized by the *global* batch, so N processes see the batches one process would.

        transformers sizes them by the per-device batch; then a 2-process run would draw different
        batches than a 1-process run with the same global batch, seed and data.
        """
        if self.args.train_sampling_strategy != "group_by_length" or self.args.world_size == 1:
            return super()._get_train_sampler(train_dataset)
        dataset = train_dataset if train_dataset is not None else self.train_dataset
        global_batch = self.args.per_device_train_batch_size * self.args.world_size * self.args.gradient_accumulation_steps
        return LengthGroupedSampler(global_batch, dataset=dataset, model_input_name="input_ids")

    def _get_eval_sampler(self, eval_dataset):
        if eval_dataset is None or self.args.world_size > 1:
            return None  # distributed: accelerate shards in order and gather_for_metrics restores it
        return SequentialSampler(eval_dataset)


def _metrics_function(split: EncodedSplit, labels: list[str], scheme: str, decoding: str):
    def compute(eval_pred) -> dict[str, float]:
        logprobs, label_ids, inputs = eval_pred.predictions, eval_pred.label_ids, eval_pred.inputs
        if len(label_ids) != len(split.windows):
            raise RuntimeError(f"validation returned {len(label_ids)} rows for {len(split.windows)} windows")
        scores = []
        for i, window in enumerate(split.windows):
            if list(inputs[i][: len(window)]) != window.input_ids:
                raise RuntimeError("validation predictions came back out of order; cannot stitch windows")
            scores.append(logprobs[i][label_ids[i] != IGNORE_INDEX])
        predicted = [decode_sentence(s, labels, scheme, decoding) for s in word_scores(scores, split)]
        report = evaluate_tags(split.tags, predicted, scheme)
        return {
            "f1": report.headline,
            "strict_f1": report.strict.micro.f1,
            "lenient_f1": report.lenient.micro.f1,
            "token_accuracy": report.token_accuracy,
        }

    return compute


def token_loss(outputs, labels: torch.Tensor, num_items_in_batch: torch.Tensor | int | None = None) -> torch.Tensor:
    """Cross-entropy summed over labelled subwords, divided by the labelled subwords of the *global* batch.

    The Trainer counts those across gradient-accumulation steps and processes, so N processes x
    batch b (or b/k accumulated k times) take the same step as one process with the whole batch.
    transformers' token-classification heads average per micro-batch instead, which weights
    short batches up and, under DDP, doubles the loss (and changes what gradient clipping sees).
    """
    logits = outputs["logits"] if isinstance(outputs, dict) else outputs[0]
    total = torch.nn.functional.cross_entropy(
        logits.float().reshape(-1, logits.shape[-1]), labels.reshape(-1).to(logits.device),
        ignore_index=IGNORE_INDEX, reduction="sum",
    )
    if num_items_in_batch is None:
        num_items_in_batch = (labels != IGNORE_INDEX).sum()
    if isinstance(num_items_in_batch, torch.Tensor):
        num_items_in_batch = num_items_in_batch.to(total.device)
    return total / num_items_in_batch


def _logprobs(logits, labels):
    if isinstance(logits, tuple):
        logits = logits[0]
    return torch.log_softmax(logits.float(), dim=-1)


def train(cfg: TrainConfig, console: Console | None = None) -> TrainResult:
    """Fine-tune, select the best checkpoint on validation, save a reloadable model directory."""
    cfg.validate()
    require_writable_dir(cfg.output)  # hours of training must not end in a failed save
    if is_main_process():
        check_output(cfg)  # before anything loads: never replace or resume another run
    if cfg.method == "generative":
        from .generative import train_generative

        return train_generative(cfg, console)
    console = console or Console(stderr=True)
    set_seed(cfg.seed)
    output = Path(cfg.output)

    data = load_run_data(cfg)  # every input file, before the model loads
    train_sents, val_sents, test_sents, gold = data.train, data.validation, data.test, data.gold
    source_scheme, scheme, labels = gold.source_scheme, gold.scheme, gold.labels
    train_tags, val_tags = gold.train, gold.validation
    label_ids = {label: i for i, label in enumerate(labels)}

    precision = Precision.choose(cfg.precision, cfg.quantize, method=cfg.finetune_mode)
    model_spec = cfg.model if cfg.model is not None or cfg.method != "encoder" else ENCODER_ALIAS
    model, tokenizer = load_base(
        model_spec, labels, precision=precision, attn_implementation=training_attention(cfg.attn_implementation, precision)
    )
    is_decoder = cfg.method != "encoder"
    if cfg.exit_layer is not None:
        keep_first_blocks(model, cfg.exit_layer)
    encoder = WindowEncoder(tokenizer, cfg.max_length, cfg.stride)
    train_split = _encode(encoder, train_sents, train_tags, label_ids, cfg.repeats)
    val_split = _encode(encoder, val_sents, val_tags, label_ids, cfg.repeats) if val_sents else None
    test_split = _encode(encoder, test_sents, data.test_tags, label_ids) if test_sents else None
    say = console.print if is_main_process() else (lambda *a, **k: None)
    say(
        f"[bold]lookright train[/] {len(train_sents):,} sentences -> {len(train_split.windows):,} windows "
        f"({sum(len(w) for w in train_split.windows):,} subwords), {len(labels)} labels ({scheme}), "
        f"method {cfg.describe()}, {cfg.finetune_mode}, {precision.dtype} on {precision.device}"
        + (" (4-bit)" if precision.quantize_4bit else ""),
        soft_wrap=True,  # one line in logs too (rich wraps at 80 columns off a terminal)
    )

    if is_decoder:
        unmask(model, cfg.unmask_config)
    if cfg.finetune_mode == "lora":
        settings = LoraSettings(r=cfg.lora_r, alpha=cfg.lora_alpha, dropout=cfg.lora_dropout, targets=cfg.lora_targets)
        model = add_lora(model, settings, quantized=precision.quantize_4bit)
    if is_decoder:
        verify_unmasking(model)  # again, on the model exactly as it will be trained

    selection = F1_SELECTION if val_split is not None and cfg.select_best else None
    trainer = _make_trainer(cfg, model, tokenizer, train_split, val_split, labels, scheme, precision, console, selection)
    result = run_training(trainer, cfg, console)
    if not trainer.is_world_process_zero():
        return result
    card = ModelCard(
        labels=labels,
        scheme=scheme,
        method=cfg.method,
        finetune=cfg.finetune_mode,
        repeat=cfg.repeats,
        base_model=base_model_spec(model_spec),
        max_length=cfg.max_length,
        stride=cfg.stride,
        unmask=cfg.unmask_config,
        label_column=cfg.label_column,
        training=training_record(
            cfg, result, trainer, precision, source_scheme=source_scheme, train_sentences=len(train_sents),
            validation_sentences=len(val_sents), selection=selection,
        ),
    )
    save_model_dir(trainer.model, tokenizer, card, output)

    # Score exactly as `Tagger` will after reloading: LoRA merged into the base weights.
    model = merge_for_inference(trainer.model)
    restore_scoring_attention(model, cfg.attn_implementation)
    if val_split is not None:
        result.validation = evaluate_split(
            model, tokenizer, val_split, labels, scheme, cfg.eval_batch_tokens, repeats=cfg.repeats
        )
    if test_split is not None:
        started = time.perf_counter()
        result.test = evaluate_split(
            model, tokenizer, test_split, labels, scheme, cfg.eval_batch_tokens, repeats=cfg.repeats
        )
        record_inference_speed(card, test_sents, time.perf_counter() - started)
    write_final_card(card, result, output)
    return result


def evaluate_split(
    model, tokenizer, split: EncodedSplit, labels, scheme, token_budget: int | None, *, repeats: int = 0
) -> EvaluationReport:
    """Word-level evaluation with the same windows, stitching and decoding as prediction."""
    from ..inference.scoring import score_windows

    windows = score_windows(model, split.windows, tokenizer.pad_token_id, token_budget=token_budget, repeats=repeats)
    scores = word_scores(windows, split)
    predicted = [decode_sentence(s, labels, scheme, "argmax") for s in scores]
    report = evaluate_tags(
        split.tags,
        predicted,
        scheme,
        tokens=[s.tokens for s in split.sentences],
        sources=[s.where for s in split.sentences],
    )
    report.log_loss = gold_log_loss(scores, split.tags, labels)
    return report


def _make_trainer(
    cfg, model, tokenizer, train_split, val_split, labels, scheme, precision, console, selection: Selection | None
) -> Trainer:
    args = training_arguments(
        cfg, precision, len(train_split.features), selection=selection,
        per_device_eval_batch_size=max(cfg.batch_size, 32),
        include_for_metrics=["inputs"],  # the metric checks every window came back in order
    )
    has_val = selection is not None
    callbacks = training_callbacks(cfg, console, has_val)
    trainer = LookrightTrainer(
        model=model,
        args=args,
        train_dataset=train_split.features,
        eval_dataset=val_split.features if has_val else None,
        data_collator=DataCollatorForTokenClassification(tokenizer, label_pad_token_id=IGNORE_INDEX),
        compute_metrics=_metrics_function(val_split, labels, scheme, "argmax") if has_val else None,
        preprocess_logits_for_metrics=_logprobs if has_val else None,
        compute_loss_func=token_loss,
        callbacks=callbacks,
    )
    trainer.remove_callback(ProgressCallback)
    return trainer


def summarize(result: TrainResult) -> dict[str, Any]:
    """A JSON-friendly summary for the CLI and benchmarks."""
    out = {
        "output": str(result.output),
        "train_seconds": round(result.train_seconds, 1),
        "tokens_per_second": round(result.tokens_per_second, 1),
        "peak_memory_mb": round(result.peak_memory_mb, 1),
        "steps": result.steps,
    }
    for name, report in (("validation", result.validation), ("test", result.test)):
        if report is not None:
            out[f"{name}_metric"] = report.headline_name
            out[f"{name}_score"] = round(report.headline, 4)
    return out
