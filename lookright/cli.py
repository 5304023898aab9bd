"""`lookright` command line: thin commands over the public Python API.

Every command is a few lines over a function users can call themselves (`lookright.train`,
`Tagger.load(...).evaluate`, `Tagger.predict`), so the CLI and the library never drift apart.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from .console import print_command, print_plain
from .errors import LookrightError
from .serving import defaults

app = typer.Typer(
    name="lookright",
    help="Decoder-only LLMs as sequence labelers, with layer-wise causal-mask removal.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
err = Console(stderr=True)
out = Console()

Opt = typer.Option

# options shared by `train` and `sweep`
TrainFile = Annotated[str | None, Opt("--train", help="Training file (CoNLL, CoNLL-U or JSONL, or hf:dataset:split).")]
ValidationFile = Annotated[str | None, Opt("--validation", help="Validation file: model selection happens here only.")]
TestFile = Annotated[str | None, Opt("--test", help="Scored once with the final model (never used for selection).")]
ModelSpec = Annotated[str | None, Opt("--model", help="HF model dir, .gguf file or hub id; default: bundled SmolLM2-135M.")]
ConfigFile = Annotated[Path | None, Opt("--config", help="JSON/TOML file with any training setting; flags override it.")]
LabelColumn = Annotated[str | None, Opt("--label-column", help="CoNLL column index (CoNLL-2003: 3 NER, 2 chunk, 1 POS), upos/xpos, or a hf: field.")]
DataFormat = Annotated[str | None, Opt("--format", help="auto, conll, conllu or jsonl.")]
Method = Annotated[
    str | None,
    Opt("--method", help="unmask (default), causal, repeat, generative or encoder: how labels are produced."),
]
Finetune = Annotated[str | None, Opt("--finetune", help="lora, full or auto (full for encoders, LoRA for decoders).")]
Epochs = Annotated[float | None, Opt("--epochs")]
MaxSteps = Annotated[int | None, Opt("--max-steps")]
BatchSize = Annotated[int | None, Opt("--batch-size")]
LearningRate = Annotated[float | None, Opt("--lr")]
Seed = Annotated[int | None, Opt("--seed")]
MaxTrainSentences = Annotated[int | None, Opt("--max-train-sentences", help="Use only the first N training sentences.")]
MaxValidationSentences = Annotated[int | None, Opt("--max-validation-sentences")]
ValidationHoldout = Annotated[
    int | None, Opt("--validation-holdout", help="No validation file: hold out the last N training sentences.")
]
LabelsFrom = Annotated[
    str | None, Opt("--labels-from", help="Take the label set from this labelled file (e.g. when training on a slice).")
]
Settings = Annotated[
    list[str] | None,
    Opt("--set", help="Any training setting as KEY=VALUE (repeatable), e.g. --set lora_r=16 --set max_length=256; "
        "flags win over --set, --set over --config."),
]


ScorePrecision = Annotated[
    str,
    Opt("--precision", help="auto: bf16 on a GPU or on a CPU with native bf16 (AVX512-BF16/AMX), and for a model "
        "trained in bf16; fp32 elsewhere. Or fp32, bf16."),
]
ScoreQuantize = Annotated[
    str,
    Opt("--quantize", help="int8: dynamic int8 linear layers on the CPU (smoothed; check with evaluate "
        "--compare-precision); none; auto: int8 if the model was exported in int8."),
]

_TRAIN_ONLY = ("config", "settings", "resume", "overwrite", "launcher", "num_processes", "accelerate_config")


@app.command()
def train(
    train: TrainFile = None,
    validation: ValidationFile = None,
    test: TestFile = None,
    output: Annotated[str | None, Opt("--output", "-o", help="Directory for the trained model.")] = None,
    model: ModelSpec = None,
    config: ConfigFile = None,
    settings: Settings = None,
    label_column: LabelColumn = None,
    data_format: DataFormat = None,
    scheme: Annotated[str | None, Opt("--scheme", help="Scheme of the input tags (IOB1, IOB2, BIOES, IO, NONE); default: detect.")] = None,
    train_scheme: Annotated[str | None, Opt("--train-scheme", help="Scheme the model learns: IOB2 or BIOES.")] = None,
    unmask: Annotated[str | None, Opt("--unmask", help="Bidirectional groups, e.g. 0011 (first char = input side), or layers:20,21.")] = None,
    method: Method = None,
    finetune: Finetune = None,
    repeat: Annotated[int | None, Opt("--repeat", help="Method repeat: extra copies r of the sentence (the model reads r+1).")] = None,
    exit_layer: Annotated[int | None, Opt("--exit-layer", help="Keep only the first N blocks; the head reads block N (early exit).")] = None,
    demos: Annotated[int | None, Opt("--demos", help="Method generative: demonstrations per prompt (0, 1, 3...).")] = None,
    demo_selection: Annotated[str | None, Opt("--demo-selection", help="Method generative: similar (word overlap) or random.")] = None,
    instruction: Annotated[bool | None, Opt("--instruction/--no-instruction", help="Method generative: prepend an instruction naming the types.")] = None,
    lora_r: Annotated[int | None, Opt("--lora-r")] = None,
    lora_alpha: Annotated[int | None, Opt("--lora-alpha")] = None,
    lora_dropout: Annotated[float | None, Opt("--lora-dropout")] = None,
    lora_targets: Annotated[str | None, Opt("--lora-targets", help="all, attention, qv or module names.")] = None,
    epochs: Epochs = None,
    max_steps: MaxSteps = None,
    batch_size: BatchSize = None,
    grad_accum: Annotated[int | None, Opt("--grad-accum")] = None,
    learning_rate: LearningRate = None,
    weight_decay: Annotated[float | None, Opt("--weight-decay")] = None,
    warmup_ratio: Annotated[float | None, Opt("--warmup-ratio")] = None,
    max_length: Annotated[int | None, Opt("--max-length", help="Subwords per window (longer sentences are windowed, never cut).")] = None,
    stride: Annotated[int | None, Opt("--stride", help="Subwords of overlap between windows.")] = None,
    seed: Seed = None,
    max_train_sentences: MaxTrainSentences = None,
    max_validation_sentences: MaxValidationSentences = None,
    validation_holdout: ValidationHoldout = None,
    labels_from: LabelsFrom = None,
    eval_every: Annotated[int | None, Opt("--eval-every", help="Validate every N optimizer steps (default: each epoch).")] = None,
    patience: Annotated[int | None, Opt("--patience", help="Early stopping after N validations without improvement.")] = None,
    precision: Annotated[str | None, Opt("--precision", help="auto: bf16 for LoRA on a GPU or on a CPU with native bf16 "
        "(AVX512-BF16/AMX: frozen base in bf16, adapters and head in fp32), else fp32; or fp32, bf16, fp16.")] = None,
    quantize: Annotated[str | None, Opt("--quantize", help="none, 4bit or auto (4-bit QLoRA on a CUDA GPU).")] = None,
    attn_implementation: Annotated[str | None, Opt("--attn", help="auto (SDPA where supported), sdpa, eager, flash_attention_2 ...")] = None,
    gradient_checkpointing: Annotated[bool | None, Opt("--gradient-checkpointing/--no-gradient-checkpointing")] = None,
    resume: Annotated[bool, Opt("--resume", help="Continue from the last checkpoint in OUTPUT/checkpoints (same settings only).")] = False,
    overwrite: Annotated[bool, Opt("--overwrite", help="Replace the run in OUTPUT (its model and checkpoints are deleted).")] = False,
    launcher: Annotated[str | None, Opt("--launcher", help="accelerate: relaunch this command with `accelerate launch`.")] = None,
    num_processes: Annotated[int | None, Opt("--num-processes", help="With --launcher: processes (GPUs) to train on.")] = None,
    accelerate_config: Annotated[str | None, Opt("--accelerate-config", help="With --launcher: an accelerate config (configs/accelerate/*.yaml).")] = None,
) -> None:
    """Fine-tune a sequence labeler (unmasked decoder by default), selecting the best checkpoint on validation."""
    overrides = {k: v for k, v in locals().items() if k not in _TRAIN_ONLY and v is not None}
    from .training import summarize
    from .training import train as run_train
    from .training.distributed import is_main_process

    cfg = _train_config(config, overrides, settings)  # validate here, before any process is started
    if launcher is not None:
        if launcher != "accelerate":
            raise typer.BadParameter("--launcher takes 'accelerate'")
        raise typer.Exit(_relaunch(num_processes, accelerate_config))
    cfg.resume = resume or cfg.resume
    cfg.overwrite = overwrite or cfg.overwrite
    result = run_train(cfg, console=err)
    if not is_main_process():
        return
    for name, report in (("validation", result.validation), ("test", result.test)):
        if report is not None:
            out.rule(name)
            report.render(out)
    out.print_json(json.dumps(summarize(result)))


_SWEEP_ONLY = (
    "output", "groups", "configs", "strategy", "eta", "min_fraction", "rung_metric", "keep", "probe_sentences", "retrain_best",
    "keep_models", "config", "parallel", "submit", "settings",
)


@app.command()
def sweep(
    train: TrainFile = None,
    validation: ValidationFile = None,
    test: TestFile = None,
    output: Annotated[str, Opt("--output", "-o", help="Sweep directory (results.jsonl, summary.md, chart).")] = "runs/sweep",
    groups: Annotated[int, Opt("--groups", help="Number of contiguous block groups m (configs have m characters).")] = 4,
    configs: Annotated[str | None, Opt("--configs", help="Comma-separated configs; default: all 2^m.")] = None,
    strategy: Annotated[str, Opt("--strategy", help="exhaustive, successive-halving, or probe (rank every config with a linear probe on the frozen model, train only the best 1/eta).")] = "exhaustive",
    eta: Annotated[int, Opt("--eta", help="Successive halving: keep the best 1/eta at each rung; probe: train the best 1/eta.")] = 4,
    min_fraction: Annotated[float, Opt("--min-fraction", help="Successive halving: budget share of the first rung.")] = 0.125,
    rung_metric: Annotated[str, Opt("--rung-metric", help="Successive halving: rank each rung by validation loss (smooth early on) or score; the winner is always picked by score.")] = "loss",
    keep: Annotated[int | None, Opt("--keep", help="Probe: how many configurations to train in full (default: 2^m / eta).")] = None,
    probe_sentences: Annotated[int, Opt("--probe-sentences", help="Probe: training and validation sentences it reads (each).")] = 500,
    retrain_best: Annotated[bool, Opt("--retrain-best", help="Retrain the winner with validation-based selection into OUTPUT/best.")] = False,
    keep_models: Annotated[bool, Opt("--keep-models", help="Keep every configuration's model (default: only the best).")] = False,
    parallel: Annotated[int, Opt("--parallel", help="Train N configurations at once, each in its own process (one per GPU).")] = 1,
    submit: Annotated[str | None, Opt("--submit", help="Hand each run to a scheduler: a shell template with {command}, e.g. \"sbatch --gpus=1 --wrap '{command}'\".")] = None,
    model: ModelSpec = None,
    config: ConfigFile = None,
    settings: Settings = None,
    label_column: LabelColumn = None,
    data_format: DataFormat = None,
    finetune: Finetune = None,
    epochs: Epochs = None,
    max_steps: MaxSteps = None,
    batch_size: BatchSize = None,
    learning_rate: LearningRate = None,
    seed: Seed = None,
    max_train_sentences: MaxTrainSentences = None,
    max_validation_sentences: MaxValidationSentences = None,
    validation_holdout: ValidationHoldout = None,
    labels_from: LabelsFrom = None,
) -> None:
    """Train one model per unmasking configuration (same seed, data order, budget) and rank them on validation."""
    overrides = {k: v for k, v in locals().items() if k not in _SWEEP_ONLY and v is not None}
    from .sweep import SweepConfig, parse_config_list, run_sweep

    cfg = SweepConfig(
        base=_train_config(config, overrides, settings),
        output=output,
        groups=groups,
        configs=parse_config_list(configs),
        strategy=strategy,
        eta=eta,
        min_fraction=min_fraction,
        rung_metric=rung_metric,
        keep=keep,
        probe_sentences=probe_sentences,
        retrain_best=retrain_best,
        keep_models=keep_models,
        parallel=parallel,
        submit=submit,
    )
    run_sweep(cfg, console=err)


_COMPARE_ONLY = (
    "output", "methods", "encoder_model", "groups", "best_among", "parallel", "submit", "config", "settings",
)


@app.command()
def compare(
    train: TrainFile = None,
    validation: ValidationFile = None,
    test: TestFile = None,
    methods: Annotated[str, Opt("--methods", help="Comma-separated: causal, unmask[:CONFIG|BEST], repeat[:R], generative[:K], encoder[:MODEL].")] = "causal,unmask:BEST,repeat,generative,encoder",
    output: Annotated[str, Opt("--output", "-o", help="Directory for the runs, results.jsonl and comparison.{md,json,png}.")] = "runs/compare",
    model: ModelSpec = None,
    encoder_model: Annotated[str | None, Opt("--encoder-model", help="Encoder for `encoder` (HF dir); default: packaged all-MiniLM-L6-v2.")] = None,
    groups: Annotated[int, Opt("--groups", help="unmask:BEST: number of block groups m.")] = 4,
    best_among: Annotated[str | None, Opt("--best-among", help="unmask:BEST: candidate configs (default all 2^m), searched by successive halving.")] = None,
    parallel: Annotated[int, Opt("--parallel", help="Train N methods at once (one per GPU).")] = 1,
    submit: Annotated[str | None, Opt("--submit", help="Hand each method's run to a scheduler: a template with {command}.")] = None,
    config: ConfigFile = None,
    settings: Settings = None,
    label_column: LabelColumn = None,
    data_format: DataFormat = None,
    epochs: Epochs = None,
    max_steps: MaxSteps = None,
    batch_size: BatchSize = None,
    seed: Seed = None,
    max_train_sentences: MaxTrainSentences = None,
    max_validation_sentences: MaxValidationSentences = None,
    validation_holdout: ValidationHoldout = None,
    labels_from: LabelsFrom = None,
) -> None:
    """Compare labelling methods (unmasked/causal decoder, repetition, generative, encoder) under one budget."""
    overrides = {k: v for k, v in locals().items() if k not in _COMPARE_ONLY and v is not None}
    from .compare import CompareConfig, parse_methods, run_compare
    from .sweep import parse_config_list

    cfg = CompareConfig(
        base=_train_config(config, overrides, settings),
        methods=parse_methods(methods, encoder_model),
        output=output,
        groups=groups,
        best_among=parse_config_list(best_among),
        parallel=parallel,
        submit=submit,
    )
    run_compare(cfg, console=err)


@app.command()
def evaluate(
    model: Annotated[str, Opt("--model", help="Trained lookright model directory.")],
    data: Annotated[str, Opt("--data", help="Labelled file to score.")],
    label_column: Annotated[str | None, Opt("--label-column", help="Default: the column the model was trained on.")] = None,
    data_format: Annotated[str, Opt("--format")] = "auto",
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
    from .inference.gold import read_gold
    from .outputs import require_writable_file

    if output is not None:
        require_writable_file(output)  # before the model load and the scoring, not after
    column = _column(label_column) if label_column is not None else None
    gold = read_gold(data, model, fmt=data_format, label_column=column, scheme=scheme)  # before the model loads
    parity = None
    if compare_precision:
        from .inference.parity import compare_precision as compare

        parity, report = compare(model, gold, precision=precision, quantize=quantize, decoding=decoding)
    else:
        from .inference import Tagger

        tagger = Tagger.load(model, decoding=decoding, precision=precision, quantize=quantize)
        report = tagger.evaluate(gold)
    report.render(out)
    if parity is not None:
        parity.render(out)
    if output is not None:
        report.write_json(output)
        if parity is not None:
            written = json.loads(output.read_text())
            output.write_text(json.dumps({**written, "parity": parity.to_dict()}, indent=2) + "\n")
        print_plain(err, f"report written to {output}")


@app.command()
def score(
    gold: Annotated[str, Opt("--gold", help="Labelled reference file.")],
    pred: Annotated[str, Opt("--pred", help="Predictions for the same sentences (any system).")],
    gold_column: Annotated[str, Opt("--gold-column")] = "-1",
    pred_column: Annotated[str, Opt("--pred-column")] = "-1",
    scheme: Annotated[str | None, Opt("--scheme", help="Scheme both files are written in (kept as given); default: detect each, score in the gold file's.")] = None,
    output: Annotated[Path | None, Opt("--output", "-o")] = None,
) -> None:
    """Score a prediction file against gold, with the same metrics as `evaluate`: no model needed."""
    from .evaluation.files import score_files

    report = score_files(gold, pred, gold_column=_column(gold_column), pred_column=_column(pred_column), scheme=scheme)
    report.render(out)
    if output is not None:
        report.write_json(output)


@app.command()
def predict(
    model: Annotated[str, Opt("--model", help="Trained lookright model directory.")],
    texts: Annotated[list[str] | None, typer.Argument(help="Texts to tag; or use --input.")] = None,
    input_file: Annotated[
        Path | None, Opt("--input", help="File to tag, streamed: .txt (one text per line), .jsonl, CoNLL or CoNLL-U.")
    ] = None,
    output: Annotated[Path | None, Opt("--output", help="Write results here instead of stdout.")] = None,
    input_format: Annotated[
        str,
        Opt("--input-format", help="auto (by extension: .txt is one text per line, refused if it looks like CoNLL columns), "
            "text, conll, conllu or jsonl."),
    ] = "auto",
    output_format: Annotated[str, Opt("--format", help="Output: jsonl (words, labels, spans) or conll (word<TAB>label).")] = "jsonl",
    batch_size: Annotated[int | None, Opt("--batch-size", help="Most sequences per forward pass.")] = None,
    chunk_size: Annotated[int, Opt("--chunk-size", help="Texts read and tagged at a time (bounds memory).")] = 512,
    split_sentences: Annotated[bool, Opt(help="Cut raw text into sentences before tagging.")] = True,
    decoding: Annotated[str, Opt("--decoding", help="argmax or viterbi (best sequence the scheme allows).")] = "argmax",
    precision: ScorePrecision = "auto",
    quantize: ScoreQuantize = "auto",
) -> None:
    """Tag raw text or a file: one result per text with words, labels and character-offset spans."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from .inference import Tagger, streaming
    from .inference.streaming import Item, check_inputs, count_lines, iter_inputs, tag_stream, write_result
    from .outputs import require_writable_file

    if not texts and input_file is None:
        raise typer.BadParameter("give texts as arguments or --input FILE")
    if output_format not in streaming.OUTPUT_FORMATS:
        raise typer.BadParameter(f"--format must be one of {', '.join(streaming.OUTPUT_FORMATS)}")
    if input_format.lower() not in (*streaming.INPUT_FORMATS, "txt"):
        raise typer.BadParameter(f"--input-format must be one of {', '.join(streaming.INPUT_FORMATS)}")
    if input_file is not None and not input_file.is_file():
        raise typer.BadParameter(f"{input_file}: no such file")
    if output is not None:
        require_writable_file(output)
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
    handle = output.open("w", encoding="utf-8") if output is not None else sys.stdout
    total = count_lines(input_file) if input_file is not None else None
    columns = [TextColumn("tagging"), BarColumn(), MofNCompleteColumn(), TextColumn("lines"), TimeRemainingColumn()]
    try:
        with Progress(*columns, console=err, transient=True, disable=input_file is None) as progress:
            task = progress.add_task("tag", total=total)
            stream = tag_stream(
                tagger, items(), chunk_size=chunk_size, batch_size=batch_size, split_sentences=split_sentences
            )
            for item, tagged in stream:
                write_result(handle, tagged, output_format)
                if item.line is not None:
                    progress.update(task, completed=item.line)
    finally:
        if output is not None:
            handle.close()


