"""`lookright train`: every training setting is a flag (built from `TrainConfig`), plus the launcher."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Annotated, Any

import typer

from ..console import print_command
from . import common
from .common import ConfigFile, Opt, Seeds, Settings, app
from .options import with_settings

LAUNCHER_FLAGS = ("--launcher", "--num-processes", "--accelerate-config")


@app.command()
@with_settings("train")
def train(
    flags: dict[str, Any],
    seeds: Seeds = None,
    config: ConfigFile = None,
    settings: Settings = None,
    launcher: Annotated[
        str | None, Opt("--launcher", help="accelerate: relaunch this command with `accelerate launch`.")
    ] = None,
    num_processes: Annotated[
        int | None, Opt("--num-processes", help="With --launcher: processes (GPUs) to train on.")
    ] = None,
    accelerate_config: Annotated[
        str | None,
        Opt("--accelerate-config", help="With --launcher: an accelerate config (configs/accelerate/*.yaml)."),
    ] = None,
) -> None:
    """Fine-tune a sequence labeler (unmasked decoder by default), selecting the best checkpoint on validation."""
    from ..training import summarize
    from ..training import train as run_train
    from ..training.distributed import is_main_process

    seed_list = common.seeds_of(seeds, flags)
    if seed_list is not None and len(seed_list) == 1:
        flags, seed_list = {**flags, "seed": seed_list[0]}, None
    cfg = common.train_config(config, flags, settings)  # checked here, before any process is started
    if launcher is not None:
        if launcher != "accelerate":
            raise typer.BadParameter("--launcher takes 'accelerate'")
        raise typer.Exit(relaunch(num_processes, accelerate_config))
    if seed_list is not None:
        train_several(cfg, seed_list)
        return
    result = run_train(cfg, console=common.err)
    if not is_main_process():
        return
    for name, report in (("validation", result.validation), ("test", result.test)):
        if report is not None:
            common.out.rule(name)
            report.render(common.out)
    common.out.print_json(json.dumps(summarize(result)))


def train_several(cfg, seeds: list[int]) -> None:
    """`--seeds`: one run per seed into OUTPUT/seed-N; the table of every seed and the mean ± sd."""
    from ..training.distributed import is_main_process
    from ..training.seeds import train_seeds

    cfg.validate()
    summary = train_seeds(cfg, seeds, console=common.err)
    if not is_main_process():
        return
    common.out.print(seeds_table(summary))
    common.out.print_json(json.dumps(summary.to_dict()))


def seeds_table(summary) -> Any:
    """The table of seeds.md, for a terminal."""
    from rich.table import Table

    from ..training.seeds import table

    head, rows = table(summary)
    rendered = Table(title=f"{len(summary.runs)} seeds (mean ± sample sd)")
    for column in head:
        rendered.add_column(column, justify="left" if column in ("seed", "model") else "right")
    for row in rows:
        rendered.add_row(*row)
    return rendered


def relaunch(num_processes: int | None, config_file: str | None) -> int:
    """Run the same `lookright train` command under `accelerate launch`, minus the launcher flags."""
    from ..training.distributed import accelerate_command

    argv, skip = [], False
    for arg in sys.argv[1:]:
        if skip:
            skip = False
            continue
        name = arg.split("=", 1)[0]
        if name in LAUNCHER_FLAGS:
            skip = "=" not in arg
            continue
        argv.append(arg)
    command = accelerate_command(argv, num_processes=num_processes, config_file=config_file)
    print_command(common.err, command)
    return subprocess.call(command)
