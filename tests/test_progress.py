"""Training progress outside a terminal (CI, nohup, logs): timed plain lines that name each number."""

from __future__ import annotations

import io
import json
import re

from rich.console import Console
from transformers import TrainerState

from lookright.training import train
from lookright.training.progress import RichProgressCallback

LINE = re.compile(
    r"step (?P<step>\d+)/(?P<total>\d+)"
    r"(?: \| validation f1 (?P<f1>[\d.]+) \| validation loss (?P<val_loss>[\d.]+))?"
    r"(?P<ended> \| training ended)?"
    r"(?: \| train loss (?P<loss>[\d.]+))?"
    r" \| (?P<rate>[\d,]+) tok/s \| elapsed (?P<elapsed>\d+m\d\ds)(?: \| eta (?P<eta>\d+m\d\ds))?"
)


def _lines(text: str) -> list[re.Match]:
    """Every progress line, each matched whole (a line of any other shape fails the test)."""
    lines = [line for line in text.splitlines() if line.startswith("step ")]
    matches = [LINE.fullmatch(line) for line in lines]
    assert all(matches), [line for line, m in zip(lines, matches) if m is None]
    return matches


def test_lines_come_every_interval_with_step_loss_rate_elapsed_and_eta():
    now = [0.0]
    printed = io.StringIO()
    progress = RichProgressCallback(Console(file=printed, width=300), log_every_seconds=30, clock=lambda: now[0])
    state = TrainerState(max_steps=12, global_step=0, is_world_process_zero=True, num_input_tokens_seen=0)
    progress.on_train_begin(None, state, None)
    for step in range(1, 13):  # 10 s per step, 1,000 tokens per step
        now[0] += 10
        state.global_step, state.num_input_tokens_seen = step, 1000 * step
        if step % 2 == 0:
            progress.on_log(None, state, None, logs={"loss": 2.0 / step})
        progress.on_step_end(None, state, None)
        if step == 6:
            progress.on_evaluate(None, state, None, metrics={"eval_f1": 0.25, "eval_loss": 1.5, "epoch": 1.0})
    progress.on_train_end(None, state, None)
    lines = _lines(printed.getvalue())
    assert [int(m["step"]) for m in lines] == [3, 6, 6, 9, 12, 12]  # every 30 s, the validation, the end
    assert lines[0].group(0) == "step 3/12 | train loss 1.0000 | 100 tok/s | elapsed 0m30s | eta 1m30s"
    assert lines[2].group(0) == (
        "step 6/12 | validation f1 0.2500 | validation loss 1.5000 | train loss 0.3333 | 100 tok/s | elapsed 1m00s"
    )
    assert lines[3]["eta"] == "0m30s" and lines[-1]["ended"] and lines[-1]["elapsed"] == "2m00s"


def test_a_logged_run_prints_each_step_and_labels_validation_and_training_numbers(tiny_train_config, tmp_path):
    printed = io.StringIO()
    result = train(tiny_train_config(tmp_path, log_every_seconds=0), console=Console(file=printed, width=300))
    lines = _lines(printed.getvalue())
    timed = [m for m in lines if not m["f1"] and not m["ended"]]
    validations = [m for m in lines if m["f1"]]
    assert [int(m["step"]) for m in timed] == list(range(1, 7)) and all(m["total"] == "6" for m in lines)
    assert all(m["eta"] for m in timed) and lines[-1]["ended"]
    state = json.loads((result.output / "checkpoints" / "checkpoint-6" / "trainer_state.json").read_text())
    evals = {e["step"]: e for e in state["log_history"] if "eval_f1" in e}
    losses = {e["step"]: e["loss"] for e in state["log_history"] if "loss" in e}
    assert [int(m["step"]) for m in validations] == sorted(evals) == [3, 6]
    for m in validations:  # each number is the quantity its label names
        step = int(m["step"])
        assert float(m["f1"]) == round(evals[step]["eval_f1"], 4)
        assert float(m["val_loss"]) == round(evals[step]["eval_loss"], 4)
        assert float(m["loss"]) == round(losses[step], 4)
