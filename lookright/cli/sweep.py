"""`lookright sweep`: one model per unmasking configuration, ranked on validation."""

from __future__ import annotations

from typing import Annotated, Any

from . import common
from .common import ConfigFile, Opt, Seeds, Settings, app
from .options import with_settings


@app.command()
@with_settings("sweep")
def sweep(
    flags: dict[str, Any],
    output: Annotated[str, Opt("--output", "-o", help="Sweep directory (results.jsonl, summary.md, chart).")] = "runs/sweep",
    groups: Annotated[int, Opt("--groups", help="Number of contiguous block groups m (configs have m characters).")] = 4,
    configs: Annotated[str | None, Opt("--configs", help="Comma-separated configs; default: all 2^m.")] = None,
    strategy: Annotated[
        str,
        Opt("--strategy", help="exhaustive, successive-halving, or probe (rank every config with a linear probe on "
            "the frozen model, train only the best 1/eta)."),
    ] = "exhaustive",
    eta: Annotated[
        int, Opt("--eta", help="Successive halving: keep the best 1/eta at each rung; probe: train the best 1/eta.")
    ] = 4,
    min_fraction: Annotated[float, Opt("--min-fraction", help="Successive halving: budget share of the first rung.")] = 0.125,
    rung_metric: Annotated[
        str,
        Opt("--rung-metric", help="Successive halving: rank each rung by validation loss (smooth early on) or score; "
            "the winner is always picked by score."),
    ] = "loss",
    keep: Annotated[
        int | None, Opt("--keep", help="Probe: how many configurations to train in full (default: 2^m / eta).")
    ] = None,
    probe_sentences: Annotated[
        int, Opt("--probe-sentences", help="Probe: training and validation sentences it reads (each).")
    ] = 500,
    retrain_best: Annotated[
        bool, Opt("--retrain-best", help="Retrain the winner with validation-based selection into OUTPUT/best.")
    ] = False,
    keep_models: Annotated[
        bool, Opt("--keep-models", help="Keep every configuration's model (default: only the best).")
    ] = False,
    parallel: Annotated[
        int, Opt("--parallel", help="Train N configurations at once, each in its own process (one per GPU).")
    ] = 1,
    submit: Annotated[
        str | None,
        Opt("--submit", help="Hand each run to a scheduler: a shell template with {command}, e.g. "
            "\"sbatch --gpus=1 --wrap '{command}'\"."),
    ] = None,
    seeds: Seeds = None,
    config: ConfigFile = None,
    settings: Settings = None,
) -> None:
    """Train one model per unmasking configuration (same seed, data order, budget) and rank them on validation."""
    from ..sweep.grid import check_config_strings, parse_config_list

    config_list = parse_config_list(configs)
    check_config_strings(config_list, groups)  # a typo is refused before torch loads
    from ..sweep import SweepConfig, run_sweep

    cfg = SweepConfig(
        base=common.train_config(config, flags, settings),
        output=output,
        groups=groups,
        configs=config_list,
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
        seeds=common.seeds_of(seeds, flags),
    )
    run_sweep(cfg, console=common.err)
