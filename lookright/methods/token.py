"""Token classifiers: a head on each word's first subword, over a decoder (`unmask`, `causal`,
`repeat`) or an MLM encoder (`encoder`).

They share the data pipeline (windows of at most `max_length` subwords overlapping by `stride`,
stitched back into sentences), the loss (cross-entropy over labelled subwords, divided by their
count in the global batch), checkpoint selection on word-level validation F1 and the tagger
(`TokenTagger`); they differ in which decoder blocks see right context and in how often each
window is read.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from transformers import DataCollatorForTokenClassification

from ..alignment.encoder import IGNORE_INDEX, WindowEncoder, window_labels
from ..alignment.windows import Window, stitch
from ..data.sentence import Sentence
from ..evaluation import EvaluationReport, evaluate_tags, gold_log_loss
from ..inference.decoding import decode_sentence
from ..inference.token_tagger import TokenTagger
from ..modeling.early_exit import keep_first_blocks
from ..modeling.loading import load_base, training_attention
from ..modeling.resolve import ENCODER_ALIAS
from ..unmasking import unmask, verify_unmasking
from ..unmasking.config import DEFAULT_UNMASK, LAYERS_PREFIX, parse_group_string
from .auto_policy import AUTO_LARGE_UNMASK, AUTO_REPEAT_UP_TO
from .base import Encoded, LoadedModel, Method, TrainerParts

BEST = "BEST"  # `compare --methods unmask:BEST`: search the configurations first


@dataclass
class EncodedSplit:
    """A labelled split as windows: what validation metrics stitch back into sentences."""

    sentences: list[Sentence]
    tags: list[list[str]]
    windows: list[Window]
    features: list[dict[str, list[int]]]
    labels: list[str]
    scheme: str


def encode_split(
    encoder: WindowEncoder,
    sentences: list[Sentence],
    tags: list[list[str]],
    labels: list[str],
    scheme: str,
    repeats: int = 0,
) -> EncodedSplit:
    """Model inputs per window; with `repeats` r the window is read r+1 times, labels on the last copy."""
    label_ids = {label: i for i, label in enumerate(labels)}
    windows = encoder.encode([s.tokens for s in sentences], [s.where for s in sentences])
    ids = [[label_ids[t] for t in sentence_tags] for sentence_tags in tags]
    features = []
    for w in windows:
        window_ids = window_labels(w, ids[w.sentence])
        features.append({
            "input_ids": w.input_ids * (repeats + 1),
            "attention_mask": [1] * (len(w) * (repeats + 1)),
            "labels": [IGNORE_INDEX] * (len(w) * repeats) + window_ids,
        })
    return EncodedSplit(sentences, tags, windows, features, labels, scheme)


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


def validation_metrics(split: EncodedSplit, decoding: str = "argmax"):
    """The Trainer's `compute_metrics`: word-level F1 of the validation windows stitched into sentences."""

    def compute(eval_pred) -> dict[str, float]:
        logprobs, label_ids, inputs = eval_pred.predictions, eval_pred.label_ids, eval_pred.inputs
        if len(label_ids) != len(split.windows):
            raise RuntimeError(f"validation returned {len(label_ids)} rows for {len(split.windows)} windows")
        scores = []
        for i, window in enumerate(split.windows):
            if list(inputs[i][: len(window)]) != window.input_ids:
                raise RuntimeError("validation predictions came back out of order; cannot stitch windows")
            scores.append(logprobs[i][label_ids[i] != IGNORE_INDEX])
        per_sentence = stitch(split.windows, scores, [len(s) for s in split.sentences])
        predicted = [decode_sentence(np.stack(rows), split.labels, split.scheme, decoding) for rows in per_sentence]
        report = evaluate_tags(split.tags, predicted, split.scheme)
        return {
            "f1": report.headline,
            "strict_f1": report.strict.micro.f1,
            "lenient_f1": report.lenient.micro.f1,
            "token_accuracy": report.token_accuracy,
        }

    return compute


