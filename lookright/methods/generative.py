"""`generative`: supervised in-context fine-tuning (SIFT-style), the decoder writes the labelled spans.

Each training sentence becomes prompt (optional instruction, k demonstrations retrieved from the
other training sentences, the sentence) + response (its spans, `words => type ; ...`, then EOS).
LoRA is trained with the causal-LM loss on the response tokens only. Checkpoints are selected on
validation loss (generating the validation set at every evaluation would cost more than training);
the final model is then scored on validation/test by constrained generation with the same span F1
as every other method.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import torch

from ..alignment.encoder import IGNORE_INDEX
from ..data.schemes import tags_to_spans
from ..data.sentence import Sentence
from ..evaluation import EvaluationReport
from ..generative.demos import POOL_FILE, Demo, DemoPool
from ..generative.prompts import type_names
from ..generative.tagger import DEFAULT_TOKEN_BUDGET, GenerativeTagger
from ..modeling.loading import load_causal_lm, load_tokenizer
from ..modeling.resolve import resolve_model
from .base import LOSS_SELECTION, Encoded, LoadedModel, Method, TrainerParts
from .token import whole_number

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


def prompt_features(
    tagger: GenerativeTagger, sentences: list[Sentence], tags: list[list[str]], in_pool: dict[int, int] | None
) -> list[dict[str, list[int]]]:
    """Prompt + response ids with the loss on the response only; long sentences cut into chunks, as
    prediction cuts them (`GenerativeTagger.chunks`).

    `in_pool` maps a training sentence to its own entry in the demonstration pool, which its
    prompt must not show it.
    """
    features = []
    for i, (sentence, sentence_tags) in enumerate(zip(sentences, tags)):
        spans = tags_to_spans(sentence_tags, tagger.scheme)
        for a, b in tagger.chunks(sentence.tokens):
            words = sentence.tokens[a:b]
            # a span the cut crosses keeps its part in each chunk, as prediction (which cuts alike) will see it;
            # dropped, it taught the model to leave those words unlabelled
            chunk_spans = [type(s)(max(s.start, a) - a, min(s.end, b) - a, s.label) for s in spans
                           if s.start < b and a < s.end]
            exclude = in_pool.get(i) if in_pool is not None and (a, b) == (0, len(sentence.tokens)) else None
            prompt = tagger.tokenizer(tagger.prompt(words, exclude=exclude))["input_ids"]
            response = tagger.pieces.response(words, chunk_spans, tagger.names)
            features.append({
                "input_ids": prompt + response,
                "attention_mask": [1] * (len(prompt) + len(response)),
                "labels": [IGNORE_INDEX] * len(prompt) + response,
            })
    return features


@dataclass
class _GenerativeRun:
    tagger: GenerativeTagger  # builds the prompts now, scores the trained model later
    keeps_logits: bool  # the model's forward takes `logits_to_keep`


class GenerativeMethod(Method):
    """The decoder writes `words => type ;` spans, decoded greedily under a grammar that always parses."""

    name = "generative"
    task = "causal"
    finetune_modes = ("lora",)
    learning_rates: ClassVar[dict[str, float]] = {"lora": 5e-4}
    writes_spans = True
    selection = LOSS_SELECTION
    extra_files = (POOL_FILE,)
    compare_usage = "generative[:K]"

    def describe(self, cfg) -> str:
        return f"generative k={cfg.demos} {cfg.demo_selection}" + (" +instruction" if cfg.instruction else "")

    def train_scheme(self, cfg) -> str:
        return "IOB2"  # spans are written, whatever scheme a token classifier would learn

    def compare_settings(self, argument, spec, encoder_model=None) -> dict[str, Any]:
        return {"method": self.name, "demos": whole_number("K", argument, spec) if argument else 1}

    def load_model(self, cfg, labels, precision) -> LoadedModel:
        path = resolve_model(cfg.model)
        tokenizer = load_tokenizer(path)
        model = load_causal_lm(path, precision=precision, attn_implementation=cfg.attn_implementation)
        return LoadedModel(model, tokenizer, cfg.model)

    def card_fields(self, cfg, data) -> dict[str, Any]:
        types = sorted({label[2:] for label in data.gold.labels if label != "O"})
        generation = {
            "names": type_names(types), "demos": cfg.demos, "demo_selection": cfg.demo_selection,
            "instruction": cfg.instruction, "seed": cfg.seed, "loss": "response tokens only",
        }
        return {"unmask": "0", "stride": 0, "generation": generation}

    def encode(self, cfg, loaded, card, data) -> Encoded:
        in_pool: dict[int, int] = {}
        demos = []
        for i, (sentence, tags) in enumerate(zip(data.train, data.gold.train)):
            if len(sentence.tokens) <= MAX_DEMO_WORDS:
                in_pool[i] = len(demos)
                demos.append(Demo(tuple(sentence.tokens), tuple(tags_to_spans(tags, card.scheme))))
        budget = cfg.eval_batch_tokens or DEFAULT_TOKEN_BUDGET
        tagger = GenerativeTagger(loaded.model, loaded.tokenizer, card, pool=DemoPool(demos, cfg.seed), token_budget=budget)
        train = prompt_features(tagger, data.train, data.gold.train, in_pool)
        validation = prompt_features(tagger, data.validation, data.gold.validation, None) if data.validation else None
        responses = sum(len(f["input_ids"]) - f["labels"].count(IGNORE_INDEX) for f in train)
        summary = (
            f"{len(train):,} prompts ({sum(len(f['input_ids']) for f in train):,} tokens, {responses:,} in responses), "
            f"{len(tagger.names)} types"
        )
        keeps_logits = "logits_to_keep" in inspect.signature(type(loaded.model).forward).parameters
        return Encoded(train, validation, summary, record={"prompts": len(train)}, state=_GenerativeRun(tagger, keeps_logits))

    def trainer_parts(self, cfg, encoded, tokenizer, card, selecting) -> TrainerParts:
        return TrainerParts(
            collator=ResponseCollator(tokenizer.pad_token_id, keep_logits=encoded.state.keeps_logits),
            arguments={"prediction_loss_only": True},  # selection uses the loss; never gather response logits
        )

    def save_extras(self, encoded, output: Path) -> None:
        encoded.state.tagger.pool.write(output)

    def scoring_tagger(self, model, tokenizer, card, encoded, cfg) -> GenerativeTagger:
        tagger = encoded.state.tagger
        tagger.model = model
        return tagger

    def evaluate(self, tagger, sentences, tags, *, console, split) -> EvaluationReport:
        """Constrained generation over a labelled split (minutes on CPU: shown with a progress bar)."""
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        total = sum(len(tagger.chunks(s.tokens)) for s in sentences if s.tokens)
        columns = (TextColumn(f"generating {split}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        with Progress(*columns, console=console, transient=True) as bar:
            task = bar.add_task(split, total=total)
            return tagger.score(sentences, tags, progress=lambda n: bar.advance(task, n))

    @property
    def tagger_class(self) -> type[GenerativeTagger]:
        return GenerativeTagger