@app.command()
def export(
    model: Annotated[str, Opt("--model", help="Trained lookright model directory.")],
    output: Annotated[Path, Opt("--output", help="New directory for the exported model.")],
    merge: Annotated[bool, Opt("--merge/--no-merge", help="Fold LoRA into the base weights (the only mode).")] = True,
    quantize: Annotated[
        str, Opt("--quantize", help="none, or int8: the model scores in int8 once reloaded, if it labels like fp32 on --data.")
    ] = "none",
    data: Annotated[
        str | None, Opt("--data", help="int8: labelled file of the parity check (default: the model's validation file).")
    ] = None,
    max_f1_drop: Annotated[float, Opt("--max-f1-drop", help="int8: most strict F1 points it may lose against fp32.")] = 0.3,
    allow_f1_drop: Annotated[bool, Opt("--allow-f1-drop", help="int8: export even when it loses more than --max-f1-drop.")] = False,
) -> None:
    """Write a plain transformers token-classification directory (LoRA merged, unmasking in its config)."""
    if not merge:
        raise typer.BadParameter("only --merge export exists; the trained directory already is the unmerged form")
    if quantize not in ("none", "int8"):
        raise typer.BadParameter("--quantize takes none or int8")
    if quantize == "int8":
        from .inference.int8_export import export_int8

        path, parity = export_int8(model, output, data=data, max_f1_drop=max_f1_drop, allow_f1_drop=allow_f1_drop)
        parity.render(out)
    else:
        from .modeling.export import export_merged

        path = export_merged(model, output)
    print_plain(out, f"exported to {path} (reload: Tagger.load, or from_pretrained + lookright.apply_saved_unmasking)")


