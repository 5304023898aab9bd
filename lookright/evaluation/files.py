"""Score a prediction file against a gold file, whatever system wrote the predictions."""

from __future__ import annotations

import os

from ..data.prepare import convert_all, input_scheme, require_tags
from ..data.readers import read_data
from ..data.schemes import normalize_scheme
from ..errors import DataError
from .metrics import evaluate_tags
from .report import EvaluationReport


def score_files(
    gold_path: str | os.PathLike,
    pred_path: str | os.PathLike,
    *,
    gold_column: int | str = -1,
    pred_column: int | str = -1,
    scheme: str | None = None,
    fmt: str = "auto",
) -> EvaluationReport:
    """Both files must hold the same sentences and words; tags may use different BIO-family schemes."""
    gold = read_data(gold_path, fmt=fmt, label_column=gold_column)
    pred = read_data(pred_path, fmt=fmt, label_column=pred_column)
    require_tags(gold, "gold")
    require_tags(pred, "prediction")
    if len(gold) != len(pred):
        raise DataError(f"{len(pred)} sentences, but the gold file {gold_path} has {len(gold)}", pred_path)
    for g, p in zip(gold, pred):
        if g.tokens != p.tokens:
            k = next((i for i, (a, b) in enumerate(zip(g.tokens, p.tokens)) if a != b), min(len(g), len(p)))
            raise DataError(
                f"words differ from the gold sentence at {g.where} (word {k}: "
                f"{g.tokens[k] if k < len(g) else '<end>'!r} vs {p.tokens[k] if k < len(p) else '<end>'!r})",
                p.source,
                p.line,
            )
    target = normalize_scheme(scheme) if scheme else input_scheme(gold, None)
    gold_tags = convert_all(gold, input_scheme(gold, scheme), target)
    pred_tags = convert_all(pred, input_scheme(pred, scheme), target)
    return evaluate_tags(gold_tags, pred_tags, target, [s.tokens for s in gold], [s.where for s in gold])
