"""Sweeps on a tiny random Llama: resumable results, fair budgets, successive halving as a prefix."""

from __future__ import annotations

import json
from dataclasses import asdict

import pytest

from lookright.errors import DataWarning
from lookright.sweep import (
    ResultsFile,
    RunResult,
    SweepConfig,
    all_configs,
    planned_budget,
    rank_rung,
    run_sweep,
    rung_fractions,
)
from lookright.training import TrainConfig
from lookright.training import train as real_train


class CountingTrainer:
    """The real trainer, counting calls (to prove that finished work is never redone)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, float | None]] = []

    def __call__(self, cfg, console=None):
        self.calls.append((cfg.unmask, cfg.stop_after_fraction))
        return real_train(cfg, console=console)


def _sweep(tiny_model_dir, conll2003, output, **overrides) -> SweepConfig:
    base = TrainConfig(
        train=str(conll2003 / "train.txt"),
        validation=str(conll2003 / "validation.txt"),
        model=str(tiny_model_dir),
        label_column=3,
        max_train_sentences=48,
        max_validation_sentences=16,
        max_steps=4,
        batch_size=8,
        learning_rate=5e-3,
    )
    settings = dict(base=base, output=str(output), groups=2)
    settings.update(overrides)
    return SweepConfig(**settings)


def test_all_configs_are_the_papers_grid_in_order():
    assert all_configs(2) == ["00", "01", "10", "11"]
    assert len(all_configs(4)) == 16 and all_configs(4)[3] == "0011"


def test_successive_halving_budget_is_a_quarter_of_the_exhaustive_grid():
    assert rung_fractions(0.125, 4) == [0.125, 0.5, 1.0]
    # 16 configs x 1/8 + 4 configs x 3/8 + 1 config x 1/2 = 4 full runs out of 16
    assert planned_budget(16, 0.125, 4) == pytest.approx(4.0)


@pytest.mark.parametrize(
    "configs,groups,message",
    [(["0012"], 4, "only '0'"), (["001"], 4, "has 3 characters but --groups is 4"), (None, 5, "cannot split 4 layers")],
)
def test_bad_configs_fail_before_any_training(tiny_model_dir, conll2003, tmp_path, configs, groups, message):
    trainer = CountingTrainer()
    with pytest.raises(ValueError, match=message):
        run_sweep(_sweep(tiny_model_dir, conll2003, tmp_path, configs=configs, groups=groups), trainer=trainer)
    assert trainer.calls == []


def test_exhaustive_sweep_writes_results_and_resumes_without_retraining(tiny_model_dir, conll2003, tmp_path):
    trainer = CountingTrainer()
    summary = run_sweep(_sweep(tiny_model_dir, conll2003, tmp_path, keep_models=True), trainer=trainer)
    assert [c for c, _ in trainer.calls] == ["00", "01", "10", "11"]
    rows = ResultsFile(tmp_path / "results.jsonl").rows()
    assert [r.config for r in rows] == ["00", "01", "10", "11"]
    assert all(r.steps == r.total_steps == 4 for r in rows)  # the same budget for every config
    assert summary.best.score == max(r.score for r in rows)
    assert json.loads((tmp_path / "best.json").read_text())["config"] == summary.best.config
    assert (tmp_path / "f1_by_config.png").stat().st_size > 10_000
    assert "| `00`" in (tmp_path / "summary.md").read_text() or "**`00`**" in (tmp_path / "summary.md").read_text()

    again = CountingTrainer()
    run_sweep(_sweep(tiny_model_dir, conll2003, tmp_path), trainer=again)
    assert again.calls == []  # everything was already in results.jsonl

    lines = (tmp_path / "results.jsonl").read_text().splitlines()
    (tmp_path / "results.jsonl").write_text("\n".join(lines[:-1]) + "\n")  # as if interrupted during "11"
    resumed = CountingTrainer()
    run_sweep(_sweep(tiny_model_dir, conll2003, tmp_path), trainer=resumed)
    assert [c for c, _ in resumed.calls] == ["11"]

    lines = (tmp_path / "results.jsonl").read_text().splitlines()  # "11" cut off mid-append (a full disk)
    (tmp_path / "results.jsonl").write_text("\n".join(lines[:-1]) + "\n" + lines[-1][: len(lines[-1]) // 2])
    cut = CountingTrainer()
    with pytest.warns(DataWarning, match=r"results.jsonl:4: the last sweep result row was cut off"):
        run_sweep(_sweep(tiny_model_dir, conll2003, tmp_path), trainer=cut)
    assert [c for c, _ in cut.calls] == ["11"]
    assert [r.config for r in ResultsFile(tmp_path / "results.jsonl").rows()] == ["00", "01", "10", "11"]


def test_a_results_row_that_lost_only_its_newline_is_kept(tmp_path):
    row = _row("01", 0.5, None)
    (tmp_path / "results.jsonl").write_text(json.dumps(asdict(row)))  # whole, but its newline never written
    results = ResultsFile(tmp_path / "results.jsonl")
    assert results.rows() == [row]
    results.append(_row("10", 0.25, None))
    assert [r.config for r in results.rows()] == ["01", "10"]


def test_successive_halving_spends_less_and_its_survivors_match_their_full_runs(tiny_model_dir, conll2003, tmp_path):
    exhaustive = run_sweep(_sweep(tiny_model_dir, conll2003, tmp_path / "full", keep_models=True))
    trainer = CountingTrainer()
    halving = run_sweep(
        _sweep(tiny_model_dir, conll2003, tmp_path / "sh", strategy="successive-halving", eta=2, min_fraction=0.5),
        trainer=trainer,
    )
    # rung 0: 4 configs for half the budget; rung 1: the best 2 continue to the full budget
    assert [f for _, f in trainer.calls] == [0.5, 0.5, 0.5, 0.5, None, None]
    assert halving.tokens < exhaustive.tokens
    rung0 = [r for r in ResultsFile(tmp_path / "sh" / "results.jsonl") if r.rung == 0]
    assert all(r.validation["log_loss"] > 0 for r in rung0)
    ranked = sorted(rung0, key=lambda r: r.validation["log_loss"])  # the default rung metric
    assert {c for c, f in trainer.calls if f is None} == {r.config for r in ranked[:2]}
    full = {r.config: r for r in exhaustive.rows}
    for row in halving.rows:
        if row.steps == row.total_steps:  # resumed from its half-budget checkpoint: same model as the full run
            assert row.score == pytest.approx(full[row.config].score)


def _row(config: str, score: float, loss: float | None) -> RunResult:
    validation = {"metric": "strict micro F1", "score": score, "log_loss": loss}
    return RunResult(config, "successive-halving", 0, 4, 32, 100, 1.0, 100.0, 1.0, validation)


def test_rungs_rank_by_validation_loss_and_fall_back_to_the_score():
    order = ["00", "01", "10", "11"]
    # early in training F1 is ~0 everywhere; the loss still separates the configs
    rows = [_row("00", 0.0, 1.2), _row("01", 0.01, 0.9), _row("10", 0.0, 0.7), _row("11", 0.0, 0.9)]
    ranked, by = rank_rung(rows, "loss", order)
    assert [r.config for r in ranked] == ["10", "01", "11", "00"] and by == "log loss"  # tie 01/11: listed first
    ranked, by = rank_rung(rows, "score", order)
    assert [r.config for r in ranked] == ["01", "00", "10", "11"] and by == "strict micro F1"
    rows[2] = _row("10", 0.0, None)  # a row from an older results.jsonl: rank every row by score
    assert [r.config for r in rank_rung(rows, "loss", order)[0]] == ["01", "00", "10", "11"]


def test_unknown_rung_metric_is_rejected(tiny_model_dir, conll2003, tmp_path):
    with pytest.raises(ValueError, match="unknown rung metric 'f1'"):
        run_sweep(_sweep(tiny_model_dir, conll2003, tmp_path, strategy="successive-halving", rung_metric="f1"))


def test_cli_rejects_a_bad_config_with_a_clear_message_before_loading_torch(conll2003, tmp_path):
    import subprocess
    import sys

    argv = ["sweep", "--train", str(conll2003 / "train.txt"), "--validation", str(conll2003 / "validation.txt"),
            "--configs", "0000,0021", "--output", str(tmp_path)]
    code = (
        "import sys\n"
        f"sys.argv = ['lookright', *{argv!r}]\n"
        "from lookright.cli import main\n"
        "try:\n    main()\nexcept SystemExit as e:\n    print('\\nEXIT', e.code)\n"
        "print('IMPORTED', sorted(m for m in ('torch', 'transformers', 'peft') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.stdout.splitlines()[-2:] == ["EXIT 2", "IMPORTED []"], result.stdout + result.stderr
    assert "invalid unmasking config '0021'" in result.stderr
    assert not (tmp_path / "results.jsonl").exists()


def test_parallel_and_submitted_runs_give_the_in_process_results(tiny_model_dir, conll2003, tmp_path):
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the subprocesses get 1 thread each (2 slots on this 2-core machine or fewer)
    try:
        reference = run_sweep(_sweep(tiny_model_dir, conll2003, tmp_path / "seq", configs=["00", "01", "11"]))
    finally:
        torch.set_num_threads(threads)
    expected = {r.config: r for r in reference.rows}

    parallel = run_sweep(_sweep(tiny_model_dir, conll2003, tmp_path / "par", configs=["00", "01", "11"], parallel=2))
    rows = ResultsFile(tmp_path / "par" / "results.jsonl").rows()
    assert sorted(r.config for r in rows) == ["00", "01", "11"]  # each run once, in one results file
    for row in parallel.rows:
        assert row.steps == row.total_steps == 4
        assert row.validation == pytest.approx(expected[row.config].validation)
    assert (tmp_path / "par" / "runs" / parallel.best.config / "train.log").exists()  # each run logs to its dir

    # a "scheduler" that runs the command in the background; the sweep waits for the run's scores
    template = "OMP_NUM_THREADS=1 {command} > {run_dir}/submitted.log 2>&1 &"
    submitted = run_sweep(_sweep(tiny_model_dir, conll2003, tmp_path / "sub", configs=["00", "11"], submit=template))
    assert {r.config for r in ResultsFile(tmp_path / "sub" / "results.jsonl").rows()} == {"00", "11"}
    for row in submitted.rows:
        assert row.validation == pytest.approx(expected[row.config].validation)


def test_submit_template_without_command_is_rejected(tiny_model_dir, conll2003, tmp_path):
    with pytest.raises(ValueError, match="must contain"):
        run_sweep(_sweep(tiny_model_dir, conll2003, tmp_path, submit="sbatch job.sh"), trainer=CountingTrainer())


def test_probe_features_are_what_the_head_reads(tiny_model_dir, conll2003):
    import numpy as np
    import torch

    from lookright.alignment.encoder import WindowEncoder
    from lookright.data.readers import read_conll
    from lookright.inference.scoring import score_windows
    from lookright.modeling.loading import load_base
    from lookright.sweep.probe import word_features
    from lookright.unmasking import unmask

    sentences = read_conll(conll2003 / "validation.txt", label_column=3)[:12]
    from lookright.modeling.loading import Precision

    fp32 = Precision.choose("fp32", "none", "cpu")  # the check compares to 1e-4: bf16 rounds more
    model, tokenizer = load_base(str(tiny_model_dir), ["O", "B-PER", "I-PER"], precision=fp32)
    unmask(model, "01")
    encoder = WindowEncoder(tokenizer, max_length=16, stride=4)  # short windows: long sentences are split
    windows = encoder.encode([s.tokens for s in sentences])
    assert len(windows) > len(sentences)
    features = word_features(model, windows, [len(s) for s in sentences], tokenizer.pad_token_id)
    assert features.shape == (sum(len(s) for s in sentences), model.config.hidden_size)
    # the head applied to the features gives the classifier's own (stitched) log-probabilities
    with torch.no_grad():
        via_features = torch.log_softmax(model.score(torch.from_numpy(features)), -1).numpy()
    per_window = score_windows(model, windows, tokenizer.pad_token_id)
    from lookright.alignment.windows import stitch

    direct = np.concatenate([np.stack(r) for r in stitch(windows, per_window, [len(s) for s in sentences])])
    np.testing.assert_allclose(via_features, direct, atol=1e-4)
    assert isinstance(model.score, torch.nn.Linear)  # the head is back in place
    # read twice (sequence repetition): the features are the second copy's, as the scorer labels them
    twice = word_features(model, windows, [len(s) for s in sentences], tokenizer.pad_token_id, repeats=1)
    with torch.no_grad():
        via_twice = torch.log_softmax(model.score(torch.from_numpy(twice)), -1).numpy()
    per_window = score_windows(model, windows, tokenizer.pad_token_id, repeats=1)
    direct = np.concatenate([np.stack(r) for r in stitch(windows, per_window, [len(s) for s in sentences])])
    np.testing.assert_allclose(via_twice, direct, atol=1e-4)
    assert np.abs(twice - features).max() > 1e-3  # the second copy sees the first: other features


def test_the_probe_reads_features_the_way_the_resolved_method_trains(tiny_train_config, tmp_path, monkeypatch):
    from lookright.sweep import probe

    read_with = []
    real = probe.word_features

    def spy(*args):
        read_with.append(args[5])  # repeats
        return real(*args)

    monkeypatch.setattr(probe, "word_features", spy)
    for method, repeats in (("auto", 1), ("unmask", 0)):  # auto on 64 sentences: repetition + unmasking
        read_with.clear()
        scores = probe.probe_configs(tiny_train_config(tmp_path / method, method=method), ["0011"], sentences=8)
        assert [s.config for s in scores] == ["0011"] and read_with == [repeats, repeats]


def test_probe_fit_separates_separable_labels():
    import numpy as np

    from lookright.sweep.probe import fit_probe

    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, 8)) * 4
    y = rng.integers(0, 3, size=300)
    x = centres[y] + rng.normal(size=(300, 8))
    log_probs = fit_probe(x[:200], y[:200], 3)(x[200:])
    assert log_probs.shape == (100, 3)
    assert np.allclose(np.exp(log_probs).sum(1), 1, atol=1e-5)
    assert (log_probs.argmax(1) == y[200:]).mean() > 0.95


def test_probe_strategy_trains_only_the_best_by_probe_and_resumes(tiny_model_dir, conll2003, tmp_path, monkeypatch):
    exhaustive = run_sweep(_sweep(tiny_model_dir, conll2003, tmp_path / "full", keep_models=True))
    trainer = CountingTrainer()
    probe = run_sweep(_sweep(tiny_model_dir, conll2003, tmp_path / "probe", strategy="probe", eta=2,
                             probe_sentences=32), trainer=trainer)
    rows = ResultsFile(tmp_path / "probe" / "results.jsonl").rows()
    probed = [r for r in rows if r.rung == 0]
    assert [r.config for r in probed] == ["00", "01", "10", "11"]
    assert all(r.tokens == 0 and r.steps == 0 and r.validation["log_loss"] > 0 for r in probed)
    best_two = {r.config for r in sorted(probed, key=lambda r: r.validation["log_loss"])[:2]}
    assert {c for c, _ in trainer.calls} == best_two and all(f is None for _, f in trainer.calls)
    assert probe.best.config in best_two and probe.tokens == exhaustive.tokens // 2
    full = {r.config: r for r in exhaustive.rows}
    for row in probe.rows:
        if row.rung == 1:  # trained in full from scratch: the exhaustive sweep's model
            assert row.score == pytest.approx(full[row.config].score)
    summary_md = (tmp_path / "probe" / "summary.md").read_text()
    assert "probe only" in summary_md and "never trained" in summary_md

    def no_probing(*args, **kwargs):
        raise AssertionError("probed again although results.jsonl has every probe")

    monkeypatch.setattr("lookright.sweep.probe.probe_configs", no_probing)
    again = CountingTrainer()
    run_sweep(_sweep(tiny_model_dir, conll2003, tmp_path / "probe", strategy="probe", eta=2, probe_sentences=32),
              trainer=again)
    assert again.calls == []
