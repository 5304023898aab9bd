"""`lookright train`: data -> the method's examples -> model (+LoRA) -> transformers Trainer -> model dir.

One pipeline for every labelling method: the steps that differ (which model loads, how examples
are encoded, collator and loss, checkpoint selection, scoring, card fields) are the method's
(`lookright.methods`); reading and checking the data, precision, the Trainer setup, checkpoints
and resume, the model directory and the final scores of the saved model are written once here.
The loop itself is transformers' Trainer (accelerate underneath), so gradient accumulation,
checkpoint/resume, best-checkpoint selection, length-grouped batches and multi-GPU engines are the
library's well-tested code.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from transformers import ProgressCallback, set_seed

from ..console import print_plain
from ..modeling.adapters import merge_for_inference
from ..modeling.artifact import ModelCard, base_model_spec, save_model_dir
from ..modeling.loading import Precision, restore_scoring_attention
from ..outputs import disk_full_explained, require_writable_dir
from .config import TrainConfig
from .disk import checkpoints_at_once, disk_warning, run_bytes
from .distributed import is_main_process
from .loop import (
    LookrightTrainer,
    TrainResult,
    planned_steps,
    record_inference_speed,
    run_training,
    training_arguments,
    training_callbacks,
    training_record,
    write_final_card,
)
from .rundir import check_output, what_is_kept
from .splits import load_run_data

__all__ = ["TrainResult", "summarize", "train"]


def train(cfg: TrainConfig, console: Console | None = None) -> TrainResult:
    """Fine-tune, select the best checkpoint on validation, save a reloadable model directory.

    A disk that fills up mid-run is one error naming the last complete checkpoint and the command
    that continues from it, not a serialiser's traceback.
    """
    with disk_full_explained(cfg.output, lambda: what_is_kept(cfg.output)):
        return _train(cfg, console)


def _train(cfg: TrainConfig, console: Console | None) -> TrainResult:
    cfg.validate()
    require_writable_dir(cfg.output)  # hours of training must not end in a failed save
    if is_main_process():
        check_output(cfg)  # before anything loads: never replace or resume another run
    method = cfg.labelling
    console = console or Console(stderr=True)
    set_seed(cfg.seed)
    output = Path(cfg.output)

    spans_for = f"method {method.name}" if method.writes_spans else None
    data = load_run_data(cfg, train_scheme=method.train_scheme(cfg), spans_for=spans_for)  # before the model loads
    requested, resolved = cfg, method.resolve(cfg, len(data.train))
    if resolved is not cfg:
        if is_main_process():
            console.print(f"method {cfg.method}: {len(data.train):,} training sentences -> {resolved.describe()}",
                          soft_wrap=True)
        cfg, method = resolved.validate(), resolved.labelling
    if cfg.epochs is None:  # recorded unset (`requested`), so the same command resumes the run
        cfg = cfg.with_epochs(len(data.train))
        if is_main_process() and cfg.max_steps <= 0:
            console.print(f"epochs: {len(data.train):,} training sentences -> {cfg.epochs:g} epochs", soft_wrap=True)
    gold = data.gold
    precision = Precision.choose(cfg.precision, cfg.quantize, finetune=cfg.finetune_mode)
    loaded = method.load_model(cfg, gold.labels, precision)
    card = ModelCard(**{  # the method's fields (unmask, repeat, stride, generation...) override these
        "labels": gold.labels, "scheme": gold.scheme, "method": method.name, "finetune": cfg.finetune_mode,
        "base_model": base_model_spec(loaded.spec), "max_length": cfg.max_length, "stride": cfg.stride,
        "unmask": "0", "label_column": cfg.label_column, **method.card_fields(cfg, data),
    })
    encoded = method.encode(cfg, loaded, card, data)
    if is_main_process():
        console.print(
            f"[bold]lookright train[/] {len(data.train):,} sentences -> {encoded.summary}, "
            f"method {cfg.describe()}, {cfg.finetune_mode}, {precision.dtype} on {precision.device}"
            + (" (4-bit)" if precision.quantize_4bit else ""),
            soft_wrap=True,  # one line in logs too (rich wraps at 80 columns off a terminal)
        )
    model = method.prepare_model(cfg, loaded.model, precision)

    selection = method.selection if encoded.validation is not None and cfg.select_best else None
    parts = method.trainer_parts(cfg, encoded, loaded.tokenizer, card, selection is not None)
    trainer = LookrightTrainer(
        model=model,
        args=training_arguments(cfg, precision, len(encoded.train), selection=selection, **parts.arguments),
        train_dataset=encoded.train,
        eval_dataset=encoded.validation if selection is not None else None,
        data_collator=parts.collator,
        compute_metrics=parts.compute_metrics,
        preprocess_logits_for_metrics=parts.preprocess_logits,
        compute_loss_func=parts.compute_loss,
        callbacks=training_callbacks(cfg, console, selection is not None),
    )
    trainer.remove_callback(ProgressCallback)
    if is_main_process():
        total_steps, save_every = planned_steps(cfg, len(encoded.train))
        saves = checkpoints_at_once(math.ceil(total_steps / save_every), cfg.keep_checkpoints)
        warning = disk_warning(output, run_bytes(model, saves))
        if warning:
            print_plain(console, warning)
    result = run_training(trainer, cfg, console, requested=requested)
    if not trainer.is_world_process_zero():
        return result
    card.training = training_record(
        cfg, result, trainer, precision, source_scheme=gold.source_scheme, train_sentences=len(data.train),
        validation_sentences=len(data.validation), selection=selection, **encoded.record,
    )
    save_model_dir(trainer.model, loaded.tokenizer, card, output)
    method.save_extras(encoded, output)

    # Score exactly as `Tagger.load` will after reloading: LoRA merged into the base weights.
    model = merge_for_inference(trainer.model)
    restore_scoring_attention(model, cfg.attn_implementation)
    tagger = method.scoring_tagger(model, loaded.tokenizer, card, encoded, cfg)
    if data.validation:
        result.validation = method.evaluate(tagger, data.validation, gold.validation, console=console, split="validation")
    if data.test:
        started = time.perf_counter()
        result.test = method.evaluate(tagger, data.test, data.test_tags, console=console, split="test")
        record_inference_speed(card, data.test, time.perf_counter() - started)
    write_final_card(card, result, output)
    return result


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
