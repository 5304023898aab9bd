"""`lookright predict`: raw text or a file in, words, labels and character-offset spans out (lookright
JSONL, CoNLL, or pre-annotations for Label Studio, doccano and spaCy)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..console import print_plain
from . import common
from .common import ModelDir, Opt, ScorePrecision, ScoreQuantize, app, check_output_file, report_partial


@app.command()
def predict(
    model: ModelDir,
    texts: Annotated[list[str] | None, typer.Argument(help="Texts to tag; or use --input.")] = None,
    input_file: Annotated[
        Path | None,
        Opt("--input", help="File to tag, streamed: .txt (one text per line), .jsonl, CoNLL, CoNLL-U or an annotation "
            "tool's file (Label Studio .json, doccano/Prodigy .jsonl, .spacy: their texts)."),
    ] = None,
    output: Annotated[
        Path | None,
        Opt("--output", help="Write results here instead of stdout (named so only once every text is tagged)."),
    ] = None,
    overwrite: Annotated[bool, Opt("--overwrite", help="Replace an existing --output file.")] = False,
    input_format: Annotated[
        str,
        Opt("--input-format", help="auto (by extension: .txt is one text per line, refused if it looks like CoNLL columns), "
            "text, conll, conllu, jsonl, label-studio, doccano, prodigy or spacy."),
    ] = "auto",
    output_format: Annotated[
        str,
        Opt("--format", help="Output: jsonl (words, labels, spans), conll (word<TAB>label), label-studio (tasks with "
            "predictions), doccano (JSONL) or spacy (a DocBin; needs --output)."),
    ] = "jsonl",
    ls_from_name: Annotated[str, Opt("--ls-from-name", help="Label Studio: name of the labels tag.")] = "label",
    ls_to_name: Annotated[str, Opt("--ls-to-name", help="Label Studio: name of the text tag.")] = "text",
    batch_size: Annotated[int | None, Opt("--batch-size", help="Most sequences per forward pass.")] = None,
    chunk_size: Annotated[int, Opt("--chunk-size", help="Texts read and tagged at a time (bounds memory).")] = 512,
    split_sentences: Annotated[bool, Opt(help="Cut raw text into sentences before tagging.")] = True,
    decoding: Annotated[str, Opt("--decoding", help="argmax or viterbi (best sequence the scheme allows).")] = "argmax",
    precision: ScorePrecision = "auto",
    quantize: ScoreQuantize = "auto",
) -> None:
    """Tag raw text or a file: one result per text with words, labels and character-offset spans."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from ..inference import Tagger, streaming, writers
    from ..inference.streaming import Item, check_inputs, count_lines, iter_inputs, tag_stream
    if not texts and input_file is None:
        raise typer.BadParameter("give texts as arguments or --input FILE")
    if output_format not in writers.OUTPUT_FORMATS:
        raise typer.BadParameter(f"--format must be one of {', '.join(writers.OUTPUT_FORMATS)}")
    if output_format in writers.BINARY_FORMATS and output is None:
        raise typer.BadParameter(f"--format {output_format} writes a binary file: give --output FILE")
    if input_format.lower() not in (*streaming.INPUT_FORMATS, "txt"):
        raise typer.BadParameter(f"--input-format must be one of {', '.join(streaming.INPUT_FORMATS)}")
    if input_file is not None and not input_file.is_file():
        raise typer.BadParameter(f"{input_file}: no such file")
    if output is not None:
        check_output_file(output, input_file, overwrite)
    reader = None
    if input_file is not None:  # before the model loads: a CoNLL file named .txt, or a bad line, fails now
        reader = streaming.input_format(input_file, input_format)
        check_inputs(input_file, reader)
    tagger = Tagger.load(model, decoding=decoding, precision=precision, quantize=quantize)

    def items():
        yield from (Item(text) for text in texts or [])
        if input_file is not None:
            yield from iter_inputs(input_file, reader)

    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
    writer = writers.open_writer(output_format, output, version=writers.model_version(model, tagger.card),
                                 from_name=ls_from_name, to_name=ls_to_name)
    total = count_lines(input_file) if input_file is not None else None
    columns = [TextColumn("tagging"), BarColumn(), MofNCompleteColumn(), TextColumn("lines"), TimeRemainingColumn()]
    try:
        with Progress(*columns, console=common.err, transient=True, disable=input_file is None) as progress:
            task = progress.add_task("tag", total=total)
            stream = tag_stream(
                tagger, items(), chunk_size=chunk_size, batch_size=batch_size, split_sentences=split_sentences
            )
            for item, tagged in stream:
                writer.write(tagged, fields=item.fields)
                if item.line is not None:
                    progress.update(task, completed=item.line)
        writer.close()  # a full disk often shows only here, flushing the last results
    except BaseException:
        report_partial(writer, output)
        raise
    if writer.skipped:
        print_plain(common.err, f"{writer.skipped} text(s) without words (blank lines) got no {output_format} record")
    common.report_fields(writer, output_format)

