"""Which checkpoint counts as best: transformers' rule, with ties at F1 0 going to the later one."""

from __future__ import annotations

from pathlib import Path

import pytest
from transformers import TrainerState, TrainingArguments

from lookright.training.loop import LookrightTrainer, _never_scored


def _best_steps(tmp_path: Path, scores: list[float], *, metric: str = "f1", greater_is_better: bool = True):
    """Feed evaluations (every 10 steps) to the Trainer's own best-metric step; the best step after each."""
    trainer = LookrightTrainer.__new__(LookrightTrainer)  # the decision needs only args and state
    trainer.args = TrainingArguments(
        output_dir=str(tmp_path),
        eval_strategy="steps",
        save_strategy="steps",
        load_best_model_at_end=True,
        metric_for_best_model=metric,
        greater_is_better=greater_is_better,
        use_cpu=True,
        report_to="none",
    )
    trainer.state = TrainerState()
    key = metric if metric.startswith("eval_") else f"eval_{metric}"
    best = []
    for number, score in enumerate(scores, start=1):
        trainer.state.global_step = 10 * number
        trainer._determine_best_metric({key: score}, None)
        best.append(trainer.state.best_global_step)
    return best, trainer


def test_while_f1_stays_zero_the_latest_checkpoint_is_the_best(tmp_path):
    best, trainer = _best_steps(tmp_path, [0.0, 0.0, 0.0])
    assert best == [10, 20, 30]
    assert _never_scored(trainer)


def test_once_f1_has_scored_ties_and_drops_keep_the_earlier_checkpoint(tmp_path):
    best, trainer = _best_steps(tmp_path, [0.0, 0.4, 0.4, 0.0, 0.3])
    assert best == [10, 20, 20, 20, 20]
    assert trainer.state.best_metric == pytest.approx(0.4)
    assert not _never_scored(trainer)


def test_loss_selection_keeps_transformers_rule(tmp_path):
    best, _ = _best_steps(tmp_path, [0.5, 0.5, 0.4, 0.6], metric="eval_loss", greater_is_better=False)
    assert best == [10, 10, 30, 30]