class TokenMethod(Method):
    """A token classifier over a decoder: the base of `unmask`, `causal` and `repeat`, and of new
    methods that change which blocks are unmasked or how windows are read."""

    unmasks: ClassVar[bool] = True  # a decoder: apply, then verify, `unmask_config` (encoders have no causal mask)

    def load_model(self, cfg, labels, precision) -> LoadedModel:
        spec = cfg.model if cfg.model is not None else self.default_model
        attention = training_attention(cfg.attn_implementation, precision)
        model, tokenizer = load_base(spec, labels, precision=precision, attn_implementation=attention)
        if cfg.exit_layer is not None:
            keep_first_blocks(model, cfg.exit_layer)
        return LoadedModel(model, tokenizer, spec)

    def card_fields(self, cfg, data) -> dict[str, Any]:
        return {"unmask": self.unmask_config(cfg), "repeat": self.repeats(cfg)}

    def encode(self, cfg, loaded, card, data) -> Encoded:
        encoder = WindowEncoder(loaded.tokenizer, cfg.max_length, cfg.stride)
        gold, repeats = data.gold, self.repeats(cfg)
        train = encode_split(encoder, data.train, gold.train, gold.labels, gold.scheme, repeats)
        validation = None
        if data.validation:
            validation = encode_split(encoder, data.validation, gold.validation, gold.labels, gold.scheme, repeats)
        if data.test:  # scored after training; a word the tokenizer cannot align must fail before it
            encoder.encode([s.tokens for s in data.test], [s.where for s in data.test])
        summary = (
            f"{len(train.windows):,} windows ({sum(len(w) for w in train.windows):,} subwords), "
            f"{len(gold.labels)} labels ({gold.scheme})"
        )
        return Encoded(train.features, validation.features if validation else None, summary, state=validation)

    def prepare_model(self, cfg, model, precision):
        if self.unmasks:
            unmask(model, self.unmask_config(cfg))
        model = super().prepare_model(cfg, model, precision)
        if self.unmasks:
            verify_unmasking(model)  # again, on the model exactly as it will be trained
        return model

    def trainer_parts(self, cfg, encoded, tokenizer, card, selecting) -> TrainerParts:
        return TrainerParts(
            collator=DataCollatorForTokenClassification(tokenizer, label_pad_token_id=IGNORE_INDEX),
            compute_loss=token_loss,
            compute_metrics=validation_metrics(encoded.state) if selecting else None,
            preprocess_logits=_logprobs if selecting else None,
            arguments={
                "per_device_eval_batch_size": max(cfg.batch_size, 32),
                "include_for_metrics": ["inputs"],  # the metric checks every window came back in order
            },
        )

    def scoring_tagger(self, model, tokenizer, card, encoded, cfg) -> TokenTagger:
        return TokenTagger(model, tokenizer, card, token_budget=cfg.eval_batch_tokens)

    def evaluate(self, tagger, sentences, tags, *, console, split) -> EvaluationReport:
        """Word-level scores and the mean -log p(gold label) (what successive halving ranks by)."""
        words, wheres = [s.tokens for s in sentences], [s.where for s in sentences]
        scores = tagger.word_scores(words, wheres)
        predicted = [decode_sentence(s, tagger.labels, tagger.scheme, "argmax") for s in scores]
        report = evaluate_tags(tags, predicted, tagger.scheme, tokens=words, sources=wheres)
        report.log_loss = gold_log_loss(scores, tags, tagger.labels)
        return report

    @property
    def tagger_class(self) -> type[TokenTagger]:
        return TokenTagger


class UnmaskMethod(TokenMethod):
    """The paper's method: the decoder's chosen groups of blocks bidirectional (`--unmask 0011`)."""

    name = "unmask"
    takes_unmask = True
    compare_usage = "unmask[:CONFIG|BEST]"

    def validate(self, cfg) -> None:
        super().validate(cfg)
        check_unmask_spec(self.unmask_config(cfg))

    def unmask_config(self, cfg) -> str:
        return cfg.unmask or DEFAULT_UNMASK

    def describe(self, cfg) -> str:
        return f"unmask {self.unmask_config(cfg)}"

    def compare_settings(self, argument, spec, encoder_model=None) -> dict[str, Any]:
        config = argument or DEFAULT_UNMASK
        if config.upper() == BEST:
            return {"method": self.name, "unmask": BEST}
        return {"method": self.name, "unmask": check_unmask_spec(config)}


class CausalMethod(TokenMethod):
    """The plain decoder as a token classifier: every block causal."""

    name = "causal"


