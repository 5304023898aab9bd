"""Training -> saved directory -> reload -> evaluate/predict, on a tiny random Llama (mechanics only)."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lookright.cli import app
from lookright.errors import DataError, LookrightError
from lookright.inference import Tagger
from lookright.modeling.artifact import ModelCard
from lookright.training import TrainConfig, train
from lookright.unmasking import check_attention, current_unmasking


@pytest.fixture(scope="module")
def trained(trained_run):
    """The session's tiny LoRA run (conftest), trained with the settings of `tiny_train_config`."""
    return trained_run


def test_training_writes_a_complete_model_directory(trained):
    names = {p.name for p in trained.output.iterdir()}
    assert {"lookright.json", "config.json", "adapter_config.json", "adapter_model.safetensors", "tokenizer.json"} <= names
    card = ModelCard.read(trained.output)
    assert card.labels[0] == "O" and "B-PER" in card.labels and "I-MISC" in card.labels
    assert card.unmask == "0011" and card.method == "unmask" and card.finetune == "lora" and card.scheme == "IOB2"
    assert card.training["steps"] == 6
    config = json.loads((trained.output / "config.json").read_text())
    assert config["lookright_unmask"]["layers"] == [2, 3]
    assert config["id2label"]["0"] == "O"


def test_best_checkpoint_is_selected_on_validation(trained):
    card = ModelCard.read(trained.output)
    state = json.loads((trained.output / "checkpoints" / "checkpoint-6" / "trainer_state.json").read_text())
    evals = [e["eval_f1"] for e in state["log_history"] if "eval_f1" in e]
    assert len(evals) == 2
    assert state["best_metric"] == max(evals)
    # the first of equal scores is kept, except while F1 is 0: then the later checkpoint (more training)
    first_kept = evals[0] > evals[1] or evals[0] == evals[1] > 0
    assert card.training["best_checkpoint"].endswith("checkpoint-" + str(3 if first_kept else 6))


def test_reloaded_model_reproduces_validation_scores_exactly(trained, conll2003):
    """The trained head must survive save/reload (a classic peft pitfall) and unmasking be re-applied."""
    tagger = Tagger.load(trained.output)
    assert current_unmasking(tagger.model).layers == (2, 3)
    assert check_attention(tagger.model).sees_right == (2, 3)
    from lookright.data.readers import read_data

    sentences = read_data(conll2003 / "validation.txt", label_column=3)[:24]
    report = tagger.evaluate(sentences)
    assert report.to_dict()["strict"] == trained.validation.to_dict()["strict"]
    assert report.token_accuracy == trained.validation.token_accuracy


def test_tagger_returns_words_and_spans_with_exact_character_offsets(trained):
    tagger = Tagger.load(trained.output)
    text = "EU  rejects\tGerman call,\nsays Zürich's café 😀 ."
    tagged = tagger(text)
    assert [w.text for w in tagged.words] == [text[w.start : w.end] for w in tagged.words]
    assert "".join(w.text for w in tagged.words) == "".join(text.split())
    for span in tagged.spans:
        assert span.text == text[span.start : span.end] and span.label in {"PER", "ORG", "LOC", "MISC"}
        assert 0 <= span.score <= 1
    many = tagger.predict([text, "Short one .", ["Pre", "tokenised", "input"]])
    assert [len(t.words) for t in many] == [len(tagged.words), 3, 3]
    assert many[0].to_dict() == tagged.to_dict()


def test_long_inputs_are_windowed_and_every_word_is_labelled(trained):
    tagger = Tagger.load(trained.output)
    words = ("The European Commission said on Thursday it disagreed with German advice ." * 30).split()
    labels = tagger.tag_words([words])[0]
    assert len(labels) == len(words) > 300
    assert all(label in tagger.labels for label in labels)


def test_unknown_label_at_evaluation_names_file_and_line(trained, tmp_path):
    bad = tmp_path / "bad.conll"
    bad.write_text("EU NNP B-NP B-ORG\nrejects VBZ B-VP O\n\nPeter NNP B-NP B-CHEF\n")
    tagger = Tagger.load(trained.output)
    with pytest.raises(DataError, match=r"bad.conll:4.*'B-CHEF'.*never saw"):
        tagger.evaluate(bad, label_column=3)


