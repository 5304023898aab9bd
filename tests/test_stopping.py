"""Early stopping: patience starts at the first nonzero F1, as the Trainer drives it."""

from __future__ import annotations

from types import SimpleNamespace

from transformers import EarlyStoppingCallback, TrainerControl, TrainerState

from lookright.training.stopping import EarlyStoppingAfterFirstScore


def _stopped_at(
    callback: EarlyStoppingCallback,
    scores: list[float],
    *,
    greater_is_better: bool = True,
    best_before: float | None = None,
) -> int | None:
    """Feed validation scores in the Trainer's order (callback, then the best metric); the evaluation that stops."""
    metric = "f1" if greater_is_better else "eval_loss"
    args = SimpleNamespace(metric_for_best_model=metric, greater_is_better=greater_is_better)
    state, control = TrainerState(best_metric=best_before), TrainerControl()
    better = (lambda a, b: a > b) if greater_is_better else (lambda a, b: a < b)
    for number, score in enumerate(scores, start=1):
        callback.on_evaluate(args, state, control, metrics={f"eval_{metric.removeprefix('eval_')}": score})
        if state.best_metric is None or better(score, state.best_metric):
            state.best_metric = score
        if control.should_training_stop:
            return number
    return None


ZERO_THEN_LEARNING = [0.0, 0.0, 0.0, 0.0, 0.12, 0.20, 0.19, 0.18, 0.17, 0.16]


def test_transformers_stops_a_run_whose_f1_has_not_left_zero_yet():
    assert _stopped_at(EarlyStoppingCallback(early_stopping_patience=3), ZERO_THEN_LEARNING) == 4


def test_patience_starts_at_the_first_nonzero_f1():
    # 0.20 at evaluation 6 is the best; three evaluations without improvement stop at 9
    assert _stopped_at(EarlyStoppingAfterFirstScore(early_stopping_patience=3), ZERO_THEN_LEARNING) == 9


def test_an_f1_that_never_leaves_zero_trains_to_the_end():
    assert _stopped_at(EarlyStoppingAfterFirstScore(early_stopping_patience=3), [0.0] * 12) is None


def test_after_the_first_score_a_return_to_zero_counts_against_patience():
    assert _stopped_at(EarlyStoppingAfterFirstScore(early_stopping_patience=2), [0.0, 0.3, 0.0, 0.0, 0.5]) == 4


def test_validation_loss_selection_counts_from_the_first_evaluation():
    losses = [0.5, 0.6, 0.7, 0.8, 0.1]
    assert _stopped_at(EarlyStoppingAfterFirstScore(early_stopping_patience=3), losses, greater_is_better=False) == 4


def test_a_resumed_run_that_had_scored_counts_a_zero_against_patience():
    # on resume transformers restores the best metric, not callback attributes: a fresh callback
    assert _stopped_at(EarlyStoppingAfterFirstScore(early_stopping_patience=2), [0.0, 0.0], best_before=0.3) == 2


def test_training_stops_early_only_through_this_callback_and_only_when_selecting():
    from rich.console import Console

    from lookright.training import TrainConfig
    from lookright.training.loop import training_callbacks

    cfg = TrainConfig(train="x")
    stopping = [c for c in training_callbacks(cfg, Console(), selecting=True) if isinstance(c, EarlyStoppingCallback)]
    assert [type(c) for c in stopping] == [EarlyStoppingAfterFirstScore]
    assert stopping[0].early_stopping_patience == cfg.patience
    assert not any(isinstance(c, EarlyStoppingCallback) for c in training_callbacks(cfg, Console(), selecting=False))
