"""Gold data to score a trained model on, read and checked from its model card alone.

The card says which column the model was trained on, its scheme and its labels, so a malformed
file, a missing label column or a label the model never saw fails in seconds, before the
weights load (which takes most of a minute for a real model).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from ..data.prepare import Repairs, convert_all, input_scheme, require_tags, sentence_repairs
from ..data.readers import read_data
from ..data.sentence import Sentence
from ..modeling.artifact import ModelCard


@dataclass
class GoldData:
    """Labelled sentences and their tags in the model's scheme (every tag one the model knows)."""

    sentences: list[Sentence]
    tags: list[list[str]]
    repairs: Repairs  # invalid transitions the conversion repaired, counted and located


def read_gold(
    data: str | os.PathLike | Sequence[Sentence],
    card: ModelCard | str | os.PathLike,
    *,
    fmt: str = "auto",
    label_column: int | str | None = None,
    scheme: str | None = None,
    snap_spans: bool = False,
) -> GoldData:
    """Read `data` (a file, in the card's label column unless `label_column`) for `card`'s model.

    `card` is a `ModelCard` or a trained model directory; `scheme` is the file's, detected if None;
    `snap_spans` extends annotation-tool spans that cut a word (see `read_data`).
    """
    if not isinstance(card, ModelCard):
        card = ModelCard.read(card)
    if isinstance(data, (str, os.PathLike)):
        column = card.label_column if label_column is None else label_column
        sentences = read_data(data, fmt=fmt, label_column=column, snap_spans=snap_spans)
    else:
        sentences = list(data)
    require_tags(sentences, "evaluation")
    source = input_scheme(sentences, scheme)
    tags = convert_all(sentences, source, card.scheme, card.labels)
    return GoldData(sentences, tags, sentence_repairs(sentences, source))