def test_full_fine_tuning_saves_and_reloads_full_weights(tiny_train_config, conll2003, tmp_path):
    result = train(tiny_train_config(tmp_path, finetune="full", max_steps=2, eval_every=2, unmask="1000"))
    assert (tmp_path / "model.safetensors").is_file() and not (tmp_path / "adapter_config.json").exists()
    tagger = Tagger.load(tmp_path)
    assert check_attention(tagger.model).sees_right == (0,)
    report = tagger.evaluate(str(conll2003 / "validation.txt"), label_column=3)
    assert report.counts.sentences == 3250
    assert result.validation is not None


def test_training_resumes_from_the_last_checkpoint(tiny_train_config, tmp_path):
    train(tiny_train_config(tmp_path, max_steps=6, eval_every=3, stop_after_fraction=0.5))  # paused at step 3
    resumed = train(tiny_train_config(tmp_path, max_steps=6, eval_every=3, resume=True))
    assert resumed.steps == 6
    state = json.loads((tmp_path / "checkpoints" / "checkpoint-6" / "trainer_state.json").read_text())
    assert [e["step"] for e in state["log_history"] if "eval_f1" in e] == [3, 6]


def test_a_checkpoint_written_with_other_stateful_callbacks_resumes(tiny_train_config, tmp_path):
    # Checkpoints written before early stopping became EarlyStoppingAfterFirstScore name transformers' own
    # EarlyStoppingCallback; transformers then failed its first save with a KeyError.
    train(tiny_train_config(tmp_path, max_steps=6, eval_every=3, stop_after_fraction=0.5))
    state_file = tmp_path / "checkpoints" / "checkpoint-3" / "trainer_state.json"
    state = json.loads(state_file.read_text())
    callbacks = state["stateful_callbacks"]
    callbacks["EarlyStoppingCallback"] = callbacks.pop("EarlyStoppingAfterFirstScore")
    state_file.write_text(json.dumps(state))
    resumed = train(tiny_train_config(tmp_path, max_steps=6, eval_every=3, resume=True))
    assert resumed.steps == 6
    state = json.loads((tmp_path / "checkpoints" / "checkpoint-6" / "trainer_state.json").read_text())
    assert "EarlyStoppingAfterFirstScore" in state["stateful_callbacks"]


def test_a_checkpoint_cut_off_while_saving_is_skipped_and_the_last_complete_one_resumes(tiny_train_config, tmp_path):
    train(tiny_train_config(tmp_path, max_steps=6, eval_every=3, stop_after_fraction=0.5))  # checkpoint-3
    checkpoints = tmp_path / "checkpoints"
    shutil.copytree(checkpoints / "checkpoint-3", checkpoints / "checkpoint-6")
    (checkpoints / "checkpoint-6" / "trainer_state.json").unlink()  # a crash before transformers wrote it
    resumed = train(tiny_train_config(tmp_path, max_steps=6, eval_every=3, resume=True))
    assert resumed.steps == 6
    state = json.loads((checkpoints / "checkpoint-6" / "trainer_state.json").read_text())
    assert [e["step"] for e in state["log_history"] if "eval_f1" in e] == [3, 6]


def test_a_disk_full_while_saving_the_model_names_the_last_checkpoint_and_resume_finishes(
    tiny_train_config, tmp_path, monkeypatch
):
    import errno

    import torch

    import lookright.training.trainer as trainer_module

    save, weights = trainer_module.save_model_dir, []

    def full(model, tokenizer, card, output):
        weights.append({k: v.detach().clone() for k, v in model.state_dict().items()})
        raise OSError(errno.ENOSPC, "No space left on device", str(Path(output) / "model.safetensors"))

    monkeypatch.setattr(trainer_module, "save_model_dir", full)
    with pytest.raises(LookrightError) as failed:
        train(tiny_train_config(tmp_path))
    message = str(failed.value)
    assert "model.safetensors: the disk is full" in message and "MiB free there now" in message
    assert f"{tmp_path / 'checkpoints' / 'checkpoint-6'}" in message and "with --resume" in message

    def saved(model, *args):
        weights.append({k: v.detach().clone() for k, v in model.state_dict().items()})
        save(model, *args)

    monkeypatch.setattr(trainer_module, "save_model_dir", saved)
    resumed = train(tiny_train_config(tmp_path, resume=True))  # all 6 steps were done: only the save is redone
    assert resumed.steps == 6 and resumed.validation is not None
    before, after = weights
    assert before.keys() == after.keys() and all(torch.equal(before[k], after[k]) for k in before)
    assert Tagger.load(tmp_path)("Peter visited Brussels .").words[2].text == "Brussels"


