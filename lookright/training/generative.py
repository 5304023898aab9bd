"""`lookright train --method generative`: supervised in-context fine-tuning (SIFT-style).

Each training sentence becomes prompt (optional instruction, k demonstrations retrieved from the
other training sentences, the sentence) + response (its spans, `words => type ; ...`, then EOS).
LoRA is trained with the causal-LM loss on the response tokens only. Checkpoints are selected on
validation loss (generating the validation set at every evaluation would cost more than training);
the final model is then scored on validation/test by constrained generation with the same span F1
as every other method.
"""

from __future__ import annotations

import inspect
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from rich.console import Console
from transformers import ProgressCallback, Trainer, set_seed

from ..alignment.encoder import IGNORE_INDEX
from ..data.schemes import tags_to_spans
from ..data.sentence import Sentence
from ..generative.demos import Demo, DemoPool
from ..generative.prompts import type_names
from ..generative.tagger import GenerativeTagger
from ..modeling.adapters import LoraSettings, add_lora, merge_for_inference
from ..modeling.artifact import ModelCard, base_model_spec, save_model_dir
from ..modeling.loading import Precision, load_causal_lm, load_tokenizer
from ..modeling.resolve import resolve_model
from .config import TrainConfig
from .distributed import is_main_process
from .loop import (
    LOSS_SELECTION,
    TrainResult,
    record_inference_speed,
    run_training,
    training_arguments,
    training_callbacks,
    training_record,
    write_final_card,
)
from .splits import load_run_data

MAX_DEMO_WORDS = 60  # longer sentences stay training examples but are not shown as demonstrations


@dataclass
class ResponseCollator:
    """Left-pads prompt + response rows so that every response ends its row.

    The LM head then runs on the last positions only (`logits_to_keep`): with a 49k vocabulary the
    full-sequence logits are most of the training memory and a fifth of a small model's compute,
    while only the response positions carry loss. Position ids count from the first real token, so
    padding on the left changes nothing for the model.
    """

    pad_id: int
    keep_logits: bool = True

    def __call__(self, rows: list[dict[str, list[int]]]) -> dict[str, torch.Tensor | int]:
        longest = max(len(r["input_ids"]) for r in rows)
        ids, mask, labels, positions = [], [], [], []
        tail = 0
        for r in rows:
            n, pad = len(r["input_ids"]), longest - len(r["input_ids"])
            ids.append([self.pad_id] * pad + r["input_ids"])
            mask.append([0] * pad + [1] * n)
            labels.append([IGNORE_INDEX] * pad + r["labels"])
            positions.append([0] * pad + list(range(n)))
            first = next((i for i, label in enumerate(r["labels"]) if label != IGNORE_INDEX), n)
            tail = max(tail, n - first)
        batch: dict[str, torch.Tensor | int] = {
            "input_ids": torch.tensor(ids), "attention_mask": torch.tensor(mask),
            "labels": torch.tensor(labels), "position_ids": torch.tensor(positions),
        }
        if self.keep_logits:
            keep = min(tail + 1, longest)  # +1: the position before the response predicts its first token
            batch["labels"] = batch["labels"][:, -keep:]
            batch["logits_to_keep"] = keep
        return batch


def _features(tagger: GenerativeTagger, sentences: list[Sentence], tags: list[list[str]], in_pool: dict[int, int] | None):
    """Prompt + response ids with the loss on the response only; long sentences cut into chunks."""
    features = []
    for i, (sentence, sentence_tags) in enumerate(zip(sentences, tags)):
        spans = tags_to_spans(sentence_tags, tagger.scheme)
        for a, b in tagger.chunks(sentence.tokens):
            words = sentence.tokens[a:b]
            chunk_spans = [type(s)(s.start - a, s.end - a, s.label) for s in spans if a <= s.start and s.end <= b]
            exclude = in_pool.get(i) if in_pool is not None and (a, b) == (0, len(sentence.tokens)) else None
            prompt = tagger.tokenizer(tagger.prompt(words, exclude=exclude))["input_ids"]
            response = tagger.pieces.response(words, chunk_spans, tagger.names)
            features.append({
                "input_ids": prompt + response,
                "attention_mask": [1] * (len(prompt) + len(response)),
                "labels": [IGNORE_INDEX] * len(prompt) + response,
            })
    return features


