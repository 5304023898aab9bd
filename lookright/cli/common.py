"""What every command shares: the Typer app, the two consoles, shared options, config assembly, `main`.

Commands print through `common.err` / `common.out` (looked up when they run), so a caller can
point them at another console.
"""

from __future__ import annotations

import os
import signal
import warnings
from collections import Counter
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from ..console import print_plain
from ..errors import EXIT_CODES, DataWarning, LookrightError

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

# options of train, sweep and compare that are not training settings
ConfigFile = Annotated[Path | None, Opt("--config", help="JSON/TOML file with any training setting; flags override it.")]
Settings = Annotated[
    list[str] | None,
    Opt("--set", help="Any training setting as KEY=VALUE (repeatable), e.g. --set lora_r=16 --set max_length=256; "
        "flags win over --set, --set over --config."),
]
Seeds = Annotated[
    str | None,
    Opt("--seeds", help="Comma-separated seeds, e.g. 42,43,44: train each once per seed; reports show the mean "
        "± sample sd and every seed's score, and selection uses the mean on validation. Replaces --seed."),
]
# options of the commands that score a trained model
ModelDir = Annotated[str, Opt("--model", help="Trained lookright model directory.")]
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


def train_config(config_file: Path | None, flags: dict[str, Any], settings: list[str] | None = None):
    """Settings from an optional JSON/TOML file, then `--set KEY=VALUE`, then the flags that were given."""
    from ..training.config import TrainConfig

    overrides = {**TrainConfig.parse_settings(settings or []), **flags}
    if "label_column" in overrides:
        overrides["label_column"] = column(overrides["label_column"])
    if config_file is not None:
        return TrainConfig.from_file(config_file, **overrides)
    return TrainConfig(**overrides)


def seeds_of(seeds: str | None, flags: dict[str, Any]) -> list[int] | None:
    """`--seeds` parsed; with `--seed` as well it is ambiguous which one the user meant."""
    from ..evaluation.seeds import parse_seeds

    if seeds is not None and "seed" in flags:
        raise typer.BadParameter("give --seed or --seeds, not both")
    return parse_seeds(seeds)


def column(value: str | int | None) -> int | str | None:
    """A label column as typed: an index (`3`, `-1`) or a name (`upos`, a hf: field)."""
    if value is None or isinstance(value, int):
        return value
    return int(value) if value.lstrip("-").isdigit() else value


def show_data_warnings() -> None:
    """Print lookright's `DataWarning`s (snapped spans, skipped records) as one `warning:` line on stderr."""
    shown = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, DataWarning):
            print_plain(err, str(message), label="warning: ", label_style="bold yellow")
        else:
            shown(message, category, filename, lineno, file, line)

    warnings.showwarning = show
    warnings.simplefilter("always", DataWarning)


class Terminated(BaseException):
    """SIGTERM: unwinds like Ctrl-C, so an output being written is closed and said where it is."""


def _terminate(number: int, frame: Any) -> None:
    raise Terminated


def main() -> None:
    """The `lookright` console script: lookright's errors are one `error:` line and exit status 2.

    SIGTERM (`kill`, a scheduler's time limit) would otherwise end the process on the spot, with the
    last results of `predict` still in a buffer; training sets its own handlers (`training.interrupt`).
    """
    show_data_warnings()
    signal.signal(signal.SIGTERM, _terminate)
    try:
        app()
    except LookrightError as error:
        print_plain(err, str(error), label="error: ", label_style="bold red")
        raise SystemExit(getattr(error, "exit_code", 2)) from None
    except KeyboardInterrupt:  # what was kept, if anything, was said where it was kept
        print_plain(err, "interrupted (Ctrl-C)", label="error: ", label_style="bold red")
        raise SystemExit(EXIT_CODES["SIGINT"]) from None
    except Terminated:
        print_plain(err, "terminated (SIGTERM)", label="error: ", label_style="bold red")
        raise SystemExit(EXIT_CODES["SIGTERM"]) from None
    except ValueError as error:  # configuration problems: short message, no traceback
        if os.environ.get("LOOKRIGHT_DEBUG"):
            raise
        print_plain(err, f"{error}  (set LOOKRIGHT_DEBUG=1 for a traceback)", label="error: ", label_style="bold red")
        raise SystemExit(2) from None


def check_output_file(output: Path, input_file: Path | None, overwrite: bool) -> None:
    """Before the model loads: `--output` can be written, is not the file being read, and replaces an
    existing file only when asked (results of an earlier run are work too)."""
    from ..outputs import require_writable_file

    if input_file is not None and output.exists() and input_file.exists() and os.path.samefile(output, input_file):
        raise LookrightError(f"{output}: --output is the --input file; writing there would replace the texts being "
                             "tagged, give another file")
    if output.exists() and not overwrite:
        raise LookrightError(f"{output}: --output exists; add --overwrite to replace it (it is replaced only once "
                             "every text is tagged)")
    require_writable_file(output)


def report_fields(writer: Any, output_format: str) -> None:
    """Say which fields of the input records the output could not keep (`writer.replaced` by a field
    of its own of that name, `writer.unwritten` for lack of a place): none is dropped unsaid."""
    def listed(counts: Counter[str]) -> str:
        names = [f"{name!r} ({n:,} record(s))" for name, n in sorted(counts.items())]
        return ", ".join(names[:5]) + (f" and {len(names) - 5:,} more" if len(names) > 5 else "")

    if writer.replaced:
        print_plain(err, f"input field(s) {listed(writer.replaced)} have the name of a field {output_format} output "
                    "writes itself: the output holds the new values there")
    if writer.unwritten:
        print_plain(err, f"{output_format} output has no place for the input records' other fields "
                    f"{listed(writer.unwritten)}: they are not in it (--format jsonl keeps them)")


def report_partial(writer: Any, output: Path | None) -> None:
    """After a failure mid-output: say where the results written so far are, and that OUTPUT is untouched."""
    kept = writer.abort()
    if kept is not None:
        print_plain(err, f"stopped after {writer.written:,} result(s): they are in {kept}; {output} was not written",
                    label="error: ", label_style="bold red")