def test_a_checkpoint_cut_off_by_a_full_disk_is_named_and_the_run_resumes_before_it(
    tiny_train_config, tmp_path, monkeypatch
):
    from lookright.training.loop import LookrightTrainer

    save = LookrightTrainer._save_optimizer_and_scheduler

    def full_at_step_6(self, output_dir):
        if self.state.global_step == 6:  # safetensors' own error type, with the OS message in its text
            raise RuntimeError("Error while serializing: I/O error: No space left on device (os error 28)")
        save(self, output_dir)

    monkeypatch.setattr(LookrightTrainer, "_save_optimizer_and_scheduler", full_at_step_6)
    with pytest.raises(LookrightError, match="the disk is full") as failed:
        train(tiny_train_config(tmp_path))
    assert f"last complete checkpoint is {tmp_path / 'checkpoints' / 'checkpoint-3'}:" in str(failed.value)
    monkeypatch.undo()
    resumed = train(tiny_train_config(tmp_path, resume=True))
    assert resumed.steps == 6
    state = json.loads((tmp_path / "checkpoints" / "checkpoint-6" / "trainer_state.json").read_text())
    assert [e["step"] for e in state["log_history"] if "eval_f1" in e] == [3, 6]


def test_a_full_disk_is_told_apart_from_other_failures(tmp_path, monkeypatch):
    import errno

    from lookright import outputs
    from lookright.outputs import is_disk_full
    from lookright.training.rundir import last_checkpoint

    torch_save = RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 576 vs 534")
    monkeypatch.setattr(outputs, "free_bytes", lambda path: 10 * 2**30)
    assert not is_disk_full(torch_save, tmp_path)  # plenty of space: some other fault
    assert not is_disk_full(OSError(errno.EACCES, "Permission denied"), tmp_path)
    assert is_disk_full(OSError(errno.EDQUOT, "Disk quota exceeded"), tmp_path)
    wrapped = ValueError("saving failed")
    wrapped.__cause__ = OSError(errno.ENOSPC, "No space left on device")
    assert is_disk_full(wrapped, tmp_path)
    monkeypatch.setattr(outputs, "free_bytes", lambda path: 2**20)
    assert is_disk_full(torch_save, tmp_path)  # torch.save says only this when the disk fills
    for step, state in ((3, "{}"), (6, '{"global_step": 6, "log_hi')):  # checkpoint-6's state was cut off
        (tmp_path / "checkpoints" / f"checkpoint-{step}").mkdir(parents=True)
        (tmp_path / "checkpoints" / f"checkpoint-{step}" / "trainer_state.json").write_text(state)
    checkpoints = tmp_path / "checkpoints"
    assert last_checkpoint(tmp_path) == (checkpoints / "checkpoint-3", [checkpoints / "checkpoint-6"])


def test_a_run_that_would_fill_the_disk_is_warned_of_before_its_first_step(tiny_train_config, tmp_path, monkeypatch):
    from io import StringIO

    from rich.console import Console

    from lookright.training import disk

    monkeypatch.setattr(disk, "free_bytes", lambda path: 2**10)  # the tiny run writes some 100 KiB
    log = StringIO()
    train(tiny_train_config(tmp_path / "small"), console=Console(file=log, width=40))
    lines = log.getvalue().splitlines()
    warned = [n for n, line in enumerate(lines) if "1 KiB free on its disk, and this run writes up to" in line]
    assert warned and "it would stop at a full disk" in lines[warned[0]]  # one line, however narrow the console
    assert warned[0] < next(n for n, line in enumerate(lines) if line.startswith("step 3/6"))
    monkeypatch.undo()
    roomy = StringIO()
    train(tiny_train_config(tmp_path / "roomy"), console=Console(file=roomy, width=40))
    assert "full disk" not in roomy.getvalue()


