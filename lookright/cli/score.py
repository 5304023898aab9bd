"""`lookright score`: any prediction file against gold, with the metrics of `evaluate` (no model, no torch)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from . import common
from .common import Opt, app


@app.command()
def score(
    gold: Annotated[str, Opt("--gold", help="Labelled reference file.")],
    pred: Annotated[str, Opt("--pred", help="Predictions for the same sentences (any system).")],
    gold_column: Annotated[str, Opt("--gold-column")] = "-1",
    pred_column: Annotated[str, Opt("--pred-column")] = "-1",
    scheme: Annotated[str | None, Opt("--scheme", help="Scheme both files are written in (kept as given); default: detect each, score in the gold file's.")] = None,
    output: Annotated[Path | None, Opt("--output", "-o")] = None,
    data_format: Annotated[
        str, Opt("--format", help="Both files: auto, conll, conllu, jsonl, label-studio, doccano, prodigy or spacy.")
    ] = "auto",
    snap_spans: Annotated[
        bool, Opt("--snap-spans", help="Extend annotation-tool spans whose edges cut a word to whole words.")
    ] = False,
) -> None:
    """Score a prediction file against gold, with the same metrics as `evaluate`: no model needed."""
    from ..evaluation.files import score_files

    report = score_files(gold, pred, gold_column=common.column(gold_column), pred_column=common.column(pred_column),
                         scheme=scheme, fmt=data_format, snap_spans=snap_spans)
    report.render(common.out)
    if output is not None:
        report.write_json(output)