@app.command()
def serve(
    model: Annotated[str, Opt("--model", help="Trained lookright model directory.")],
    host: Annotated[str, Opt("--host")] = "127.0.0.1",
    port: Annotated[int, Opt("--port")] = 8080,
    max_texts: Annotated[int, Opt("--max-texts", help="Most texts per request.")] = defaults.MAX_TEXTS,
    max_chars: Annotated[int, Opt("--max-chars", help="Longest text accepted, in characters.")] = defaults.MAX_CHARS,
    max_words: Annotated[int, Opt("--max-words", help="Most words in one request, all its texts together.")] = defaults.MAX_WORDS,
    max_wait_ms: Annotated[float, Opt("--max-wait-ms", help="How long a request waits to share a batch.")] = defaults.MAX_WAIT_MS,
    piece_words: Annotated[int, Opt("--piece-words", help="Tag longer texts in pieces of whole sentences of at most N words, taking turns with other requests (0: never cut).")] = defaults.PIECE_WORDS,
    max_batch_words: Annotated[int, Opt("--max-batch-words", help="Most words in one model call: about what a short request waits behind a long one.")] = defaults.MAX_BATCH_WORDS,
    precision: ScorePrecision = "auto",
    quantize: ScoreQuantize = "auto",
) -> None:
    """HTTP service: POST /v1/tag {"texts": [...]}, GET /health, OpenAPI docs at /docs."""
    from .serving import serve as run_server

    run_server(
        model, host=host, port=port, precision=precision, quantize=quantize, max_texts=max_texts,
        max_chars=max_chars, max_words=max_words, max_wait_ms=max_wait_ms, piece_words=piece_words,
        max_batch_words=max_batch_words,
    )