def test_what_a_run_writes_counts_the_optimizer_state_and_of_a_lora_run_only_what_it_trains():
    from peft import LoraConfig, get_peft_model
    from torch import nn

    from lookright.training.disk import checkpoints_at_once, run_bytes

    full = nn.Sequential(nn.Linear(10, 10), nn.Linear(10, 2))  # 132 fp32 weights, all trained
    assert run_bytes(full, 3) == 3 * (132 * 4 + 2 * 4 * 132) + 132 * 4
    lora = get_peft_model(nn.Sequential(nn.Linear(10, 10), nn.Linear(10, 2)), LoraConfig(r=2, target_modules=["0"]))
    assert sum(p.numel() for p in lora.parameters() if p.requires_grad) == 40  # A 2x10, B 10x2
    assert run_bytes(lora, 2) == 2 * (40 * 4 + 2 * 4 * 40) + 40 * 4
    # transformers writes a checkpoint before it deletes the oldest one
    assert (checkpoints_at_once(5, 2), checkpoints_at_once(2, 2), checkpoints_at_once(5, None)) == (3, 2, 5)


def test_only_cut_off_checkpoints_count_as_none(tiny_train_config, tmp_path):
    from lookright.training.rundir import has_checkpoint

    (tmp_path / "checkpoints" / "checkpoint-4").mkdir(parents=True)
    assert not has_checkpoint(tmp_path)
    with pytest.raises(LookrightError, match="no checkpoint found"):
        train(tiny_train_config(tmp_path, resume=True))


def test_epochs_left_unset_grow_on_a_small_training_set_and_the_same_command_resumes(tiny_train_config, tmp_path):
    from lookright.training.config import auto_epochs
    from lookright.training.rundir import RUN_FILE

    assert [auto_epochs(n) for n in (250, 500, 1000, 14041)] == [12.0, 6.0, 3.0, 3.0]
    assert auto_epochs(251) == 12.0  # whole passes, at least 3,000 sentences
    settings = {"max_steps": -1, "epochs": None, "max_train_sentences": 40, "batch_size": 8, "eval_every": 2}
    train(tiny_train_config(tmp_path, stop_after_fraction=0.01, **settings))  # 75 epochs x 5 steps; paused at 4
    state = json.loads((tmp_path / "checkpoints" / "checkpoint-4" / "trainer_state.json").read_text())
    assert (state["num_train_epochs"], state["max_steps"]) == (75, 375)
    assert json.loads((tmp_path / RUN_FILE).read_text())["config"]["epochs"] is None  # as asked
    train(tiny_train_config(tmp_path, stop_after_fraction=0.02, resume=True, **settings))
    assert (tmp_path / "checkpoints" / "checkpoint-8").is_dir()
    with pytest.raises(ValueError, match="epochs must be positive"):
        tiny_train_config(tmp_path, epochs=0).validate()


def test_resume_without_checkpoint_is_a_clear_error(tiny_train_config, tmp_path):
    with pytest.raises(LookrightError, match="no checkpoint found"):
        train(tiny_train_config(tmp_path, resume=True))


def _fingerprint(directory: Path) -> dict[str, str]:
    """sha256 of every file under `directory`, by relative path."""
    return {str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(directory.rglob("*")) if p.is_file()}


def test_another_runs_output_directory_is_refused_and_left_byte_identical(trained, tiny_train_config):
    before = _fingerprint(trained.output)
    assert any(name.startswith("checkpoints/") for name in before)
    for resume in (False, True):  # a new run there, and --resume of its checkpoints with other settings
        with pytest.raises(LookrightError) as refused:
            train(tiny_train_config(trained.output, seed=7, resume=resume))
        message = str(refused.value)
        assert str(trained.output) in message and "seed: 42 -> 7" in message and "--overwrite" in message
        assert message.startswith("--resume") == resume
    with pytest.raises(LookrightError, match=r"already holds this run.*--resume.*--overwrite"):
        train(tiny_train_config(trained.output))  # the same run again, without --resume: work would be lost
    assert _fingerprint(trained.output) == before