class RepeatMethod(TokenMethod):
    """Sequence repetition: each window is read r+1 times, labels from the last copy.

    The decoder stays causal unless `--unmask` is given too (repetition and unmasking combined:
    the copies then also see each other in the unmasked blocks).
    """

    name = "repeat"
    takes_unmask = True
    compare_usage = "repeat[:R[:CONFIG]]"

    def validate(self, cfg) -> None:
        super().validate(cfg)
        if cfg.repeat < 1:
            raise ValueError("repeat must be at least 1 (extra copies of the sentence)")
        if cfg.unmask is not None:
            check_unmask_spec(cfg.unmask)

    def repeats(self, cfg) -> int:
        return cfg.repeat

    def unmask_config(self, cfg) -> str:
        return cfg.unmask or "0"

    def describe(self, cfg) -> str:
        unmasked = cfg.unmask is not None and set(cfg.unmask) != {"0"}
        return f"repeat r={cfg.repeat}" + (f" unmask {cfg.unmask}" if unmasked else "")

    def compare_settings(self, argument, spec, encoder_model=None) -> dict[str, Any]:
        copies, _, config = argument.partition(":")
        settings: dict[str, Any] = {"method": self.name, "repeat": whole_number("R", copies, spec) if copies else 1}
        if config:
            settings["unmask"] = check_unmask_spec(config)
        return settings


class AutoMethod(UnmaskMethod):
    """The default: repetition + unmasking on small training sets, unmasking alone on larger ones.

    CoNLL-2003 NER test F1 at the default epochs, reading each window twice with the upper groups
    unmasked vs unmasking alone (bench/README "Learning curve"): 60.4 vs 51.0 at 250 sentences, 68.3
    vs 60.7 at 500, 82.1 vs 68.0 at 1,000 and 84.8 vs 71.1 at 2,000 (3 seeds each); on chunking the
    second reading adds 0.4-1.0 points from 500 to 2,000 and ties at 250 and 4,000. The gap closes
    with data while the second reading doubles the cost of training and prediction: against a single
    reading with every block unmasked (`1111`, the better single-reading config on NER at every size
    measured: 55.4 vs 51.0 at 250, 64.4 vs 60.7 at 500, 78.6 vs 68.0 at 1,000) it led by 5.0 at 250,
    3.9 at 500, 3.5 at 1,000 (3 seeds), 4.4 at 2,000 (one seed) and 0.8 at 3,000 (86.7 vs 85.9, 3
    seeds, every seed) and tied at 4,000 (87.9 vs 88.0, 3 seeds). So larger sets read once, with
    every block unmasked unless a config is given: on all 14,041 sentences `1111` scored 89.3
    against 86.6 for `0011`. Reading twice with `1111` lost to reading twice with `0011` (79.1 vs
    83.4 at 1,000, one seed), so the small-set config stays `0011`.
    """

    name = "auto"
    compare_usage = "auto[:CONFIG]"

    def resolve(self, cfg, train_sentences: int):
        if train_sentences <= AUTO_REPEAT_UP_TO:
            return replace(cfg, method="repeat", unmask=self.unmask_config(cfg))
        return replace(cfg, method="unmask", unmask=cfg.unmask or AUTO_LARGE_UNMASK)

    def describe(self, cfg) -> str:
        if cfg.unmask:
            return f"auto (repeat r={cfg.repeat} unmask {cfg.unmask} up to {AUTO_REPEAT_UP_TO:,} sentences, else unmask {cfg.unmask})"
        return (
            f"auto (repeat r={cfg.repeat} unmask {DEFAULT_UNMASK} up to {AUTO_REPEAT_UP_TO:,} sentences, "
            f"else unmask {AUTO_LARGE_UNMASK})"
        )


class EncoderMethod(TokenMethod):
    """An MLM encoder (BERT, MiniLM...) fine-tuned fully: the baseline decoders are compared with."""

    name = "encoder"
    unmasks = False
    default_finetune = "full"
    learning_rates: ClassVar[dict[str, float]] = {"lora": 1e-3, "full": 1e-4}
    default_model = ENCODER_ALIAS
    compare_usage = "encoder[:MODEL]"

    def describe(self, cfg) -> str:
        return f"encoder {Path(cfg.model).name if cfg.model else ENCODER_ALIAS}"

    def compare_settings(self, argument, spec, encoder_model=None) -> dict[str, Any]:
        return {"method": self.name, "model": argument or encoder_model or ENCODER_ALIAS}


def check_unmask_spec(config: str) -> str:
    """A group string or `layers:` list, checked as far as it can be before the model's depth is known."""
    if not config.startswith(LAYERS_PREFIX):
        parse_group_string(config)
    return config


def whole_number(name: str, value: str, spec: str) -> int:
    """A `compare --methods` argument that must be a count (R, K)."""
    if not value.isdigit():
        raise ValueError(f"method {spec!r}: {name} must be a whole number, not {value!r}")
    return int(value)