@app.command("check-unmask")
def check_unmask(
    model: Annotated[str | None, Opt("--model", help="HF model dir or .gguf; default: bundled SmolLM2-135M.")] = None,
    unmask: Annotated[str, Opt("--unmask", help="Group string or layers:i,j.")] = "0011",
    attn_implementation: Annotated[str, Opt("--attn", help="auto, sdpa, eager, flash_attention_2 ...")] = "auto",
) -> None:
    """Apply an unmasking config and print, per block, whether it sees right context (measured)."""
    from .modeling.loading import load_base
    from .unmasking import check_attention
    from .unmasking import unmask as apply

    loaded, _ = load_base(model, ["O"], attn_implementation=attn_implementation)
    apply(loaded, unmask, verify=False)
    measured = check_attention(loaded)
    for i in range(measured.num_layers):
        seen = "bidirectional" if i in measured.sees_right else "causal"
        want = "bidirectional" if i in measured.expected else "causal"
        mark = "[green]ok[/]" if seen == want else "[red]MISMATCH[/]"
        out.print(f"block {i:3d}: {seen:13s} {mark}")
    out.print(f"padding leaks: {list(measured.padding_leaks) or 'none'}")
    if not measured.ok:
        raise typer.Exit(1)


def _relaunch(num_processes: int | None, config_file: str | None) -> int:
    """Run the same `lookright train` command under `accelerate launch`, minus the launcher flags."""
    import subprocess

    from .training.distributed import accelerate_command

    argv, skip = [], False
    for arg in sys.argv[1:]:
        if skip:
            skip = False
            continue
        name = arg.split("=", 1)[0]
        if name in ("--launcher", "--num-processes", "--accelerate-config"):
            skip = "=" not in arg
            continue
        argv.append(arg)
    command = accelerate_command(argv, num_processes=num_processes, config_file=config_file)
    print_command(err, command)
    return subprocess.call(command)


def _train_config(config_file: Path | None, overrides: dict, settings: list[str] | None = None):
    """Settings from an optional JSON/TOML file, then `--set KEY=VALUE`, then the flags that were given."""
    from .training import TrainConfig

    overrides = {**TrainConfig.parse_settings(settings or []), **overrides}
    if "label_column" in overrides:
        overrides["label_column"] = _column(overrides["label_column"])
    if config_file is not None:
        return TrainConfig.from_file(config_file, **overrides)
    return TrainConfig(**overrides)


def _column(value: str | int | None) -> int | str | None:
    if value is None or isinstance(value, int):
        return value
    return int(value) if value.lstrip("-").isdigit() else value


def main() -> None:
    try:
        app()
    except LookrightError as error:
        print_plain(err, str(error), label="error: ", label_style="bold red")
        raise SystemExit(2) from None
    except ValueError as error:  # configuration problems: short message, no traceback
        if os.environ.get("LOOKRIGHT_DEBUG"):
            raise
        print_plain(err, f"{error}  (set LOOKRIGHT_DEBUG=1 for a traceback)", label="error: ", label_style="bold red")
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
