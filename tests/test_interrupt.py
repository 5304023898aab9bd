"""Ctrl-C / SIGTERM while training or tagging: a checkpoint after the current step, nothing lost silently."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from rich.console import Console
from transformers import TrainerCallback

import lookright.training.trainer as trainer_module
from lookright.errors import TrainingInterrupted
from lookright.sweep.launch import Job, run_jobs
from lookright.training import train
from lookright.training.interrupt import StopRequest, stop_on_signal
from lookright.training.seeds import train_seeds


class SignalAt(TrainerCallback):
    """Sends `number` to this process at the end of step `step` (a user's Ctrl-C, a scheduler's SIGTERM)."""

    def __init__(self, step: int, number: int = signal.SIGINT) -> None:
        self.step, self.number = step, number

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == self.step:
            os.kill(os.getpid(), self.number)


@pytest.fixture
def python_handlers():
    """Python's own SIGINT handling, as in a terminal, here and in the processes a test starts (a suite
    started in the background by a shell, `make test &`, runs with SIGINT ignored)."""
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, before)


@pytest.fixture
def signal_at(monkeypatch, python_handlers):
    """Make the next `train` calls send a signal to themselves at a step (None: train undisturbed)."""
    callbacks = trainer_module.training_callbacks
    when: dict[str, tuple[int, int] | None] = {"at": None}

    def with_signal(*args, **kwargs):
        found = callbacks(*args, **kwargs)
        return found + [SignalAt(*when["at"])] if when["at"] else found

    monkeypatch.setattr(trainer_module, "training_callbacks", with_signal)

    def arm(step: int | None, number: int = signal.SIGINT) -> None:
        when["at"] = (step, number) if step is not None else None

    return arm


def _weights(directory: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return load_file(str(directory / "adapter_model.safetensors"))


@pytest.mark.parametrize(("number", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_mid_run_saves_a_checkpoint_and_resume_ends_as_the_run_would_have(
    tiny_train_config, tmp_path, signal_at, number, code
):
    signal_at(2, number)  # mid-epoch (8 batches an epoch), before the first evaluation at step 3
    stopped = tmp_path / "stopped"
    with pytest.raises(TrainingInterrupted) as caught:
        train(tiny_train_config(stopped))
    checkpoint = stopped / "checkpoints" / "checkpoint-2"
    assert caught.value.exit_code == code and caught.value.checkpoint == checkpoint
    message = str(caught.value)
    assert f"{signal.Signals(number).name}: training stopped after step 2 of 6" in message
    assert f"its checkpoint is {checkpoint}: run the same command with --resume" in message
    assert json.loads((checkpoint / "trainer_state.json").read_text())["global_step"] == 2
    assert not (stopped / "model.safetensors").exists()  # no half-trained model passed off as the result

    signal_at(None)
    resumed = train(tiny_train_config(stopped, resume=True))
    whole = train(tiny_train_config(tmp_path / "whole"))
    assert resumed.steps == whole.steps == 6
    assert resumed.validation.headline == pytest.approx(whole.validation.headline)
    before, after = _weights(stopped), _weights(tmp_path / "whole")
    assert before.keys() == after.keys()
    assert all(torch.allclose(before[k], after[k], atol=1e-6) for k in before)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the handler before training is back


def test_a_second_ctrl_c_stops_at_once_and_a_repeated_sigterm_changes_nothing(python_handlers):
    request, before = StopRequest(), signal.getsignal(signal.SIGTERM)
    with stop_on_signal(request, Console(file=io.StringIO())):
        os.kill(os.getpid(), signal.SIGTERM)
        assert request.signal_name == "SIGTERM"
        os.kill(os.getpid(), signal.SIGTERM)  # a scheduler repeating itself before its kill
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
    assert request.signal_name == "SIGTERM"
    assert signal.getsignal(signal.SIGTERM) is before


def test_resume_after_a_stop_continues_the_stopped_seed_and_starts_the_ones_not_begun(
    tiny_train_config, tmp_path, signal_at
):
    signal_at(2)
    with pytest.raises(TrainingInterrupted, match="--resume"):
        train_seeds(tiny_train_config(tmp_path), [42, 43])
    assert (tmp_path / "seed-42" / "checkpoints" / "checkpoint-2").is_dir() and not (tmp_path / "seed-43").exists()
    signal_at(None)
    summary = train_seeds(tiny_train_config(tmp_path, resume=True), [42, 43])  # seed 43 has no checkpoint yet
    assert [run.seed for run in summary.runs] == [42, 43] and [run.steps for run in summary.runs] == [6, 6]


class ScriptJob(Job):
    """A sweep job whose command is a small Python script instead of a training run."""

    def __init__(self, name: str, run_dir: Path, script: str, tiny_train_config) -> None:
        super().__init__(name, 0, tiny_train_config(run_dir), run_dir)
        self.script = script

    def command(self) -> list[str]:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        return [sys.executable, "-c", self.script]


def test_when_one_sweep_run_fails_the_others_stop_with_a_checkpoint_before_the_sweep_ends(
    tiny_train_config, tmp_path
):
    saved = tmp_path / "other" / "saved"
    # Like `lookright train` on SIGTERM: it finishes its step and saves before it exits.
    saves_on_sigterm = (
        "import pathlib, signal, sys, time\n"
        "def stop(*_):\n"
        "    time.sleep(1.0)\n"
        f"    pathlib.Path({str(saved)!r}).write_text('checkpoint')\n"
        "    sys.exit(143)\n"
        "signal.signal(signal.SIGTERM, stop)\n"
        f"pathlib.Path({str(tmp_path / 'other' / 'started')!r}).write_text('')\n"
        "time.sleep(60)\n"
    )
    fails_once_the_other_runs = (
        f"import pathlib, sys, time\nwhile not pathlib.Path({str(tmp_path / 'other' / 'started')!r}).exists(): "
        "time.sleep(0.05)\nsys.exit(3)\n"
    )
    jobs = [ScriptJob("other", tmp_path / "other", saves_on_sigterm, tiny_train_config),
            ScriptJob("failing", tmp_path / "failing", fails_once_the_other_runs, tiny_train_config)]
    started = time.monotonic()
    with pytest.raises(Exception, match="training failing failed \\(exit 3\\)"):
        run_jobs(jobs, "sweep", parallel=2, poll_seconds=0.05, console=Console(file=io.StringIO()))
    assert saved.read_text() == "checkpoint"  # waited for, not left running (or killed) behind the error
    assert time.monotonic() - started < 30


def test_an_ignored_signal_stays_ignored_while_training_runs():
    request, before = StopRequest(), signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with stop_on_signal(request, Console(file=io.StringIO())):
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
            assert signal.getsignal(signal.SIGTERM) is not signal.SIG_IGN
            os.kill(os.getpid(), signal.SIGINT)
        assert request.signal_name is None
    finally:
        signal.signal(signal.SIGINT, before)


def test_sigterm_outside_training_ends_the_command_with_one_line_and_status_143(tmp_path):
    script = (
        "import os, signal\n"
        "import lookright.cli.common as common\n"
        "common.app = lambda: os.kill(os.getpid(), signal.SIGTERM)\n"
        "common.main()\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 143, done.stderr
    assert done.stderr.strip().splitlines()[-1] == "error: terminated (SIGTERM)"


def test_ctrl_c_in_lookright_train_prints_the_checkpoint_and_the_resume_command(
    tiny_model_dir, conll2003, tmp_path, python_handlers
):
    output = tmp_path / "model"
    command = [
        sys.executable, "-m", "lookright", "train", "--train", str(conll2003 / "train.txt"), "--label-column", "3",
        "--model", str(tiny_model_dir), "--output", str(output), "--max-train-sentences", "64", "--max-steps", "100000",
        "--set", "log_every_seconds=0",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "COLUMNS": "60"}  # a narrow console: nothing may wrap
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    seen = []
    for line in process.stderr:  # until the first progress line: training has started
        seen.append(line)
        if line.startswith("step "):
            break
    process.send_signal(signal.SIGINT)
    _, rest = process.communicate(timeout=120)
    last = ("".join(seen) + rest).strip().splitlines()[-1]
    assert process.returncode == 130, last
    prefix, checkpoint = "error: SIGINT: training stopped after step ", output / "checkpoints" / "checkpoint-"
    assert last.startswith(prefix) and " of 100000; its checkpoint is " in last, last
    step = int(last[len(prefix):].split(" ")[0])
    assert last.endswith(f"{checkpoint}{step}: run the same command with --resume to continue from there")
    assert json.loads((Path(f"{checkpoint}{step}") / "trainer_state.json").read_text())["global_step"] == step


def test_sigterm_mid_predict_keeps_every_result_written_so_far_and_says_where(trained_dir, tmp_path):
    texts, output = tmp_path / "texts.txt", tmp_path / "tagged.jsonl"
    texts.write_text("EU rejects German call to boycott British lamb .\n" * 200_000)
    partial = tmp_path / "tagged.jsonl.partial"
    command = [sys.executable, "-m", "lookright", "predict", "--model", str(trained_dir), "--input", str(texts),
               "--output", str(output), "--chunk-size", "16", "--input-format", "text"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "COLUMNS": "60"}
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 120
    while not (partial.exists() and partial.stat().st_size) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    _, errors = process.communicate(timeout=120)
    assert process.returncode == 143, errors
    lines = errors.strip().splitlines()
    assert lines[-1] == "error: terminated (SIGTERM)"
    said = lines[-2]
    assert said.startswith("error: stopped after ") and said.endswith(f"result(s): they are in {partial}; "
                                                                       f"{output} was not written")
    written = int(said.removeprefix("error: stopped after ").split(" ")[0].replace(",", ""))
    rows = partial.read_text().splitlines()
    assert 0 < written == len(rows) < 200_000 and not output.exists()
    assert all(json.loads(row)["words"][2]["text"] == "German" for row in rows)  # every row whole, none lost


def test_a_sweep_stopped_mid_run_names_the_sweep_command_and_running_it_again_resumes_that_run(
    tiny_model_dir, conll2003, tmp_path, signal_at
):
    from test_sweep import _sweep

    from lookright.sweep import ResultsFile, run_sweep

    calls = []

    def trainer(cfg, console=None):
        calls.append((cfg.unmask, cfg.resume))
        signal_at(2 if cfg.unmask == "11" and not cfg.resume else None)
        return train(cfg, console=console)

    with pytest.raises(TrainingInterrupted) as caught:
        run_sweep(_sweep(tiny_model_dir, conll2003, tmp_path, configs=["00", "11"]), trainer=trainer)
    assert str(caught.value).endswith("checkpoint-2: run the same sweep command again to continue from there")
    assert [r.config for r in ResultsFile(tmp_path / "results.jsonl").rows()] == ["00"]
    calls.clear()
    run_sweep(_sweep(tiny_model_dir, conll2003, tmp_path, configs=["00", "11"]), trainer=trainer)
    assert calls == [("11", True)]  # "00" was done; "11" went on from its checkpoint
    assert [(r.config, r.steps) for r in ResultsFile(tmp_path / "results.jsonl").rows()] == [("00", 4), ("11", 4)]
