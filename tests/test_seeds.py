"""`--seeds` on train, sweep and compare: every seed trained, mean ± sample sd reported, selection by the mean."""

from __future__ import annotations

import json
import statistics
from dataclasses import replace
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from lookright.cli import app
from lookright.evaluation.seeds import average_scores, mean_sd, parse_seeds, score_text
from lookright.sweep import ResultsFile, SweepConfig, run_sweep
from lookright.training import TrainConfig


def test_seeds_parse_and_bad_lists_fail():
    assert parse_seeds("42, 43,44") == [42, 43, 44]
    assert parse_seeds(None) is None
    for bad, message in (("42,x", "comma-separated integers"), ("42,42", "twice"), ("", "integers")):
        with pytest.raises(ValueError, match=message):
            parse_seeds(bad)


def test_mean_and_sample_sd_of_scores():
    mean, sd = mean_sd([0.5, 0.7, 0.9])
    assert mean == pytest.approx(0.7) and sd == pytest.approx(0.2)  # n - 1 in the denominator, not n
    assert mean_sd([0.4]) == (0.4, None)
    runs = [{"metric": "strict micro F1", "score": s, "strict_f1": s, "log_loss": None} for s in (0.5, 0.7, 0.9)]
    averaged = average_scores(runs)
    assert averaged["metric"] == "strict micro F1" and averaged["log_loss"] is None
    assert averaged["score"] == pytest.approx(0.7) and averaged["sd"]["strict_f1"] == pytest.approx(0.2)
    assert averaged["per_seed"]["score"] == [0.5, 0.7, 0.9]
    assert score_text(averaged) == "0.7000 ± 0.2000 (0.5000, 0.7000, 0.9000)"
    assert score_text(runs[0]) == "0.5000"


class ScriptedTrainer:
    """Returns a validation score per (config, seed) without training: selection logic only."""

    def __init__(self, scores: dict[tuple[str, int], float]) -> None:
        self.scores = scores
        self.calls: list[tuple[str, int]] = []

    def __call__(self, cfg, console=None):
        self.calls.append((cfg.unmask, cfg.seed))
        score = self.scores[(cfg.unmask, cfg.seed)]
        report = {"headline": {"name": "strict micro F1", "value": score}, "strict": {"micro": {"f1": score}},
                  "lenient": {"micro": {"f1": score}}, "token_accuracy": 0.9, "log_loss": 1.0 - score}
        return SimpleNamespace(steps=4, total_steps=4, tokens_seen=100, train_seconds=1.0, tokens_per_second=100.0,
                               peak_memory_mb=1.0, validation=SimpleNamespace(to_dict=lambda: report), test=None)


# validation score per (config, seed): 00 has the single best run (0.9) but the worse mean (0.5 vs 0.6)
SCORES = {("00", 1): 0.9, ("00", 2): 0.1, ("11", 1): 0.6, ("11", 2): 0.6,
          ("01", 1): 0.2, ("01", 2): 0.3, ("10", 1): 0.3, ("10", 2): 0.2}


def _base(tiny_model_dir, conll2003) -> TrainConfig:
    return TrainConfig(train=str(conll2003 / "train.txt"), validation=str(conll2003 / "validation.txt"),
                       model=str(tiny_model_dir), label_column=3, max_train_sentences=16, max_steps=4)


def test_sweep_trains_every_seed_and_picks_the_best_mean_not_the_best_run(tiny_model_dir, conll2003, tmp_path):
    base, scores = _base(tiny_model_dir, conll2003), SCORES
    trainer = ScriptedTrainer(scores)
    sweep = SweepConfig(base=base, output=str(tmp_path), groups=2, seeds=[1, 2], keep_models=True)
    summary = run_sweep(sweep, trainer=trainer)
    assert sorted(trainer.calls) == sorted(scores)
    assert summary.best.config == "11" and summary.best.seeds == [1, 2]
    by_config = {r.config: r for r in summary.rows}
    assert by_config["00"].score == pytest.approx(0.5)
    assert by_config["00"].validation["sd"]["score"] == pytest.approx(statistics.stdev([0.9, 0.1]))
    rows = ResultsFile(tmp_path / "results.jsonl").rows()
    assert sorted((r.config, r.seed) for r in rows) == sorted(scores)  # every seed's run is kept
    assert {r.model_dir for r in rows} >= {str(tmp_path / "runs" / "00" / "seed-1"), str(tmp_path / "runs" / "00" / "seed-2")}
    text = (tmp_path / "summary.md").read_text()
    assert "seeds 1, 2" in text and "0.5000 ± 0.5657 (0.9000, 0.1000)" in text
    assert json.loads((tmp_path / "best.json").read_text())["seeds"] == [1, 2]

    lines = (tmp_path / "results.jsonl").read_text().splitlines()
    (tmp_path / "results.jsonl").write_text("\n".join(lines[:-1]) + "\n")  # as if the last seed was interrupted
    again = ScriptedTrainer(scores)
    run_sweep(SweepConfig(base=base, output=str(tmp_path), groups=2, seeds=[1, 2], keep_models=True), trainer=again)
    assert again.calls == [(json.loads(lines[-1])["config"], json.loads(lines[-1])["seed"])]


