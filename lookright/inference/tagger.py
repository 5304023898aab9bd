"""`Tagger`: a trained lookright directory as a callable that turns text into labelled spans."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import cached_property

import numpy as np

from ..alignment.encoder import WindowEncoder
from ..alignment.subwords import join_words
from ..alignment.windows import stitch
from ..data.schemes import tags_to_spans
from ..data.segment import sentence_ranges
from ..data.sentence import Sentence
from ..data.words import split_words
from ..errors import ModelError
from ..evaluation import EvaluationReport, evaluate_tags
from ..modeling.artifact import ModelCard, load_model_dir, scoring_precision
from ..modeling.int8 import DEFAULT_ALPHA, load_scales
from ..modeling.loading import Precision
from .decoding import decode_sentence
from .gold import GoldData, read_gold
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


QUANTIZE_CHOICES = ("auto", "none", "int8")


def wants_int8(quantize: str, card: ModelCard) -> bool:
    """`int8`: yes; `none`: no; `auto`: when the directory was exported in int8."""
    if quantize not in QUANTIZE_CHOICES:
        raise ModelError(f"unknown quantization {quantize!r} for scoring: use {', '.join(QUANTIZE_CHOICES)}")
    if quantize == "auto":
        return str(card.quantization.get("scheme", "")).startswith("int8")
    return quantize == "int8"


class Tagger:
    """Loads a trained model directory once and tags raw or pre-tokenised text in batches."""

    def __init__(self, model, tokenizer, card: ModelCard, *, decoding: str = "argmax", token_budget: int | None = None):
        self.model = model
        self.tokenizer = tokenizer
        self.card = card
        self.decoding = decoding
        self.token_budget = token_budget
        self.int8 = None  # an Int8Record once the linear layers are int8

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
        quantize: str = "auto",
        **kwargs,
    ) -> Tagger:
        """Rebuild the model (base + adapter/head or full weights, unmasking re-applied and verified).

        `precision="auto"` scores in what `auto` trains this kind of model in here (`Precision.choose`:
        LoRA models in bf16 on a GPU or a CPU with native bf16, full fine-tunes in fp32 on a CPU), and a
        model trained in bf16 in bf16 on any CPU, so it reproduces the scores recorded at training time. `quantize="int8"` scores with dynamic int8 linear layers on a CPU
        (`lookright.modeling.int8`); `"auto"` does so when the directory was exported in int8.
        A generative model directory gives a `GenerativeTagger` (same interface, labels generated).
        """
        card = ModelCard.read(directory)
        int8 = wants_int8(quantize, card)
        if int8:
            if precision not in ("auto", "fp32"):
                raise ModelError(f"--quantize int8 computes from fp32 weights; it cannot be combined with precision {precision}")
            if card.method == "generative":
                raise ModelError("--quantize int8 applies to token classifiers, not to generative models")
            chosen = Precision.choose("fp32", "none", device)
            if chosen.device != "cpu":
                raise ModelError("--quantize int8 runs on a CPU (torch's dynamic int8 kernels); use bf16 on a GPU")
        else:
            chosen = scoring_precision(card, precision, device)
        model, tokenizer, card = load_model_dir(directory, precision=chosen)
        if card.method == "generative" and cls is Tagger:
            from ..generative.tagger import GenerativeTagger

            return GenerativeTagger(model, tokenizer, card, directory=directory, **kwargs)
        tagger = cls(model, tokenizer, card, decoding=decoding, **kwargs)
        if int8:
            saved = load_scales(directory) if card.quantization.get("scheme", "").startswith("int8") else None
            tagger.quantize_int8(scales=saved)
        return tagger

    def quantize_int8(
        self, calibration: Sequence[Sequence[str]] | None = None, *, scales=None, alpha: float = DEFAULT_ALPHA
    ):
        """Swap the model's linear layers for smoothed dynamic int8 ones, in place (see `modeling.int8`).

        The smoothing comes from `scales` (as saved by an int8 export) or from a calibration pass over
        `calibration` sentences (lists of words; default: the built-in sentences). Returns the scales.
        """
        from ..modeling.int8 import CALIBRATION_SENTENCES, apply_int8, quantize_int8

        if scales is not None:
            self.int8 = apply_int8(self.model, scales, alpha=self.card.quantization.get("alpha", alpha), calibration="saved scales")
            return scales
        described = "built-in sentences" if calibration is None else f"{len(calibration)} given sentences"
        if calibration is None:
            calibration = [[text[a:b] for a, b in split_words(text)] for text in CALIBRATION_SENTENCES]
        self.int8, scales = quantize_int8(
            self.model, lambda: self.word_scores(calibration), alpha=alpha, calibration=described
        )
        return scales

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
        data: str | os.PathLike | Sequence[Sentence] | GoldData,
        *,
        fmt: str = "auto",
        label_column: int | str | None = None,
        scheme: str | None = None,
    ) -> EvaluationReport:
        """Score the model on a labelled file (or sentences) with strict and lenient span metrics.

        `data` may also be what `read_gold` returned, read before the model was loaded. Gold tags
        are read in `scheme` (default: detected) and repaired where invalid; the report says how many
        transitions were repaired and where the first one is.
        """
        gold = data if isinstance(data, GoldData) else read_gold(
            data, self.card, fmt=fmt, label_column=label_column, scheme=scheme
        )
        sentences = gold.sentences
        predicted = self.tag_words([s.tokens for s in sentences], [s.where for s in sentences])
        return evaluate_tags(
            gold.tags, predicted, self.scheme, tokens=[s.tokens for s in sentences], sources=[s.where for s in sentences],
            gold_repairs=gold.repairs,
        )
