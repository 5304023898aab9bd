"""The data side of training, shared by every method: which sentences, which labels, gold tags."""

from __future__ import annotations

from dataclasses import dataclass

from ..data.prepare import convert_all, input_scheme, model_scheme, require_tags
from ..data.readers import read_data
from ..data.schemes import label_set
from ..data.sentence import Sentence
from ..errors import DataError
from .config import TrainConfig


def load_split(path: str, cfg: TrainConfig, limit: int | None) -> list[Sentence]:
    """One data file as sentences (the first `limit`); an empty file is an error, not a silent no-op."""
    sentences = read_data(path, fmt=cfg.data_format, label_column=cfg.label_column)
    if limit is not None:
        sentences = sentences[:limit]
    if not sentences:
        raise DataError("no sentences to use", path)
    return sentences


def load_train_and_validation(cfg: TrainConfig) -> tuple[list[Sentence], list[Sentence]]:
    """Training sentences (first N) and validation sentences (a file, or the last K held out of training)."""
    if cfg.validation and cfg.validation_holdout:
        raise ValueError("give either a validation file or validation_holdout, not both")
    pool = load_split(cfg.train, cfg, None)
    validation: list[Sentence] = []
    if cfg.validation_holdout:
        if cfg.validation_holdout >= len(pool):
            raise DataError(f"cannot hold out {cfg.validation_holdout} of {len(pool)} sentences", cfg.train)
        pool, validation = pool[: -cfg.validation_holdout], pool[-cfg.validation_holdout :]
    elif cfg.validation:
        validation = load_split(cfg.validation, cfg, None)
    if cfg.max_validation_sentences is not None:
        validation = validation[: cfg.max_validation_sentences]
    train = pool[: cfg.max_train_sentences] if cfg.max_train_sentences is not None else pool
    return train, validation


def training_labels(cfg: TrainConfig, train_tags: list[list[str]], source_scheme: str, scheme: str) -> list[str]:
    """The label set: from the training data used, or from a (larger) labelled file when training on a slice."""
    if not cfg.labels_from:
        return label_set(train_tags, scheme)
    sentences = load_split(cfg.labels_from, cfg, None)
    require_tags(sentences, "label source")
    return label_set(convert_all(sentences, input_scheme(sentences, cfg.scheme or source_scheme), scheme), scheme)


def evaluation_tags(
    sentences: list[Sentence], role: str, cfg: TrainConfig, source_scheme: str, scheme: str, labels: list[str]
) -> list[list[str]]:
    """Gold tags of a validation/test split in the model's scheme (a label the model lacks is an error)."""
    require_tags(sentences, role)
    return convert_all(sentences, input_scheme(sentences, cfg.scheme or source_scheme), scheme, labels)


@dataclass
class GoldTags:
    """Training and validation tags in the model's scheme, and the label set the head gets."""

    source_scheme: str
    scheme: str
    labels: list[str]
    train: list[list[str]]
    validation: list[list[str]]  # empty without validation sentences


def gold_tags(
    cfg: TrainConfig,
    train: list[Sentence],
    validation: list[Sentence],
    *,
    train_scheme: str | None = None,
    spans_for: str | None = None,
) -> GoldTags:
    """Schemes, labels and gold tags of the training (and validation) sentences, shared by every method.

    `train_scheme` overrides the config's (the generative method always writes IOB2 spans);
    `spans_for` names a method that needs span labels, so per-word tags (POS) fail before any work.
    """
    require_tags(train, "training")
    source_scheme = input_scheme(train, cfg.scheme)
    scheme = model_scheme(source_scheme, train_scheme or cfg.train_scheme)
    if spans_for is not None and scheme == "NONE":
        raise DataError(f"{spans_for} writes spans: it needs span labels (BIO/IOB1/BIOES/IO), not per-word tags", cfg.train)
    train_tags = convert_all(train, source_scheme, scheme)
    labels = training_labels(cfg, train_tags, source_scheme, scheme)
    val_tags = evaluation_tags(validation, "validation", cfg, source_scheme, scheme, labels) if validation else []
    return GoldTags(source_scheme, scheme, labels, train_tags, val_tags)
