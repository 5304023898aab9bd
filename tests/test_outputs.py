"""Files the toolkit rewrites (model cards, run records, reports) are replaced whole or not at all."""

from __future__ import annotations

import errno
import os
import shutil

import pytest

from lookright import outputs
from lookright.inference import Tagger
from lookright.modeling.artifact import ModelCard
from lookright.outputs import write_text_atomic


def test_a_rewrite_that_fails_midway_leaves_the_old_file_and_no_debris(tmp_path):
    path = tmp_path / "report.json"
    path.write_text('{"f1": 0.9}\n')
    path.chmod(0o640)
    with pytest.raises(UnicodeEncodeError):  # fails after the first 10,000 characters are written
        write_text_atomic(path, "x" * 10_000 + "\ud800")
    assert path.read_text() == '{"f1": 0.9}\n' and os.listdir(tmp_path) == ["report.json"]
    write_text_atomic(path, '{"f1": 0.95}\n')
    assert path.read_text() == '{"f1": 0.95}\n' and os.listdir(tmp_path) == ["report.json"]
    assert path.stat().st_mode & 0o777 == 0o640  # the file keeps its permissions
    previous = os.umask(0o002)
    try:
        write_text_atomic(tmp_path / "new.md", "a table\n")
    finally:
        os.umask(previous)
    assert (tmp_path / "new.md").stat().st_mode & 0o777 == 0o664  # as open() would make it, not mkstemp's 0o600


def test_a_model_card_rewritten_on_a_full_disk_keeps_the_model_loadable(trained_run, tmp_path, monkeypatch):
    model = shutil.copytree(trained_run.output, tmp_path / "model")
    card = ModelCard.read(model)
    scored = card.metrics
    assert scored  # the card after scoring: what a failed rewrite must not lose

    real_fdopen = os.fdopen

    def full_disk(handle, *args, **kwargs):
        file = real_fdopen(handle, *args, **kwargs)
        file.write = lambda text: (_ for _ in ()).throw(OSError(errno.ENOSPC, "No space left on device"))
        return file

    monkeypatch.setattr(outputs.os, "fdopen", full_disk)
    card.metrics = {}
    with pytest.raises(OSError, match="No space left"):
        card.write(model)
    monkeypatch.undo()
    assert ModelCard.read(model).metrics == scored
    assert sorted(p.name for p in model.iterdir()) == sorted(p.name for p in trained_run.output.iterdir())
    assert Tagger.load(model)("Peter visited Brussels .").words[0].text == "Peter"
