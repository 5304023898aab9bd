"""`lookright compare`: the labelling methods side by side under one budget."""

from __future__ import annotations

from typing import Annotated, Any

from . import common
from .common import ConfigFile, Opt, Seeds, Settings, app
from .options import with_settings


@app.command()
@with_settings("compare")
def compare(
    flags: dict[str, Any],
    methods: Annotated[
        str,
        Opt("--methods", help="Comma-separated: causal, unmask[:CONFIG|BEST], repeat[:R], generative[:K], "
            "encoder[:MODEL] (or a registered method)."),
    ] = "causal,unmask:BEST,repeat,generative,encoder",
    output: Annotated[
        str, Opt("--output", "-o", help="Directory for the runs, results.jsonl and comparison.{md,json,png}.")
    ] = "runs/compare",
    encoder_model: Annotated[
        str | None, Opt("--encoder-model", help="Encoder for `encoder` (HF dir); default: packaged all-MiniLM-L6-v2.")
    ] = None,
    groups: Annotated[int, Opt("--groups", help="unmask:BEST: number of block groups m.")] = 4,
    best_among: Annotated[
        str | None,
        Opt("--best-among", help="unmask:BEST: candidate configs (default all 2^m), searched by successive halving."),
    ] = None,
    parallel: Annotated[int, Opt("--parallel", help="Train N methods at once (one per GPU).")] = 1,
    submit: Annotated[
        str | None, Opt("--submit", help="Hand each method's run to a scheduler: a template with {command}.")
    ] = None,
    seeds: Seeds = None,
    config: ConfigFile = None,
    settings: Settings = None,
) -> None:
    """Compare labelling methods (unmasked/causal decoder, repetition, generative, encoder) under one budget."""
    from ..compare import CompareConfig, parse_methods, run_compare
    from ..sweep import parse_config_list

    cfg = CompareConfig(
        base=common.train_config(config, flags, settings),
        methods=parse_methods(methods, encoder_model),
        output=output,
        groups=groups,
        best_among=parse_config_list(best_among),
        parallel=parallel,
        submit=submit,
        seeds=common.seeds_of(seeds, flags),
    )
    run_compare(cfg, console=common.err)