def test_a_crashed_runs_settings_are_recorded_before_the_first_step(tiny_train_config, tmp_path):
    from lookright.training.rundir import RUN_FILE, claim_output

    claim_output(tiny_train_config(tmp_path, lora_r=4))  # what a run writes when its first step starts
    assert json.loads((tmp_path / RUN_FILE).read_text())["config"]["lora_r"] == 4
    with pytest.raises(LookrightError, match=r"another run is in .*lora_r: 4 -> 16"):
        train(tiny_train_config(tmp_path))


def test_overwrite_clears_the_old_run_so_no_stale_checkpoint_survives(trained, tiny_train_config, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(trained.output, copy)
    (copy / "train.log").write_text("a launcher's log\n")
    train(tiny_train_config(copy, seed=7, max_steps=2, eval_every=2, overwrite=True))
    assert sorted(p.name for p in (copy / "checkpoints").iterdir()) == ["checkpoint-2"]
    card = ModelCard.read(copy)
    assert card.training["steps"] == 2 and card.training["config"]["seed"] == 7
    assert (copy / "train.log").read_text() == "a launcher's log\n"
    with pytest.raises(LookrightError, match="seed: 7 -> 42"):  # the replaced run's settings are gone with it
        train(tiny_train_config(copy, max_steps=2, eval_every=2, resume=True))


def test_cli_train_evaluate_predict(tiny_model_dir, conll2003, tmp_path):
    runner = CliRunner()
    out = tmp_path / "cli-model"
    result = runner.invoke(app, [
        "train", "--train", str(conll2003 / "train.txt"), "--validation", str(conll2003 / "validation.txt"),
        "--label-column", "3", "--model", str(tiny_model_dir), "--output", str(out), "--max-train-sentences", "32",
        "--max-validation-sentences", "16", "--max-steps", "2", "--eval-every", "2", "--unmask", "0001",
    ])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout[result.stdout.index("{"):])["steps"] == 2
    report_path = tmp_path / "report.json"
    result = runner.invoke(app, ["evaluate", "--model", str(out), "--data", str(conll2003 / "test.txt"), "-o", str(report_path)])
    assert result.exit_code == 0, result.output
    report = json.loads(report_path.read_text())
    assert report["counts"]["sentences"] == 3453 and "lenient" in report and "confusion" in report
    result = runner.invoke(app, ["predict", "--model", str(out), "EU rejects German call ."])
    assert result.exit_code == 0, result.output
    line = json.loads(result.stdout.strip().splitlines()[-1])
    assert [w["text"] for w in line["words"]] == ["EU", "rejects", "German", "call", "."]


def test_config_file_and_flags_combine(tmp_path):
    path = tmp_path / "train.toml"
    path.write_text('[train]\ntrain = "a.conll"\nunmask = "0110"\nlearning_rate = 0.0005\n')
    cfg = TrainConfig.from_file(path, learning_rate=0.001)
    assert (cfg.train, cfg.unmask, cfg.learning_rate) == ("a.conll", "0110", 0.001)
    path.write_text('train = "a.conll"\nlearning_rat = 1\n')
    with pytest.raises(ValueError, match="unknown settings.*learning_rat"):
        TrainConfig.from_file(path)


def test_a_config_file_with_the_retired_extra_field_still_reads(tmp_path):
    path = tmp_path / "train_config.json"  # as sweeps and comparisons wrote it before `extra` was dropped
    path.write_text(json.dumps({"train": "a.conll", "lora_r": 4, "extra": {}}))
    assert (TrainConfig.from_file(path).train, TrainConfig.from_file(path).lora_r) == ("a.conll", 4)
    path.write_text(json.dumps({"train": "a.conll", "extra": {"x": 1}}))  # one that held something is not dropped
    with pytest.raises(ValueError, match=r"unknown settings \['extra'\]"):
        TrainConfig.from_file(path)


