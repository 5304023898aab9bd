"""Every input file is read and checked before a model loads: bad data fails in seconds, naming file and line."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from lookright.cli import app
from lookright.errors import DataError
from lookright.inference import Tagger
from lookright.training import train

BAD_TEST_FILES = {
    "a line without the label column": ("EU NNP B-NP B-ORG\nrejects VBZ B-VP O\n\nPeter NNP\n", r"bad\.conll:4: "),
    "a label the model is never given": ("EU NNP B-NP B-ORG\n\nPeter NNP B-NP B-CHEF\n", r"bad\.conll:3: .*'B-CHEF'"),
}


@pytest.fixture
def no_model_loads(monkeypatch):
    """Loading any model fails the test: the checks under test must come first."""
    def refuse(*args, **kwargs):
        pytest.fail("a model was loaded before every input file was checked")

    monkeypatch.setattr("lookright.methods.token.load_base", refuse)
    monkeypatch.setattr(Tagger, "load", classmethod(refuse))


@pytest.mark.parametrize("problem", BAD_TEST_FILES)
def test_train_rejects_a_bad_test_file_before_loading_the_model(problem, tiny_train_config, tmp_path, no_model_loads):
    text, where = BAD_TEST_FILES[problem]
    bad = tmp_path / "bad.conll"
    bad.write_text(text)
    output = tmp_path / "run"
    with pytest.raises(DataError, match=where):
        train(tiny_train_config(output, test=str(bad)))
    assert not output.exists()  # nothing written, nothing to clean up


def test_train_rejects_a_label_source_missing_training_labels(tiny_train_config, conll2003, tmp_path, no_model_loads):
    labels = tmp_path / "labels.conll"
    labels.write_text("Peter NNP B-NP B-PER\nBlackburn NNP I-NP I-PER\n")  # PER only; the training slice has ORG, LOC...
    with pytest.raises(DataError) as refused:
        train(tiny_train_config(tmp_path / "run", labels_from=str(labels)))
    message = str(refused.value)
    assert message.startswith(f"{conll2003 / 'train.txt'}:") and str(labels) in message and "lacks" in message


def test_evaluate_and_predict_read_their_input_before_loading_the_model(trained_dir, tmp_path, no_model_loads):
    bad = tmp_path / "bad.conll"
    bad.write_text(BAD_TEST_FILES["a label the model is never given"][0])
    result = CliRunner().invoke(app, ["evaluate", "--model", str(trained_dir), "--data", str(bad)])
    assert isinstance(result.exception, DataError) and str(result.exception).startswith(f"{bad}:3: ")

    texts = tmp_path / "texts.jsonl"
    texts.write_text('{"text": "EU rejects German call."}\n' * 3 + '{"text": 5}\n')
    result = CliRunner().invoke(app, ["predict", "--model", str(trained_dir), "--input", str(texts)])
    assert isinstance(result.exception, DataError) and str(result.exception).startswith(f"{texts}:4: ")
