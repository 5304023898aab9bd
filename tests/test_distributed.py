"""Data parallel training through accelerate: 2 processes (gloo, CPU) == 1 process, same global batch.

Also: gradient accumulation really accumulates (batch 4 x 2 steps == batch 8), and the shipped
accelerate configs parse.
"""

from __future__ import annotations

import io
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console
from typer.testing import CliRunner

from lookright import cli
from lookright.data.readers import read_conll
from lookright.inference import Tagger
from lookright.training.distributed import accelerate_command

REPO = Path(__file__).resolve().parents[1]
CONFIGS = REPO / "configs" / "accelerate"


def _train(args: list[str], env_extra: dict | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", **(env_extra or {})}
    result = subprocess.run(
        [sys.executable, "-m", "lookright", "train", *args], capture_output=True, text=True, env=env, timeout=600
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def _train_here(args: list[str]) -> None:
    """A one-process run in this process (no second torch import), on one thread as each rank of the two."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        result = CliRunner().invoke(cli.app, ["train", *args])
    finally:
        torch.set_num_threads(threads)
    assert result.exit_code == 0, result.output + repr(result.exception)


def _evals(output: Path) -> list[dict]:
    state = json.loads((output / "checkpoints" / "checkpoint-8" / "trainer_state.json").read_text())
    return [e for e in state["log_history"] if "eval_f1" in e]


@pytest.fixture(scope="module")
def runs(tiny_model_dir, conll2003, tmp_path_factory):
    base = tmp_path_factory.mktemp("ddp")
    common = [
        "--model", str(tiny_model_dir), "--train", str(conll2003 / "train.txt"),
        "--validation", str(conll2003 / "validation.txt"), "--label-column", "3",
        "--max-train-sentences", "64", "--max-validation-sentences", "40",  # 64 windows: 8 full global batches
        "--max-steps", "8", "--eval-every", "4", "--lr", "1e-3", "--lora-dropout", "0", "--seed", "3",
    ]
    two = _train([*common, "--batch-size", "4", "--output", str(base / "two"),
                  "--launcher", "accelerate", "--num-processes", "2"])
    _train_here([*common, "--batch-size", "8", "--output", str(base / "one")])
    _train_here([*common, "--batch-size", "4", "--grad-accum", "2", "--output", str(base / "accum")])
    return base, two


def _scores(directory: Path, sentences) -> np.ndarray:
    tagger = Tagger.load(directory)
    return np.concatenate(tagger.word_scores([s.tokens for s in sentences]))


def test_two_processes_train_the_model_one_process_trains(runs, conll2003):
    """Same batches, same loss normalisation: the runs differ only by float noise.

    Padding differs per process (a batch is padded to its own longest window), which changes
    results at the 1e-5 level; Adam's first steps turn such noise on near-zero gradients into
    lr-sized updates. So the check is: the 2-process run is as close to the 1-process run as
    gradient accumulation in one process is (the same computation), and far closer than what
    training itself changed.
    """
    base, two = runs
    assert "--multi_gpu" in two.stderr and "--num_processes 2" in two.stderr  # really relaunched
    one_evals, two_evals = _evals(base / "one"), _evals(base / "two")
    assert [e["step"] for e in one_evals] == [e["step"] for e in two_evals] == [4, 8]
    learned = abs(one_evals[1]["eval_token_accuracy"] - one_evals[0]["eval_token_accuracy"])
    assert learned > 0.1
    for a, b in zip(one_evals, two_evals):  # validation gathered across ranks: nothing lost or counted twice
        assert abs(a["eval_token_accuracy"] - b["eval_token_accuracy"]) < learned / 10
    sentences = read_conll(conll2003 / "validation.txt", label_column=3)[:40]
    one, other, accum = (_scores(base / name, sentences) for name in ("one", "two", "accum"))
    assert np.abs(one - other).mean() < 0.01 and np.abs(one - other).max() < 0.05
    assert (one.argmax(-1) == other.argmax(-1)).mean() > 0.95
    assert np.abs(one - other).mean() < 2 * np.abs(one - accum).mean() + 1e-3


def test_gradient_accumulation_equals_the_larger_batch(runs, conll2003):
    base, _ = runs
    one_evals, accum_evals = _evals(base / "one"), _evals(base / "accum")
    for a, b in zip(one_evals, accum_evals):
        assert abs(a["eval_token_accuracy"] - b["eval_token_accuracy"]) < 0.02
    sentences = read_conll(conll2003 / "validation.txt", label_column=3)[:40]
    one, accum = _scores(base / "one", sentences), _scores(base / "accum", sentences)
    assert np.abs(one - accum).mean() < 0.01 and np.abs(one - accum).max() < 0.05
    assert (one.argmax(-1) == accum.argmax(-1)).mean() > 0.95


def test_only_the_main_process_reports_and_writes(runs):
    base, two = runs
    # the "lookright train N sentences -> ..." header and the default method's choice, once each
    assert len(re.findall(r"^lookright train [\d,]+ sentences -> ", two.stderr, re.MULTILINE)) == 1
    assert len(re.findall(r"^method auto: 64 training sentences -> repeat", two.stderr, re.MULTILINE)) == 1
    assert two.stdout.count('"output"') == 1  # the summary, once
    card = json.loads((base / "two" / "lookright.json").read_text())
    assert card["training"]["steps"] == 8


def test_shipped_accelerate_configs_parse():
    from accelerate.commands.config.config_args import load_config_from_file

    kinds = {}
    for path in sorted(CONFIGS.glob("*.yaml")):
        config = load_config_from_file(str(path))
        kinds[path.stem] = getattr(config.distributed_type, "value", config.distributed_type)
    assert kinds == {
        "ddp": "MULTI_GPU", "fsdp": "FSDP", "deepspeed_zero2": "DEEPSPEED", "deepspeed_zero3": "DEEPSPEED",
        "multinode": "MULTI_GPU",
    }
    fsdp = load_config_from_file(str(CONFIGS / "fsdp.yaml")).fsdp_config
    assert fsdp["fsdp_auto_wrap_policy"] == "TRANSFORMER_BASED_WRAP" and "fsdp_transformer_layer_cls_to_wrap" not in fsdp
    for stage in (2, 3):
        config = load_config_from_file(str(CONFIGS / f"deepspeed_zero{stage}.yaml")).deepspeed_config
        ds = json.loads((REPO / config["deepspeed_config_file"]).read_text())
        assert ds["zero_optimization"]["stage"] == stage


def test_accelerate_command_keeps_the_lookright_arguments():
    command = accelerate_command(["train", "--train", "t.txt"], num_processes=4, config_file="c.yaml")
    assert command[:3] == [sys.executable, "-m", "accelerate.commands.launch"]
    assert command[3:] == ["--config_file", "c.yaml", "--num_processes", "4", "-m", "lookright", "train", "--train", "t.txt"]
    assert "--multi_gpu" in accelerate_command(["train"], num_processes=2)


def test_relaunch_echo_is_one_copy_pasteable_line_on_a_narrow_console(tmp_path, monkeypatch):
    """The `$ accelerate launch ...` echo must survive a 40-column console and a long path with [brackets]."""
    output = tmp_path / ("a-very-long-directory-name-" * 4) / "run [1] with spaces"
    args = ["train", "--train", str(tmp_path / "train.txt"), "--output", str(output),
            "--launcher", "accelerate", "--num-processes", "2"]
    monkeypatch.setattr(sys, "argv", ["lookright", *args])
    printed = io.StringIO()
    monkeypatch.setattr(cli.common, "err", Console(file=printed, width=40))
    launched = []
    monkeypatch.setattr(subprocess, "call", lambda command: launched.append(command) or 0)
    result = CliRunner().invoke(cli.app, args)
    assert result.exit_code == 0, result.output
    lines = printed.getvalue().splitlines()
    assert len(lines) == 1 and lines[0].startswith("$ ") and len(lines[0]) > 200
    assert "--num_processes 2 --multi_gpu" in lines[0]
    assert shlex.split(lines[0][2:]) == launched[0]  # pastes back to exactly the command that ran
    assert launched[0][launched[0].index("--output") + 1] == str(output)