def test_set_reaches_any_setting_between_config_file_and_flags(tmp_path):
    """`--set KEY=VALUE` gives train/sweep/compare every TrainConfig field without a flag for each."""
    from lookright.cli.common import train_config

    path = tmp_path / "train.toml"
    path.write_text('train = "a.conll"\nlora_r = 4\nmax_length = 64\n')
    settings = ["lora_r=16", "lora-targets=attention", "max_length=200", "select_best=false", "lora_dropout=0.05"]
    cfg = train_config(path, {"max_length": 96}, settings)
    assert (cfg.lora_r, cfg.lora_targets, cfg.max_length, cfg.select_best, cfg.lora_dropout) == (
        16, "attention", 96, False, 0.05
    )
    with pytest.raises(ValueError, match="unknown setting 'lora_rr'; did you mean lora_r"):
        TrainConfig.parse_settings(["lora_rr=3"])
    with pytest.raises(ValueError, match="expected KEY=VALUE"):
        TrainConfig.parse_settings(["lora_r"])
    result = CliRunner().invoke(app, ["sweep", "--train", "a.conll", "--set", "max_lenght=3", "-o", str(tmp_path)])
    assert isinstance(result.exception, ValueError) and "did you mean max_length" in str(result.exception)
    assert not (tmp_path / "results.jsonl").exists()


def test_invalid_unmask_config_fails_before_anything_is_loaded(tmp_path):
    with pytest.raises(ValueError, match="only '0'.*'1'"):
        train(TrainConfig(train=str(tmp_path / "missing.conll"), unmask="0021"))
    with pytest.raises(ValueError, match="precision must be auto, fp32, bf16 or fp16, not 'bf17'"):
        train(TrainConfig(train=str(tmp_path / "missing.conll"), precision="bf17"))


def test_validation_can_be_held_out_and_labels_taken_from_the_full_file(tiny_model_dir, conll2000, tmp_path):
    """CoNLL-2000 has no validation split; a 16-sentence slice does not contain every chunk type."""
    cfg = TrainConfig(
        train=str(conll2000 / "train.txt"),
        test=str(conll2000 / "test.txt"),
        model=str(tiny_model_dir),
        label_column=2,
        validation_holdout=40,
        max_train_sentences=16,
        labels_from=str(conll2000 / "train.txt"),
        max_steps=2,
        batch_size=8,
        output=str(tmp_path),
    )
    result = train(cfg)
    card = ModelCard.read(tmp_path)
    assert card.training["train_sentences"] == 16 and card.training["validation_sentences"] == 40
    assert {"B-UCP", "B-LST", "B-CONJP"} <= set(card.labels)
    assert result.test.counts.sentences == 2012
    with pytest.raises(ValueError, match="either a validation file or validation_holdout"):
        train(TrainConfig(train=cfg.train, validation=cfg.train, validation_holdout=5, output=str(tmp_path)))


def test_bf16_training_on_cpu_scores_and_reloads_in_bf16(tiny_train_config, conll2003, tmp_path):
    """bf16 on a CPU (several times faster matmuls where the CPU has bf16 units): the fp32 adapters
    and head train under autocast, evaluation runs the merged model in bf16, and a reload scores it
    the same way, so the recorded validation scores are reproduced exactly."""
    import torch

    from lookright.data.readers import read_data

    result = train(tiny_train_config(tmp_path / "bf16", precision="bf16", max_steps=3, eval_every=3))
    card = ModelCard.read(result.output)
    assert card.training["precision"] == str(torch.bfloat16)
    tagger = Tagger.load(result.output)
    assert {p.dtype for p in tagger.model.parameters()} == {torch.bfloat16}
    assert check_attention(tagger.model).sees_right == (2, 3)
    report = tagger.evaluate(read_data(conll2003 / "validation.txt", label_column=3)[:24])
    assert report.to_dict()["strict"] == result.validation.to_dict()["strict"]
    assert report.token_accuracy == result.validation.token_accuracy
    assert Tagger.load(result.output, precision="fp32").model.dtype == torch.float32
    with pytest.raises(LookrightError, match="unknown precision 'bf17'"):
        Tagger.load(result.output, precision="bf17")
