"""`Tagger`: a trained lookright directory as a callable that turns text into labelled spans."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import cached_property

import numpy as np
import torch

from ..alignment.encoder import WindowEncoder
from ..alignment.subwords import join_words
from ..alignment.windows import stitch
from ..data.prepare import convert_all, input_scheme, require_tags, sentence_repairs
from ..data.readers import read_data
from ..data.schemes import tags_to_spans
from ..data.segment import sentence_ranges
from ..data.sentence import Sentence
from ..data.words import split_words
from ..evaluation import EvaluationReport, evaluate_tags
from ..modeling.artifact import ModelCard, load_model_dir
from ..modeling.loading import Precision
from .decoding import decode_sentence
from .inputs import check_texts
from .scoring import score_windows


@dataclass
class TaggedWord:
    text: str
    start: int
    end: int
    label: str
    score: float


@dataclass
class TaggedSpan:
    """A labelled span with character offsets into the original text (end exclusive)."""

    start: int
    end: int
    label: str
    text: str
    score: float


@dataclass
class TaggedText:
    text: str
    words: list[TaggedWord]
    spans: list[TaggedSpan]

    def to_dict(self) -> dict:
        return asdict(self)


def trained_in_bf16(directory: str | os.PathLike) -> bool:
    """Whether the model card records bf16 training (its "precision" is the torch dtype's name)."""
    return ModelCard.read(directory).training.get("precision") == str(torch.bfloat16)


class Tagger:
    """Loads a trained model directory once and tags raw or pre-tokenised text in batches."""

    def __init__(self, model, tokenizer, card: ModelCard, *, decoding: str = "argmax", token_budget: int | None = None):
        self.model = model
        self.tokenizer = tokenizer
        self.card = card
        self.decoding = decoding
        self.token_budget = token_budget

    @cached_property
    def encoder(self) -> WindowEncoder:
        """Built on first use: only the token-classifier path windows its input."""
        return WindowEncoder(self.tokenizer, self.card.max_length, self.card.stride)

    @classmethod
    def load(
        cls,
        directory: str | os.PathLike,
        *,
        device: str | None = None,
        decoding: str = "argmax",
        precision: str = "auto",
        **kwargs,
    ) -> Tagger:
        """Rebuild the model (base + adapter/head or full weights, unmasking re-applied and verified).

        `precision="auto"` scores a model trained in bf16 on a CPU in bf16 too, so it reproduces the
        scores recorded at training time (and keeps bf16's speed); otherwise as `Precision.choose`.
        A generative model directory gives a `GenerativeTagger` (same interface, labels generated).
        """
        chosen = Precision.choose(precision, "none", device)
        if precision == "auto" and chosen.device == "cpu" and trained_in_bf16(directory):
            chosen = Precision.choose("bf16", "none", device)
        model, tokenizer, card = load_model_dir(directory, precision=chosen)
        if card.method == "generative" and cls is Tagger:
            from ..generative.tagger import GenerativeTagger

            return GenerativeTagger(model, tokenizer, card, directory=directory, **kwargs)
        return cls(model, tokenizer, card, decoding=decoding, **kwargs)

    @property
    def labels(self) -> list[str]:
        return self.card.labels

    @property
    def scheme(self) -> str:
        return self.card.scheme

    def word_scores(
        self,
        sentences: Sequence[Sequence[str]],
        wheres: Sequence[str] | None = None,
        *,
        batch_size: int | None = None,
        progress=None,
    ) -> list[np.ndarray]:
        """Per sentence, a (words x labels) array of log-probabilities; empty sentences give empty arrays.

        `batch_size` caps sequences per forward pass (the token budget caps them too).
        """
        out = [np.zeros((0, len(self.labels)), dtype=np.float32) for _ in sentences]
        nonempty = [i for i, words in enumerate(sentences) if len(words)]
        if not nonempty:
            return out
        windows = self.encoder.encode(
            [sentences[i] for i in nonempty], [wheres[i] for i in nonempty] if wheres else None
        )
        scores = score_windows(
            self.model, windows, self.tokenizer.pad_token_id, token_budget=self.token_budget,
            max_batch=batch_size or 64, progress=progress, repeats=self.card.repeat,
        )
        stitched = stitch(windows, scores, [len(sentences[i]) for i in nonempty])
        for i, rows in zip(nonempty, stitched):
            out[i] = np.stack(rows)
        return out

    def label_words(
        self,
        sentences: Sequence[Sequence[str]],
        wheres: Sequence[str] | None = None,
        *,
        batch_size: int | None = None,
        progress=None,
    ) -> list[tuple[list[str], list[float]]]:
        """Per sentence, one label per word and its probability (what every front end builds on).

        `progress(n)` is called as batches finish (n = windows or prompts done in that batch).
        """
        index = {label: i for i, label in enumerate(self.labels)}
        out = []
        for scores in self.word_scores(sentences, wheres, batch_size=batch_size, progress=progress):
            labels = decode_sentence(scores, self.labels, self.scheme, self.decoding)
            out.append((labels, [float(np.exp(scores[k, index[label]])) for k, label in enumerate(labels)]))
        return out

    def tag_words(
        self, sentences: Sequence[Sequence[str]], wheres: Sequence[str] | None = None, *, batch_size: int | None = None
    ) -> list[list[str]]:
        """One label per word for pre-tokenised sentences."""
        return [labels for labels, _ in self.label_words(sentences, wheres, batch_size=batch_size)]

    def predict(
        self,
        texts: Sequence[str] | Sequence[Sequence[str]],
        *,
        batch_size: int | None = None,
        split_sentences: bool = True,
    ) -> list[TaggedText]:
        """Tag raw strings (split into words with exact offsets) or lists of words; order is kept.

        A raw string is cut into sentences first (`lookright.data.segment`) unless
        `split_sentences=False`, so a document gets the labels its sentences get one by one; a list
        of words is one sentence. Sentences longer than the window are windowed, never truncated.
        Anything else (a dict, None, bytes, an int...) raises `InputTypeError` naming the item.
        """
        items = []
        for item in check_texts(texts):
            if isinstance(item, str):
                offsets = split_words(item)
                ranges = sentence_ranges(item, offsets) if split_sentences else [(0, len(offsets))]
                items.append((item, [item[s:e] for s, e in offsets], offsets, ranges))
            else:
                words = list(item)
                text, starts = join_words(words)
                offsets = [(s, s + len(w)) for s, w in zip(starts, words)]
                items.append((text, words, offsets, [(0, len(words))]))
        units = [words[a:b] for _, words, _, ranges in items for a, b in ranges]
        unit_labels = iter(self.label_words(units, batch_size=batch_size))
        results = []
        for text, words, offsets, ranges in items:
            tagged = [self._tagged(text, words[a:b], offsets[a:b], *next(unit_labels)) for a, b in ranges]
            results.append(
                TaggedText(text, [w for t in tagged for w in t.words], [s for t in tagged for s in t.spans])
            )
        return results

    def __call__(self, texts: str | Sequence[str] | Sequence[Sequence[str]]) -> TaggedText | list[TaggedText]:
        """One str -> one `TaggedText`; a list/tuple of texts (str or word lists) -> a list of them."""
        if isinstance(texts, str):
            return self.predict([texts])[0]
        return self.predict(check_texts(texts, call="tagger"))

    def _tagged(self, text: str, words: list[str], offsets, labels: list[str], probs: list[float]) -> TaggedText:
        tagged_words = [
            TaggedWord(w, s, e, label, round(p, 4)) for w, (s, e), label, p in zip(words, offsets, labels, probs)
        ]
        spans = []
        if self.scheme != "NONE":
            for span in tags_to_spans(labels, self.scheme):
                start, end = offsets[span.start][0], offsets[span.end - 1][1]
                score = float(np.mean(probs[span.start : span.end]))
                spans.append(TaggedSpan(start, end, span.label, text[start:end], round(score, 4)))
        return TaggedText(text, tagged_words, spans)

    def evaluate(
        self,
        data: str | os.PathLike | Sequence[Sentence],
        *,
        fmt: str = "auto",
        label_column: int | str | None = None,
        scheme: str | None = None,
    ) -> EvaluationReport:
        """Score the model on a labelled file (or sentences) with strict and lenient span metrics.

        Gold tags are read in `scheme` (default: detected) and repaired where invalid; the report
        says how many transitions were repaired and where the first one is.
        """
        if isinstance(data, (str, os.PathLike)):
            column = self.card.label_column if label_column is None else label_column
            sentences = read_data(data, fmt=fmt, label_column=column)
        else:
            sentences = list(data)
        require_tags(sentences, "evaluation")
        source = input_scheme(sentences, scheme)
        gold = convert_all(sentences, source, self.scheme, self.labels)
        predicted = self.tag_words([s.tokens for s in sentences], [s.where for s in sentences])
        return evaluate_tags(
            gold, predicted, self.scheme, tokens=[s.tokens for s in sentences], sources=[s.where for s in sentences],
            gold_repairs=sentence_repairs(sentences, source),
        )
