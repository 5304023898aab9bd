"""`lookright evaluate`: strict and lenient span scores of a trained model on labelled data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from ..console import print_plain
from . import common
from .common import ModelDir, Opt, ScorePrecision, ScoreQuantize, app


@app.command()
def evaluate(
    model: ModelDir,
    data: Annotated[str, Opt("--data", help="Labelled file to score.")],
    label_column: Annotated[str | None, Opt("--label-column", help="Default: the column the model was trained on.")] = None,
    data_format: Annotated[
        str, Opt("--format", help="auto, conll, conllu, jsonl, label-studio, doccano, prodigy or spacy.")
    ] = "auto",
    snap_spans: Annotated[
        bool, Opt("--snap-spans", help="Extend annotation-tool spans whose edges cut a word to whole words.")
    ] = False,
    scheme: Annotated[str | None, Opt("--scheme", help="Scheme of the file's tags; default: detect.")] = None,
    decoding: Annotated[str, Opt("--decoding", help="argmax (as in the paper) or viterbi (valid sequences only).")] = "argmax",
    output: Annotated[Path | None, Opt("--output", "-o", help="Write the full report as JSON here.")] = None,
    precision: ScorePrecision = "auto",
    quantize: ScoreQuantize = "auto",
    compare_precision: Annotated[
        bool, Opt("--compare-precision", help="Also score in fp32 and report the F1 drop and per-word label agreement.")
    ] = False,
) -> None:
    """Span P/R/F1 (strict and conlleval-lenient), per type, token accuracy, confusions, error examples."""
    from ..inference.gold import read_gold
    from ..outputs import require_writable_file

    if output is not None:
        require_writable_file(output)  # before the model load and the scoring, not after
    column = common.column(label_column) if label_column is not None else None
    gold = read_gold(data, model, fmt=data_format, label_column=column, scheme=scheme,  # before the model loads
                     snap_spans=snap_spans)
    parity = None
    if compare_precision:
        from ..inference.parity import compare_precision as compare

        parity, report = compare(model, gold, precision=precision, quantize=quantize, decoding=decoding)
    else:
        from ..inference import Tagger

        tagger = Tagger.load(model, decoding=decoding, precision=precision, quantize=quantize)
        report = tagger.evaluate(gold)
    report.render(common.out)
    if parity is not None:
        parity.render(common.out)
    if output is not None:
        report.write_json(output, **({"parity": parity.to_dict()} if parity is not None else {}))
        print_plain(common.err, f"report written to {output}")

