"""`Tagger`: a trained lookright directory as a callable that turns text into labelled spans.

`Tagger` is the interface every labelling method's model is used through: a subclass says how
words get labels (`label_words`); raw text, sentence splitting, character-offset spans,
evaluation and streaming are built on that here, once. `TokenTagger` labels with a classification
head, `GenerativeTagger` by writing spans. `load_tagger(directory)` (and `Tagger.load`) reads the
model card once and returns the subclass the directory's method loads as.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ..alignment.subwords import join_words
from ..data.schemes import tags_to_spans
from ..data.segment import sentence_ranges
from ..data.sentence import Sentence
from ..data.words import split_words
from ..errors import ModelError
from ..evaluation import EvaluationReport, evaluate_tags
from ..modeling.artifact import ModelCard
from .gold import GoldData, read_gold
from .inputs import check_texts

Labelled = list[tuple[list[str], list[float]]]  # per sentence: one label per word and its probability


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


@dataclass
class PreparedTexts:
    """Texts ready to label (see `Tagger.prepare_texts`): per text (text, words, offsets, sentence
    ranges), and every sentence's words in order."""

    items: list[tuple[str, list[str], list[tuple[int, int]], list[tuple[int, int]]]]
    units: list[list[str]]

    def unit_counts(self) -> list[int]:
        """How many units (sentences) each text has."""
        return [len(ranges) for _, _, _, ranges in self.items]


QUANTIZE_CHOICES = ("auto", "none", "int8")


def wants_int8(quantize: str, card: ModelCard) -> bool:
    """`int8`: yes; `none`: no; `auto`: when the directory was exported in int8."""
    if quantize not in QUANTIZE_CHOICES:
        raise ModelError(f"unknown quantization {quantize!r} for scoring: use {', '.join(QUANTIZE_CHOICES)}")
    if quantize == "auto":
        return str(card.quantization.get("scheme", "")).startswith("int8")
    return quantize == "int8"


def load_tagger(directory: str | os.PathLike, *, kind: type[Tagger] | None = None, **options: Any) -> Tagger:
    """The tagger of a trained directory: its card is read once, its method names the `Tagger` subclass.

    `options` are that subclass's (`device`, `precision`, `quantize`, `decoding`, `token_budget`);
    one it does not take is a TypeError, never silently dropped. `kind` refuses a directory that
    loads as another subclass (what `GenerativeTagger.load(directory)` asks for).
    """
    card = ModelCard.read(directory)
    tagger_class = card.labelling_method(directory).tagger_class
    if kind is not None and not issubclass(tagger_class, kind):
        raise ModelError(
            f"{directory} holds a {card.method} model, which loads as {tagger_class.__name__}, not {kind.__name__}: "
            "use Tagger.load or load_tagger"
        )
    return tagger_class.from_directory(directory, card, **options)


class Tagger(ABC):
    """Loads a trained model directory once and tags raw or pre-tokenised text in batches."""

    def __init__(self, model, tokenizer, card: ModelCard) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.card = card

    @classmethod
    def load(cls, directory: str | os.PathLike, **options: Any) -> Tagger:
        """Rebuild the model (base + adapter/head or full weights, unmasking re-applied and verified).

        `Tagger.load` gives whichever subclass the directory's method loads as (`TokenTagger` or
        `GenerativeTagger`); a subclass's `load` only accepts its own directories. Options:
        `precision="auto"` scores in what `auto` trains this kind of model in here (`Precision.choose`:
        LoRA models in bf16 on a GPU or a CPU with native bf16, full fine-tunes in fp32 on a CPU),
        and a model trained in bf16 in bf16 on any CPU, so it reproduces the scores recorded at
        training time; `quantize="int8"` scores a token classifier with dynamic int8 linear layers
        on a CPU (`lookright.modeling.int8`), `"auto"` does so when the directory was exported in
        int8; `device`; `decoding` (argmax or viterbi, token classifiers).
        """
        return load_tagger(directory, kind=None if cls is Tagger else cls, **options)

    @classmethod
    @abstractmethod
    def from_directory(cls, directory: str | os.PathLike, card: ModelCard, **options: Any) -> Tagger:
        """Load `directory`, whose card `card` was already read (see `load_tagger`)."""

    @property
    def labels(self) -> list[str]:
        return self.card.labels

    @property
    def scheme(self) -> str:
        return self.card.scheme

    @abstractmethod
    def label_words(
        self,
        sentences: Sequence[Sequence[str]],
        wheres: Sequence[str] | None = None,
        *,
        batch_size: int | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> Labelled:
        """Per sentence, one label per word and its probability (what every front end builds on).

        `wheres` locate the sentences (`file:line`) for error messages; `progress(n)` is called as
        batches finish (n = model inputs done in that batch).
        """

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
        of words is one sentence. Sentences longer than the model's input are windowed or chunked,
        never truncated. Anything else (a dict, None, bytes, an int...) raises `InputTypeError`
        naming the item.
        """
        prepared = self.prepare_texts(texts, split_sentences=split_sentences)
        return self.tagged_texts(prepared, self.label_words(prepared.units, batch_size=batch_size))

    def prepare_texts(
        self, texts: Sequence[str] | Sequence[Sequence[str]], *, split_sentences: bool = True
    ) -> PreparedTexts:
        """Texts cut into words and sentences, as `predict` tags them: `units` are the word lists the
        model labels (what `label_words`, or a token classifier's `word_scores`, takes)."""
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
        return PreparedTexts(items, [words[a:b] for _, words, _, ranges in items for a, b in ranges])

    def tagged_texts(self, prepared: PreparedTexts, labelled: Labelled) -> list[TaggedText]:
        """One `TaggedText` per prepared text from the labels of its units (in `prepared.units` order)."""
        unit_labels = iter(labelled)
        results = []
        for text, words, offsets, ranges in prepared.items:
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

    def score(
        self,
        sentences: Sequence[Sentence],
        tags: Sequence[Sequence[str]],
        *,
        gold_repairs=None,
        progress: Callable[[int], None] | None = None,
    ) -> EvaluationReport:
        """The model's labels for `sentences` scored against `tags` (gold, in the model's scheme)."""
        words, wheres = [s.tokens for s in sentences], [s.where for s in sentences]
        predicted = [labels for labels, _ in self.label_words(words, wheres, progress=progress)]
        return evaluate_tags(tags, predicted, self.scheme, tokens=words, sources=wheres, gold_repairs=gold_repairs)

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
        return self.score(gold.sentences, gold.tags, gold_repairs=gold.repairs)