def test_a_row_written_before_seeds_were_recorded_counts_as_the_base_seed_only(tiny_model_dir, conll2003, tmp_path):
    base = replace(_base(tiny_model_dir, conll2003), seed=1)
    run_sweep(SweepConfig(base=base, output=str(tmp_path), groups=2, configs=["00"]), trainer=ScriptedTrainer(SCORES))
    row = json.loads((tmp_path / "results.jsonl").read_text())
    del row["seed"], row["seeds"]  # as an older version wrote it
    (tmp_path / "results.jsonl").write_text(json.dumps(row) + "\n")
    again = ScriptedTrainer(SCORES)
    run_sweep(SweepConfig(base=base, output=str(tmp_path), groups=2, configs=["00"], seeds=[1, 2]), trainer=again)
    assert again.calls == [("00", 2)]  # the old row is seed 1's run, not every seed's


def test_a_sweep_run_again_with_another_single_seed_trains_that_seed(tiny_model_dir, conll2003, tmp_path):
    """Seed 1's finished run is not seed 2's result, and its kept model is not in seed 2's way."""
    base = _base(tiny_model_dir, conll2003)
    run_sweep(SweepConfig(base=base, output=str(tmp_path), groups=2, configs=["00"], seeds=[1]),
              trainer=ScriptedTrainer(SCORES))
    kept = tmp_path / "runs" / "00"
    kept.mkdir(parents=True)  # the scripted trainer writes no model: record seed 1's run as training would
    (kept / "lookright.run.json").write_text(json.dumps({"config": replace(base, seed=1).to_dict()}, default=str))
    again = ScriptedTrainer(SCORES)
    summary = run_sweep(SweepConfig(base=base, output=str(tmp_path), groups=2, configs=["00"], seeds=[2]),
                        trainer=again)
    assert again.calls == [("00", 2)]
    assert summary.best.score == pytest.approx(SCORES[("00", 2)])
    assert ResultsFile(tmp_path / "results.jsonl").rows()[-1].model_dir == str(kept / "seed-2")
    repeat = ScriptedTrainer(SCORES)
    run_sweep(SweepConfig(base=base, output=str(tmp_path), groups=2, configs=["00"], seeds=[1, 2]), trainer=repeat)
    assert repeat.calls == []  # both seeds measured


def test_successive_halving_ranks_rungs_by_the_mean_over_seeds(tiny_model_dir, conll2003, tmp_path):
    base, scores = _base(tiny_model_dir, conll2003), SCORES
    trainer = ScriptedTrainer(scores)
    sweep = SweepConfig(base=base, output=str(tmp_path), groups=2, seeds=[1, 2], strategy="successive-halving",
                        eta=4, min_fraction=0.5, rung_metric="score", keep_models=True)
    summary = run_sweep(sweep, trainer=trainer)
    assert trainer.calls[8:] == [("11", 1), ("11", 2)]  # rung 1: only the best mean continues, with both seeds
    assert summary.best.config == "11"


