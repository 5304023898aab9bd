"""Running under `accelerate launch` (DDP, FSDP, DeepSpeed): who reports, and how to relaunch.

lookright has no distributed runtime of its own: the Trainer (accelerate underneath) shards data,
syncs gradients and gathers validation predictions. This module only answers the questions the
rest of lookright asks: am I the process that prints and writes, and what command relaunches
`lookright train` on N processes.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence


def world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def is_main_process() -> bool:
    """True on global rank 0 (or when not launched distributed): the one that prints and saves."""
    return int(os.environ.get("RANK", "0")) == 0


def accelerate_command(
    argv: Sequence[str], *, num_processes: int | None = None, config_file: str | None = None
) -> list[str]:
    """`accelerate launch ... -m lookright <argv>`: the same command, on the engine a config picks.

    Without a config file, N > 1 processes means plain data parallelism (`--multi_gpu`, which
    accelerate runs with the gloo backend on CPU-only machines).
    """
    command = [sys.executable, "-m", "accelerate.commands.launch"]  # this environment's accelerate
    if config_file:
        command += ["--config_file", config_file]
    if num_processes:
        command += ["--num_processes", str(num_processes)]
        if not config_file and num_processes > 1:
            command += ["--multi_gpu"]
    return [*command, "-m", "lookright", *argv]
