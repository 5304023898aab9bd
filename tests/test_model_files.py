"""Damaged model files and unwritable outputs: one `error:` line naming the file, exit code 2, nothing lost.

Each case damages one file of a copy of the session's trained directory (LoRA) or of its merged
export (full weights), runs the real CLI entry point (`lookright.cli.main`, what the console script
calls) and checks the output is a single error line that names the file, with no traceback, and
that the failed command changed nothing in the directory.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
from pathlib import Path

import pytest

from lookright.cli import main
from lookright.errors import ModelError
from lookright.modeling.artifact import ModelCard


def run_cli(args: list[str], capsys, monkeypatch) -> tuple[int, str]:
    """Run `lookright ARGS` in-process through `main()`; its exit code and everything it printed."""
    monkeypatch.setattr(sys, "argv", ["lookright", *map(str, args)])
    with pytest.raises(SystemExit) as exit_info:
        main()
    captured = capsys.readouterr()
    return exit_info.value.code, captured.out + captured.err


def assert_one_error_line(output: str, names: Path | str) -> str:
    lines = [line for line in output.splitlines() if line.strip()]
    assert "Traceback" not in output, output
    assert len(lines) == 1 and lines[0].startswith("error: "), output
    assert str(names) in lines[0], output
    return lines[0]


def snapshot(directory: Path) -> dict[str, str]:
    return {str(p.relative_to(directory)): hashlib.sha1(p.read_bytes()).hexdigest()
            for p in sorted(directory.rglob("*")) if p.is_file()}


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def empty(path: Path) -> None:
    path.write_bytes(b"")


def garble(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[:16] = b"\x00\xff" * 8
    path.write_bytes(bytes(data))


def remove(path: Path) -> None:
    path.unlink()


DAMAGES = [
    ("adapter_model.safetensors", truncate, "truncated or corrupt safetensors file"),
    ("adapter_model.safetensors", empty, "truncated or corrupt safetensors file"),
    ("adapter_model.safetensors", garble, "truncated or corrupt safetensors file"),
    ("adapter_model.safetensors", remove, "missing"),
    ("lookright.json", truncate, "truncated or corrupt JSON"),
    ("lookright.json", garble, "not a UTF-8 JSON file"),
    ("config.json", truncate, "truncated or corrupt JSON"),
    ("config.json", remove, "missing"),
    ("adapter_config.json", empty, "empty file"),
    ("adapter_config.json", remove, "missing"),
    ("tokenizer.json", truncate, "truncated or corrupt JSON"),
    ("tokenizer.json", remove, "missing"),
]


@pytest.fixture
def model_copy(trained_dir, tmp_path) -> Path:
    """The trained directory without its checkpoints (not read when loading), safe to damage."""
    return Path(shutil.copytree(trained_dir, tmp_path / "model", ignore=shutil.ignore_patterns("checkpoints")))


def command(name: str, model: Path, tmp_path: Path, conll2003: Path) -> list:
    return {
        "predict": ["predict", "--model", model, "EU rejects German call ."],
        "evaluate": ["evaluate", "--model", model, "--data", conll2003 / "test.txt"],
        "serve": ["serve", "--model", model, "--port", "0"],
        "export": ["export", "--model", model, "--output", tmp_path / "exported"],
    }[name]


@pytest.mark.parametrize("name, damage, problem", DAMAGES, ids=[f"{n}-{d.__name__}" for n, d, _ in DAMAGES])
@pytest.mark.parametrize("cmd", ["predict", "evaluate", "serve", "export"])
def test_a_damaged_model_file_is_one_error_line_naming_it(
    cmd, name, damage, problem, model_copy, tmp_path, conll2003, capsys, monkeypatch
):
    damage(model_copy / name)
    before = snapshot(model_copy)
    code, output = run_cli(command(cmd, model_copy, tmp_path, conll2003), capsys, monkeypatch)
    assert code == 2
    line = assert_one_error_line(output, model_copy / name)
    assert problem in line
    assert snapshot(model_copy) == before  # the failed command rewrote or removed nothing
    assert not (tmp_path / "exported").exists()


@pytest.fixture(scope="module")
def exported_dir(trained_dir, tmp_path_factory) -> Path:
    from lookright.modeling.export import export_merged

    return export_merged(trained_dir, tmp_path_factory.mktemp("export") / "merged")


@pytest.mark.parametrize("damage", [truncate, empty, garble], ids=lambda d: d.__name__)
def test_damaged_full_weights_of_an_exported_model_are_named(exported_dir, damage, tmp_path, capsys, monkeypatch):
    copy = Path(shutil.copytree(exported_dir, tmp_path / "merged"))
    damage(copy / "model.safetensors")
    code, output = run_cli(["predict", "--model", copy, "EU rejects German call ."], capsys, monkeypatch)
    assert code == 2
    assert "truncated or corrupt safetensors file" in assert_one_error_line(output, copy / "model.safetensors")


def test_an_incomplete_model_card_names_the_missing_fields(model_copy):
    (model_copy / "lookright.json").write_text('{"labels": ["O"], "scheme": "IOB2"}')
    with pytest.raises(ModelError, match=r"lookright\.json: incomplete model card, no method, base_model"):
        ModelCard.read(model_copy)


def test_a_garbled_adapter_config_names_it(model_copy, capsys, monkeypatch):
    (model_copy / "adapter_config.json").write_text('{"r": 16}')
    code, output = run_cli(["predict", "--model", model_copy, "x"], capsys, monkeypatch)
    assert code == 2
    assert "not a peft adapter config" in assert_one_error_line(output, model_copy / "adapter_config.json")


# --------------------------------------------------------------------------- unwritable outputs


def _fail_if_called(*args, **kwargs):
    raise AssertionError("the slow work started before the output was checked")


@pytest.fixture
def blocked(tmp_path) -> Path:
    """An output path that cannot be created on any system, root included: its parent is a file."""
    parent = tmp_path / "a-file"
    parent.write_text("not a directory\n")
    return parent / "out"


@pytest.mark.parametrize("cmd", ["predict", "evaluate"])
def test_an_unwritable_output_fails_before_the_model_is_loaded(
    cmd, blocked, trained_dir, conll2003, capsys, monkeypatch
):
    import lookright.inference

    monkeypatch.setattr(lookright.inference.Tagger, "load", classmethod(_fail_if_called))
    args = {
        "predict": ["predict", "--model", trained_dir, "--output", blocked, "EU rejects German call ."],
        "evaluate": ["evaluate", "--model", trained_dir, "--data", conll2003 / "test.txt", "--output", blocked],
    }[cmd]
    code, output = run_cli(args, capsys, monkeypatch)
    assert code == 2
    assert "is a file, not a directory" in assert_one_error_line(output, blocked)
    assert (blocked.parent).read_text() == "not a directory\n"


def test_an_unwritable_export_fails_before_the_model_is_loaded(blocked, trained_dir, capsys, monkeypatch):
    import lookright.modeling.export

    monkeypatch.setattr(lookright.modeling.export, "load_model_dir", _fail_if_called)
    code, output = run_cli(["export", "--model", trained_dir, "--output", blocked], capsys, monkeypatch)
    assert code == 2
    assert "is a file, not a directory" in assert_one_error_line(output, blocked)


def test_an_unwritable_train_output_fails_before_training(blocked, tiny_model_dir, conll2003, capsys, monkeypatch):
    import lookright.methods.token
    import lookright.training.trainer

    monkeypatch.setattr(lookright.training.trainer, "load_run_data", _fail_if_called)
    monkeypatch.setattr(lookright.methods.token, "load_base", _fail_if_called)
    args = ["train", "--train", conll2003 / "train.txt", "--label-column", "3", "--model", tiny_model_dir,
            "--max-steps", "1", "--output", blocked]
    code, output = run_cli(args, capsys, monkeypatch)
    assert code == 2
    assert "is a file, not a directory" in assert_one_error_line(output, blocked)


def test_predict_creates_missing_folders_of_its_output(trained_dir, tmp_path, capsys, monkeypatch):
    out = tmp_path / "new" / "folder" / "out.jsonl"
    code, _ = run_cli(["predict", "--model", trained_dir, "--output", out, "EU rejects German call ."], capsys, monkeypatch)
    assert code == 0
    assert '"text": "EU rejects German call ."' in out.read_text(encoding="utf-8")