def train_generative(cfg: TrainConfig, console: Console | None = None) -> TrainResult:
    """Fine-tune a decoder to write labelled spans; save a directory `Tagger.load` opens."""
    console = console or Console(stderr=True)
    set_seed(cfg.seed)
    output = Path(cfg.output)
    data = load_run_data(cfg, train_scheme="IOB2", spans_for="method generative")  # before the model loads
    train_sents, val_sents, test_sents, gold = data.train, data.validation, data.test, data.gold
    source_scheme, scheme, labels = gold.source_scheme, gold.scheme, gold.labels
    train_tags, val_tags = gold.train, gold.validation
    types = sorted({label[2:] for label in labels if label != "O"})

    precision = Precision.choose(cfg.precision, cfg.quantize, method="lora")
    path = resolve_model(cfg.model)
    tokenizer = load_tokenizer(path)
    model = load_causal_lm(path, precision=precision, attn_implementation=cfg.attn_implementation)
    names = type_names(types)
    card = ModelCard(
        labels=labels, scheme=scheme, method="generative", finetune="lora", base_model=base_model_spec(cfg.model),
        max_length=cfg.max_length, stride=0, unmask="0", label_column=cfg.label_column,
        generation={"names": names, "demos": cfg.demos, "demo_selection": cfg.demo_selection,
                    "instruction": cfg.instruction, "seed": cfg.seed, "loss": "response tokens only"},
    )
    in_pool: dict[int, int] = {}
    demos = []
    for i, (sentence, tags) in enumerate(zip(train_sents, train_tags)):
        if len(sentence.tokens) <= MAX_DEMO_WORDS:
            in_pool[i] = len(demos)
            demos.append(Demo(tuple(sentence.tokens), tuple(tags_to_spans(tags, scheme))))
    pool = DemoPool(demos, cfg.seed)
    tagger = GenerativeTagger(model, tokenizer, card, pool=pool, token_budget=cfg.eval_batch_tokens or 16384)
    train_features = _features(tagger, train_sents, train_tags, in_pool)
    val_features = _features(tagger, val_sents, val_tags, None) if val_sents else None
    say = console.print if is_main_process() else (lambda *a, **k: None)
    say(
        f"[bold]lookright train[/] {len(train_sents):,} sentences -> {len(train_features):,} prompts "
        f"({sum(len(f['input_ids']) for f in train_features):,} tokens, "
        f"{sum(len(f['input_ids']) - f['labels'].count(IGNORE_INDEX) for f in train_features):,} in responses), "
        f"{len(types)} types, method generative (k={cfg.demos} {cfg.demo_selection} demonstrations, "
        f"instruction {'on' if cfg.instruction else 'off'}), lora, {precision.dtype} on {precision.device}",
        soft_wrap=True,  # one line in logs too (rich wraps at 80 columns off a terminal)
    )
    settings = LoraSettings(r=cfg.lora_r, alpha=cfg.lora_alpha, dropout=cfg.lora_dropout, targets=cfg.lora_targets)
    keeps_logits = "logits_to_keep" in inspect.signature(type(model).forward).parameters
    model = add_lora(model, settings, quantized=precision.quantize_4bit, task="causal")

    selection = LOSS_SELECTION if val_features is not None and cfg.select_best else None
    args = training_arguments(
        cfg, precision, len(train_features), selection=selection,
        prediction_loss_only=True,  # selection uses the loss; never gather response logits
    )
    trainer = Trainer(
        model=model, args=args, train_dataset=train_features, eval_dataset=val_features if selection else None,
        data_collator=ResponseCollator(tokenizer.pad_token_id, keep_logits=keeps_logits),
        callbacks=training_callbacks(cfg, console, selection is not None),
    )
    trainer.remove_callback(ProgressCallback)
    result = run_training(trainer, cfg, console)
    if not trainer.is_world_process_zero():
        return result
    card.training = training_record(
        cfg, result, trainer, precision, source_scheme=source_scheme, train_sentences=len(train_sents),
        validation_sentences=len(val_sents), selection=selection, prompts=len(train_features),
    )
    save_model_dir(trainer.model, tokenizer, card, output)
    pool.write(output)

    tagger.model = merge_for_inference(trainer.model)
    if val_sents:
        result.validation = _score(tagger, val_sents, val_tags, console, "validation")
    if test_sents:
        started = time.perf_counter()
        result.test = _score(tagger, test_sents, data.test_tags, console, "test")
        record_inference_speed(card, test_sents, time.perf_counter() - started)
    write_final_card(card, result, output)
    return result


def _score(tagger: GenerativeTagger, sentences: list[Sentence], gold: list[list[str]], console: Console, name: str):
    """Constrained generation over a labelled split (minutes on CPU: shown with a progress bar)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from ..evaluation import evaluate_tags

    words = [s.tokens for s in sentences]
    total = sum(len(tagger.chunks(w)) for w in words if w)
    columns = (TextColumn(f"generating {name}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(name, total=total)
        labelled = tagger.label_words(words, [s.where for s in sentences], progress=lambda n: bar.advance(task, n))
    predicted = [labels for labels, _ in labelled]
    return evaluate_tags(
        gold, predicted, tagger.scheme, tokens=[s.tokens for s in sentences], sources=[s.where for s in sentences]
    )
