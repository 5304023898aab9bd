"""`GenerativeTagger`: a generative model directory behind the same `Tagger` interface.

Sentences are cut into chunks of at most `max_length` response subwords (never dropped), each chunk
gets its demonstrations and prompt, prompts are batched by length (left padding, a token budget)
and decoded greedily under the span grammar. Spans come back as tags in the model's scheme, so
evaluation, `predict`, the HTTP service and the spaCy component work unchanged.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence

import numpy as np
import torch
from transformers import GenerationConfig, LogitsProcessorList

from ..data.schemes import Span, spans_to_tags
from ..errors import ModelError
from ..inference.scoring import token_budget_batches
from ..inference.tagger import Labelled, Tagger, wants_int8
from ..modeling.artifact import ModelCard, load_model_dir, scoring_precision
from .constrained import SpanConstraint, SpanGrammar
from .demos import DemoPool
from .prompts import PieceTokenizer, prompt_text

DEFAULT_TOKEN_BUDGET = 16384  # prompt + response tokens per generation batch


class GenerativeTagger(Tagger):
    """Labels words by generating `words => type` spans under a grammar that always parses."""

    def __init__(
        self,
        model,
        tokenizer,
        card: ModelCard,
        *,
        pool: DemoPool | None = None,
        token_budget: int = DEFAULT_TOKEN_BUDGET,
    ) -> None:
        super().__init__(model, tokenizer, card)
        settings = card.generation
        self.token_budget = token_budget
        self.names: dict[str, str] = settings["names"]
        self.demos: int = settings.get("demos", 0)
        self.selection: str = settings.get("demo_selection", "similar")
        self.instruction: bool = settings.get("instruction", False)
        self.pool = pool if pool is not None else DemoPool([])
        self.pieces = PieceTokenizer(tokenizer)

    @classmethod
    def from_directory(
        cls,
        directory: str | os.PathLike,
        card: ModelCard,
        *,
        device: str | None = None,
        precision: str = "auto",
        quantize: str = "auto",
        decoding: str = "argmax",
        token_budget: int = DEFAULT_TOKEN_BUDGET,
    ) -> GenerativeTagger:
        """The model, and the demonstration pool its prompts were trained with (`demonstrations.jsonl`).

        `decoding` is accepted for a uniform interface: a generative model always decodes greedily
        under its span grammar, so only `argmax` (the default) is valid.
        """
        if wants_int8(quantize, card):
            raise ModelError("--quantize int8 applies to token classifiers, not to generative models")
        if decoding != "argmax":
            raise ModelError(f"decoding {decoding!r} applies to token classifiers: a generative model decodes "
                             "greedily under its span grammar (argmax)")
        pool = DemoPool.read(directory, card.generation.get("seed", 0), required=card.generation.get("demos", 0) > 0)
        model, tokenizer, card = load_model_dir(directory, card=card, precision=scoring_precision(card, precision, device))
        return cls(model, tokenizer, card, pool=pool, token_budget=token_budget)

    def chunks(self, words: Sequence[str]) -> list[tuple[int, int]]:
        """Consecutive word ranges whose response pieces stay within `max_length` subwords."""
        ranges, start, used = [], 0, 0
        for i, word in enumerate(words):
            cost = len(self.pieces.word(word))
            if i > start and used + cost > self.card.max_length:
                ranges.append((start, i))
                start, used = i, 0
            used += cost
        ranges.append((start, len(words)))
        return ranges

    def prompt(self, words: Sequence[str], exclude: int | None = None) -> str:
        demos = [(d.words, d.spans) for d in self.pool.select(words, self.demos, self.selection, exclude)]
        return prompt_text(words, demos, self.names, self.instruction)

    def generate_spans(
        self, units: Sequence[Sequence[str]], *, batch_size: int | None = None, progress=None
    ) -> list[tuple[list[tuple[Span, float]], float]]:
        """Per word list, the generated spans (with mean token probability) and the response confidence."""
        encoded = [self.tokenizer(self.prompt(words))["input_ids"] for words in units]
        grammars = [SpanGrammar(words, self.pieces, self.names) for words in units]
        lengths = [len(ids) + g.max_tokens() for ids, g in zip(encoded, grammars)]
        device = next(self.model.parameters()).device
        pad = self.tokenizer.pad_token_id
        was_training = self.model.training
        self.model.eval()
        try:
            with torch.inference_mode():
                for batch in token_budget_batches(lengths, self.token_budget, batch_size or 32):
                    longest = max(len(encoded[i]) for i in batch)
                    ids = torch.full((len(batch), longest), pad, dtype=torch.long)
                    mask = torch.zeros((len(batch), longest), dtype=torch.long)
                    for row, i in enumerate(batch):  # left padding: every prompt ends at the same column
                        n = len(encoded[i])
                        ids[row, longest - n :] = torch.tensor(encoded[i])
                        mask[row, longest - n :] = 1
                    constraint = SpanConstraint([grammars[i] for i in batch], longest)
                    config = GenerationConfig(
                        max_new_tokens=max(grammars[i].max_tokens() for i in batch), do_sample=False, num_beams=1,
                        pad_token_id=pad, eos_token_id=self.pieces.eos,
                    )
                    sequences = self.model.generate(
                        input_ids=ids.to(device), attention_mask=mask.to(device), generation_config=config,
                        logits_processor=LogitsProcessorList([constraint]),
                    )
                    constraint.close(sequences.cpu())
                    if progress is not None:
                        progress(len(batch))
        finally:
            self.model.train(was_training)
        return [(g.spans(), g.confidence()) for g in grammars]

    def label_words(
        self,
        sentences: Sequence[Sequence[str]],
        wheres: Sequence[str] | None = None,
        *,
        batch_size: int | None = None,
        progress=None,
    ) -> Labelled:
        """Tags and probabilities per word: a span's words get its mean token probability, other words
        the response's overall confidence."""
        pieces = [(i, a, b) for i, words in enumerate(sentences) if words for a, b in self.chunks(words)]
        generated = iter(
            self.generate_spans([sentences[i][a:b] for i, a, b in pieces], batch_size=batch_size, progress=progress)
        )
        spans: list[list[tuple[Span, float]]] = [[] for _ in sentences]
        confidence: list[list[float]] = [[] for _ in sentences]
        for i, a, _ in pieces:
            chunk_spans, chunk_confidence = next(generated)
            spans[i].extend((Span(s.start + a, s.end + a, s.label), p) for s, p in chunk_spans)
            confidence[i].append(chunk_confidence)
        out = []
        for i, words in enumerate(sentences):
            tags = spans_to_tags([s for s, _ in spans[i]], len(words), self.scheme)
            overall = float(np.nanmean(confidence[i])) if confidence[i] and not all(map(math.isnan, confidence[i])) else 1.0
            probs = [overall] * len(words)
            for span, p in spans[i]:
                for w in range(span.start, span.end):
                    probs[w] = p if not math.isnan(p) else overall
            out.append((tags, probs))
        return out
