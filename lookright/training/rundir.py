"""Which run an output directory holds, so that a new run never replaces or resumes another silently.

Before training, `check_output` compares the settings recorded in OUTPUT with the ones asked for:
another run's directory is refused (its model, and the best checkpoint that checkpoint rotation
would delete), `--resume` only continues checkpoints written with the same settings, and `--overwrite`
is the one way to replace a run. The settings are recorded in `lookright.run.json` when training
starts (`claim_output`), so a run that crashed before writing its model card is recognised too.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import fields
from pathlib import Path
from typing import Any

from ..errors import LookrightError
from ..modeling.artifact import CARD_FILE
from ..outputs import write_text_atomic
from .config import TrainConfig

RUN_FILE = "lookright.run.json"
CHECKPOINT_DIR = "checkpoints"
# Written into a run's directory by a sweep or comparison launcher (or a scheduler's log) before the
# run starts: not part of the run, never a reason to refuse the directory, never cleared.
LAUNCH_CONFIG = "train_config.json"  # the settings file `lookright train --config` is started with
LAUNCH_FILES = (LAUNCH_CONFIG,)
LAUNCH_SUFFIXES = (".log",)
# Settings a run may change when it continues without changing what is trained: where it lives,
# how it is started, when it pauses (successive halving raises `stop_after_fraction` rung by rung),
# what is scored after training, how many checkpoints are kept and how progress is printed.
CONTINUATION_SETTINGS = frozenset({
    "output", "resume", "overwrite", "stop_after_fraction", "test", "eval_batch_tokens", "keep_checkpoints",
    "log_every_seconds",
})


# transformers writes a checkpoint's trainer state last: a checkpoint without it (or with half of it) was
# cut off while saving (a crash, a kill, a full disk) and cannot be resumed. transformers'
# TRAINER_STATE_NAME, not imported: its module loads torch, and this one is read before anything loads.
TRAINER_STATE = "trainer_state.json"


def checkpoints(output: str | Path) -> list[Path]:
    """OUTPUT/checkpoints/checkpoint-N directories, in step order."""
    found = [p for p in (Path(output) / CHECKPOINT_DIR).glob("checkpoint-*") if p.is_dir() and _step(p) is not None]
    return sorted(found, key=_step)


def last_checkpoint(output: str | Path) -> tuple[Path | None, list[Path]]:
    """The last checkpoint a run can resume, and the later ones skipped because their save was cut off."""
    last, cut_off = None, []
    for checkpoint in checkpoints(output):
        if _complete(checkpoint):
            last, cut_off = checkpoint, []
        else:
            cut_off.append(checkpoint)
    return last, cut_off


def _complete(checkpoint: Path) -> bool:
    """Its trainer state was written, and written whole (a full disk can cut off the file itself)."""
    try:
        return isinstance(json.loads((checkpoint / TRAINER_STATE).read_text()), dict)
    except (OSError, ValueError):
        return False


def what_is_kept(output: str | Path) -> str:
    """After a failed write: what a run left in OUTPUT to continue from, and the command that does it."""
    last, _ = last_checkpoint(output)
    if last is None:
        return "No checkpoint of this run was complete: free some space, then run the same command again."
    return (f"The last complete checkpoint is {last}: free some space, then run the same command with --resume "
            "to continue from it.")


def _step(checkpoint: Path) -> int | None:
    step = checkpoint.name.removeprefix("checkpoint-")
    return int(step) if step.isdigit() else None


def has_checkpoint(output: str | Path) -> bool:
    """Whether OUTPUT/checkpoints holds a checkpoint a run could resume."""
    return last_checkpoint(output)[0] is not None


def run_settings(cfg: TrainConfig) -> dict[str, Any]:
    """The settings that make a run what it is (JSON values, as they are recorded)."""
    data = json.loads(json.dumps(cfg.to_dict(), default=str))
    return {k: v for k, v in data.items() if k not in CONTINUATION_SETTINGS}


def recorded_settings(output: Path) -> dict[str, Any] | None:
    """The run settings recorded in OUTPUT (run file, else the model card's training record), if any."""
    data = None
    if (output / RUN_FILE).is_file():
        data = _read_json(output / RUN_FILE).get("config")
    elif (output / CARD_FILE).is_file():
        data = _read_json(output / CARD_FILE).get("training", {}).get("config")
    if not isinstance(data, dict):
        return None
    known = {f.name for f in fields(TrainConfig)}
    return run_settings(TrainConfig(**{k: v for k, v in data.items() if k in known}))


def seed_run_dir(run_dir: Path, seed: int, several: bool) -> Path:
    """Where one seed of a method or config trains: run_dir, or run_dir/seed-N.

    Several seeds each get run_dir/seed-N. A single seed keeps the plain run_dir (as before seeds
    existed) unless that already holds a run of another seed: `--seeds 43` today and `--seeds 44`
    tomorrow into one output is one study grown by a seed, not a run to refuse or to replace.
    """
    if several:
        return seed_dir(run_dir, seed)
    recorded = recorded_settings(run_dir)
    return seed_dir(run_dir, seed) if recorded is not None and recorded.get("seed") != seed else run_dir


def seed_dir(output: str | Path, seed: int) -> Path:
    """OUTPUT/seed-N: one seed's run when a train, sweep or compare has more than one."""
    return Path(output) / f"seed-{seed}"


def differences(recorded: dict[str, Any], wanted: dict[str, Any]) -> list[str]:
    """`name: recorded -> wanted` for every run setting that differs."""
    return [
        f"{key}: {recorded.get(key)!r} -> {wanted.get(key)!r}"
        for key in sorted(set(recorded) | set(wanted))
        if recorded.get(key) != wanted.get(key)
    ]


def _run_contents(output: Path) -> list[str]:
    """Entries of OUTPUT other than a launcher's files."""
    if not output.is_dir():
        return []
    return sorted(
        p.name for p in output.iterdir() if p.name not in LAUNCH_FILES and not p.name.endswith(LAUNCH_SUFFIXES)
    )


def check_output(cfg: TrainConfig) -> None:
    """Refuse an output directory this run would wrongly replace or resume; nothing is written here."""
    output = Path(cfg.output)
    if output.exists() and not output.is_dir():
        raise LookrightError(f"{output}: the output is a file, not a directory")
    if cfg.overwrite and cfg.resume:
        raise ValueError("--resume continues the run in the output directory and --overwrite replaces it: give one")
    if cfg.overwrite:
        return  # cleared when training starts, once the data and model have loaded
    contents = _run_contents(output)
    if cfg.resume and not has_checkpoint(output):
        raise LookrightError(f"--resume: no checkpoint found in {output / CHECKPOINT_DIR}")
    if not contents:
        return
    recorded = recorded_settings(output)
    if recorded is None:
        shown = ", ".join(contents[:5]) + (", ..." if len(contents) > 5 else "")
        raise LookrightError(
            f"{output} is not empty ({shown}) and holds no lookright run: choose another --output, "
            f"or --overwrite to clear it"
        )
    changed = differences(recorded, run_settings(cfg))
    if changed:
        what = "--resume: the checkpoints in" if cfg.resume else "another run is in"
        raise LookrightError(
            f"{what} {output}, trained with other settings ({'; '.join(changed)}): "
            f"choose another --output, or --overwrite to replace that run"
        )
    if not cfg.resume and (has_checkpoint(output) or (output / CARD_FILE).is_file()):
        raise LookrightError(
            f"{output} already holds this run (its model or checkpoints): --resume to continue it, "
            f"or --overwrite to train it again from scratch"
        )


def claim_output(cfg: TrainConfig) -> None:
    """At the start of training: clear OUTPUT if overwriting, then record this run's settings there."""
    output = Path(cfg.output)
    output.mkdir(parents=True, exist_ok=True)
    if cfg.overwrite:
        for name in _run_contents(output):
            path = output / name
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
    write_text_atomic(output / RUN_FILE, json.dumps({"config": cfg.to_dict()}, indent=2, default=str) + "\n")


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise LookrightError(f"{path}: cannot read the run record ({error}); --overwrite replaces the run") from None
    return data if isinstance(data, dict) else {}
