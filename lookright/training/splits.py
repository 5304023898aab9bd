"""The data side of training, shared by every method: which sentences, which labels, gold tags."""

from __future__ import annotations

import hashlib
import os
import stat
from collections import OrderedDict
from dataclasses import dataclass

from ..data.prepare import convert_all, input_scheme, model_scheme, require_tags
from ..data.readers import read_data
from ..data.schemes import label_set
from ..data.sentence import Sentence
from ..errors import DataError
from .config import TrainConfig

_PARSED: OrderedDict[tuple, list[Sentence]] = OrderedDict()
_KEEP_PARSED = 4  # files: a run's train, validation, test and label source
_PARSE_ONCE_BYTES = 32 << 20  # larger files are parsed per run: their sentences are not kept between runs


def _read(path: str, cfg: TrainConfig) -> list[Sentence]:
    """A local file's sentences, parsed once per process while its bytes stay the same.

    A sweep or comparison trains many runs in one process on the same files; each used to parse
    them again (a quarter of a second for CoNLL-2003's training file, seconds to minutes for a large
    corpus). The key is the content's digest, not the modification time, so a file rewritten within
    one clock tick is read again. Sentences are never modified after reading, so runs can share
    them. Files over 32 MiB are not kept (their sentences would hold hundreds of MB or more after
    the run that read them).
    """

    def parse() -> list[Sentence]:
        return read_data(path, fmt=cfg.data_format, label_column=cfg.label_column, snap_spans=cfg.snap_spans)

    digest = _content_digest(path)
    if digest is None:
        return parse()
    key = (path, digest, cfg.data_format, cfg.label_column, cfg.snap_spans)
    if key not in _PARSED:
        _PARSED[key] = parse()
        while len(_PARSED) > _KEEP_PARSED:
            _PARSED.popitem(last=False)
    _PARSED.move_to_end(key)
    return list(_PARSED[key])


def _content_digest(path: str) -> bytes | None:
    """The digest of a regular file of at most `_PARSE_ONCE_BYTES`; None for anything else (a dataset
    name, a missing file, a pipe, a huge file), which `read_data` then reads or reports."""
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode) or info.st_size > _PARSE_ONCE_BYTES:
            return None
        with open(path, "rb") as handle:
            return hashlib.file_digest(handle, "blake2b").digest()
    except OSError:
        return None


def load_split(path: str, cfg: TrainConfig, limit: int | None) -> list[Sentence]:
    """One data file as sentences (the first `limit`); an empty file is an error, not a silent no-op."""
    sentences = _read(path, cfg)
    if limit is not None:
        sentences = sentences[:limit]
    if not sentences:
        raise DataError("no sentences to use", path)
    return sentences


def load_train_and_validation(cfg: TrainConfig) -> tuple[list[Sentence], list[Sentence]]:
    """Training sentences (first N) and validation sentences (a file, or the last K held out of training)."""
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


def _require_training_labels(train: list[Sentence], train_tags: list[list[str]], labels: list[str], source: str) -> None:
    """A label source (`labels_from`) must hold every label of the training data the model is given."""
    known = set(labels)
    for sentence, tags in zip(train, train_tags):
        for k, tag in enumerate(tags):
            if tag not in known:
                raise DataError(
                    f"word {k} ({sentence.tokens[k]!r}) has label {tag!r}, which the label source {source} lacks "
                    f"(it has: {', '.join(labels)})",
                    sentence.source,
                    sentence.line,
                )


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
    if cfg.labels_from:
        _require_training_labels(train, train_tags, labels, cfg.labels_from)
    val_tags = evaluation_tags(validation, "validation", cfg, source_scheme, scheme, labels) if validation else []
    return GoldTags(source_scheme, scheme, labels, train_tags, val_tags)


@dataclass
class RunData:
    """Every labelled file a run reads, read and checked before the model loads (a bad test file
    or label source fails in seconds, not after training)."""

    train: list[Sentence]
    validation: list[Sentence]
    test: list[Sentence]  # empty without a test file
    gold: GoldTags
    test_tags: list[list[str]]  # in the model's scheme, every label one the model is given


def load_run_data(cfg: TrainConfig, *, train_scheme: str | None = None, spans_for: str | None = None) -> RunData:
    """Training, validation, label source and test data of `cfg`, with their gold tags (see `gold_tags`)."""
    train, validation = load_train_and_validation(cfg)
    gold = gold_tags(cfg, train, validation, train_scheme=train_scheme, spans_for=spans_for)
    test = load_split(cfg.test, cfg, None) if cfg.test else []
    test_tags = evaluation_tags(test, "test", cfg, gold.source_scheme, gold.scheme, gold.labels) if test else []
    return RunData(train, validation, test, gold, test_tags)
