"""Score a prediction file against a gold file, whatever system wrote the predictions."""

from __future__ import annotations

import os

from ..data.prepare import convert_all, input_scheme, require_tags, sentence_repairs
from ..data.readers import read_data
from ..data.schemes import normalize_tags
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
    snap_spans: bool = False,
) -> EvaluationReport:
    """Both files must hold the same sentences and words; tags may use different BIO-family schemes.

    Both files are read in `scheme` when given, else each in its detected scheme, and scored in the
    gold file's. Invalid gold transitions are repaired; predictions in the scoring scheme are scored
    as written (as `evaluate` scores a model), others converted. The report counts both.
    """
    gold = read_data(gold_path, fmt=fmt, label_column=gold_column, snap_spans=snap_spans)
    pred = read_data(pred_path, fmt=fmt, label_column=pred_column, snap_spans=snap_spans)
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
    gold_scheme, pred_scheme = input_scheme(gold, scheme), input_scheme(pred, scheme)
    target = gold_scheme  # the scheme given, else the gold file's
    if pred_scheme == "NONE" and all(tag == "O" for p in pred for tag in p.tags):
        pred_scheme = target  # a system that found no span at all: its O tags are valid in any scheme
    gold_tags = convert_all(gold, gold_scheme, target)
    pred_tags = convert_all(pred, pred_scheme, target)  # valid tags: a prediction file in another scheme
    as_written = pred_scheme == target and target != "IOB1"
    if as_written:  # scored as `evaluate` scores a model's output: strict sees its invalid transitions
        pred_tags = [normalize_tags(p.tags, target) for p in pred]
    return evaluate_tags(
        gold_tags, pred_tags, target, [s.tokens for s in gold], [s.where for s in gold],
        gold_repairs=sentence_repairs(gold, gold_scheme),
        pred_repairs=sentence_repairs(pred, pred_scheme, repaired=not as_written),
    )
