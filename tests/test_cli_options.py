"""The training flags of `train`, `sweep` and `compare` come from `TrainConfig`'s fields, declared once."""

from __future__ import annotations

import json
from dataclasses import fields

import click
import pytest
import typer
from typer.testing import CliRunner

from lookright.cli import app
from lookright.training import TrainConfig


def _options(command: str) -> dict[str, click.Option]:
    group = typer.main.get_command(app)
    return {name: param for param in group.commands[command].params for name in param.opts}


@pytest.mark.parametrize("command", ["train", "sweep", "compare"])
def test_each_command_offers_exactly_the_settings_declared_for_it_with_their_help(command):
    options = _options(command)
    for spec in fields(TrainConfig):
        assert spec.metadata.get("help"), f"{spec.name} has no help text"
        flag = (spec.metadata.get("flag") or f"--{spec.name.replace('_', '-')}").split("/")[0]
        if command in spec.metadata["commands"]:
            assert flag in options and options[flag].help == spec.metadata["help"], f"{command} {flag}"
        else:  # absent, or the command's own option of that name (sweep's --output is the sweep directory)
            assert flag not in options or options[flag].help != spec.metadata["help"], f"{command} {flag}"
    assert "--config" in options and "--set" in options


def test_flags_override_set_which_overrides_the_file_and_absent_flags_change_nothing(tmp_path, monkeypatch):
    settings = tmp_path / "train.json"
    settings.write_text(json.dumps({"train": "a.conll", "resume": True, "lora_r": 4, "instruction": True, "seed": 1}))
    seen: list[TrainConfig] = []

    class Stop(Exception):
        pass

    def capture(cfg, console=None):
        seen.append(cfg)
        raise Stop

    monkeypatch.setattr("lookright.training.train", capture)
    result = CliRunner().invoke(app, ["train", "--config", str(settings), "--lora-r", "8", "--no-instruction",
                                      "--set", "seed=7", "--set", "lora_r=5", "--label-column", "3"])
    assert isinstance(result.exception, Stop), result.output
    cfg = seen[0]
    assert (cfg.train, cfg.lora_r, cfg.instruction, cfg.seed, cfg.label_column) == ("a.conll", 8, False, 7, 3)
    assert cfg.resume is True  # `--resume` only turns resuming on: leaving it out keeps the file's setting
    assert cfg.overwrite is False and cfg.learning_rate is None
