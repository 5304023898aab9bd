"""`lookright select`: the unlabelled texts a model is least sure about, pre-annotated, for the next round."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..console import print_plain
from . import common
from .common import ModelDir, Opt, ScorePrecision, ScoreQuantize, app, check_output_file, report_partial

SELECT_FORMATS = ("jsonl", "label-studio", "doccano")


@app.command()
def select(
    model: ModelDir,
    input_file: Annotated[
        Path, Opt("--input", help="Unlabelled texts: .txt (one per line), .jsonl, CoNLL or an annotation tool's file.")
    ],
    output: Annotated[Path, Opt("--output", "-o", help="Where the selected, pre-annotated texts go.")],
    overwrite: Annotated[bool, Opt("--overwrite", help="Replace an existing --output file.")] = False,
    top: Annotated[int, Opt("--top", help="How many texts to select.")] = 200,
    strategy: Annotated[
        str,
        Opt("--strategy", help="margin (1 - mean gap between the two likeliest labels per word), min-margin (the "
            "smallest gap), entropy (mean normalised entropy) or least-confidence (1 - mean label probability; "
            "the one generative models support)."),
    ] = "margin",
    output_format: Annotated[
        str, Opt("--format", help="jsonl (lookright's, with uncertainty), label-studio (tasks with predictions) or doccano.")
    ] = "jsonl",
    input_format: Annotated[
        str, Opt("--input-format", help="auto (by extension), text, conll, conllu, jsonl, label-studio, doccano, "
                 "prodigy or spacy.")
    ] = "auto",
    ls_from_name: Annotated[str, Opt("--ls-from-name", help="Label Studio: name of the labels tag.")] = "label",
    ls_to_name: Annotated[str, Opt("--ls-to-name", help="Label Studio: name of the text tag.")] = "text",
    batch_size: Annotated[int | None, Opt("--batch-size", help="Most sequences per forward pass.")] = None,
    chunk_size: Annotated[int, Opt("--chunk-size", help="Texts read and scored at a time (bounds memory).")] = 512,
    split_sentences: Annotated[bool, Opt(help="Cut raw text into sentences before tagging.")] = True,
    decoding: Annotated[str, Opt("--decoding", help="argmax or viterbi, for the pre-annotations.")] = "argmax",
    precision: ScorePrecision = "auto",
    quantize: ScoreQuantize = "auto",
) -> None:
    """Rank unlabelled texts by the model's uncertainty; write the `--top` most uncertain with pre-annotations."""
    from ..inference import Tagger, streaming, writers
    from ..inference.selection import STRATEGIES, check_strategy
    from ..inference.selection import select as run_select
    from ..modeling.artifact import ModelCard

    if top < 1:
        raise typer.BadParameter("--top must be at least 1")
    if strategy not in STRATEGIES:
        raise typer.BadParameter(f"--strategy must be one of {', '.join(STRATEGIES)}")
    if output_format not in SELECT_FORMATS:
        raise typer.BadParameter(f"--format must be one of {', '.join(SELECT_FORMATS)}")
    if input_format.lower() not in (*streaming.INPUT_FORMATS, "txt"):
        raise typer.BadParameter(f"--input-format must be one of {', '.join(streaming.INPUT_FORMATS)}")
    if not input_file.is_file():
        raise typer.BadParameter(f"{input_file}: no such file")
    check_output_file(output, input_file, overwrite)
    reader = streaming.input_format(input_file, input_format)  # before the model loads: a bad line fails now
    streaming.check_inputs(input_file, reader)
    card = ModelCard.read(model)
    check_strategy(strategy, card.labelling_method(model).tagger_class)  # a generative model: refused now
    tagger = Tagger.load(model, decoding=decoding, precision=precision, quantize=quantize)

    lines: list[int | None] = []
    fields: list[dict | None] = []  # each input record's other fields, written back with it

    def texts():
        for item in streaming.iter_inputs(input_file, reader):
            lines.append(item.line)
            fields.append(item.fields)
            yield item.value

    selection = run_select(tagger, texts(), top, strategy, batch_size=batch_size, split_sentences=split_sentences,
                           chunk_size=chunk_size)
    output.parent.mkdir(parents=True, exist_ok=True)
    writer = writers.open_writer(output_format, output, version=writers.model_version(model, tagger.card),
                                 from_name=ls_from_name, to_name=ls_to_name)
    try:
        for record in selection.records:
            meta = {"uncertainty": record.uncertainty, "strategy": strategy, "index": record.index,
                    "line": lines[record.index]}
            writer.write(record.tagged, meta, fields=fields[record.index])
        writer.close()
    except BaseException:
        report_partial(writer, output)
        raise
    empty = f", {selection.empty} without words not ranked" if selection.empty else ""
    print_plain(common.err, f"selected {len(selection.records)} of {selection.seen} texts by {strategy}{empty}: "
                f"{output}")
    common.report_fields(writer, output_format)