def test_train_with_seeds_trains_one_model_per_seed_and_reports_the_spread(tiny_model_dir, conll2003, tmp_path):
    output = tmp_path / "run"
    args = ["train", "--train", str(conll2003 / "train.txt"), "--validation", str(conll2003 / "validation.txt"),
            "--label-column", "3", "--model", str(tiny_model_dir), "--max-train-sentences", "24",
            "--max-validation-sentences", "8", "--max-steps", "2", "--batch-size", "8", "--seeds", "3,4",
            "--output", str(output)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output + repr(result.exception)
    summary = json.loads((output / "seeds.json").read_text())
    assert summary["seeds"] == [3, 4]
    for run in summary["runs"]:
        card = json.loads((output / f"seed-{run['seed']}" / "lookright.json").read_text())
        assert card["training"]["config"]["seed"] == run["seed"]
    per_seed = [run["validation"]["score"] for run in summary["runs"]]
    assert summary["validation"]["score"] == pytest.approx(sum(per_seed) / 2)
    assert summary["validation"]["sd"]["score"] == pytest.approx(statistics.stdev(per_seed))
    assert "mean ± sd" in (output / "seeds.md").read_text()

    again = CliRunner().invoke(app, args)  # both seeds finished: nothing retrained
    assert again.exit_code == 0
    assert (output / "seeds.jsonl").read_text().count("\n") == 2
    both = CliRunner().invoke(app, [*args, "--seed", "5"])
    assert both.exit_code != 0 and "--seed or --seeds" in both.output


def test_compare_with_seeds_reports_each_seed_and_the_mean(tiny_model_dir, conll2003, tmp_path):
    lines = (conll2003 / "test.txt").read_text().split("\n\n")[:24]
    test_file = tmp_path / "test.txt"
    test_file.write_text("\n\n".join(lines) + "\n")
    output = tmp_path / "cmp"
    args = ["compare", "--train", str(conll2003 / "train.txt"), "--validation", str(conll2003 / "validation.txt"),
            "--test", str(test_file), "--label-column", "3", "--model", str(tiny_model_dir),
            "--methods", "causal", "--max-train-sentences", "24", "--max-validation-sentences", "8",
            "--max-steps", "2", "--batch-size", "8", "--seeds", "5,6", "--output", str(output)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output + repr(result.exception)
    rows = [json.loads(line) for line in (output / "results.jsonl").read_text().splitlines()]
    assert sorted((r["method"], r["seed"]) for r in rows) == [("causal", 5), ("causal", 6)]
    assert {r["model_dir"] for r in rows} == {str(output / "causal" / f"seed-{s}") for s in (5, 6)}
    saved = json.loads((output / "comparison.json").read_text())
    assert [r["method"] for r in saved["rows"]] == ["causal"]
    row, each = saved["rows"][0], [r["test"]["strict_f1"] for r in rows]
    assert row["seeds"] == [5, 6] and row["test"]["strict_f1"] == pytest.approx(sum(each) / 2)
    assert row["test"]["per_seed"]["strict_f1"] == each
    assert row["test"]["sd"]["strict_f1"] == pytest.approx(statistics.stdev(each))
    assert "seeds 5, 6" in saved["setup"] and " ± " in (output / "comparison.md").read_text()


def test_compare_grown_by_a_seed_later_trains_it_beside_the_first(tiny_model_dir, conll2003, tmp_path):
    """`--seeds 5` then `--seeds 6` into one output: the kept seed-5 model is not in the way of seed 6."""
    output, test_file = tmp_path / "cmp", tmp_path / "test.txt"
    test_file.write_text("\n\n".join((conll2003 / "test.txt").read_text().split("\n\n")[:8]) + "\n")
    args = ["compare", "--train", str(conll2003 / "train.txt"), "--validation", str(conll2003 / "validation.txt"),
            "--test", str(test_file), "--label-column", "3", "--model", str(tiny_model_dir), "--methods", "causal",
            "--max-train-sentences", "16", "--max-validation-sentences", "8", "--max-steps", "2",
            "--batch-size", "8", "--output", str(output)]
    for seed in ("5", "6"):
        result = CliRunner().invoke(app, [*args, "--seeds", seed])
        assert result.exit_code == 0, result.output + repr(result.exception)
    rows = [json.loads(line) for line in (output / "results.jsonl").read_text().splitlines()]
    assert [(r["seed"], r["model_dir"]) for r in rows] == [(5, str(output / "causal")),
                                                           (6, str(output / "causal" / "seed-6"))]
    both = CliRunner().invoke(app, [*args, "--seeds", "5,6"])  # both measured: nothing trains again
    assert both.exit_code == 0, both.output + repr(both.exception)
    assert (output / "results.jsonl").read_text().count("\n") == 2
    assert json.loads((output / "comparison.json").read_text())["rows"][0]["seeds"] == [5, 6]
