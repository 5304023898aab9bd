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


SPACED_WORDS = {
    "jsonl tokens": ("t.jsonl", '{"tokens": ["EU", "rejects"]}\n{"tokens": ["New York", "wins"]}\n', 2, "tokens[0]"),
    "TAB CoNLL": ("t.conll", "EU\tB-ORG\n\nNew York\tB-LOC\n", 3, "token (column 0)"),
    "TAB CoNLL, NBSP at the edge": ("t.conll", "EU\tB-ORG\nParis\u00a0\tB-LOC\n", 2, "token (column 0) 'Paris\\xa0'"),
    "CoNLL-U form": ("t.conllu", "1\tEU\teu\tPROPN\t_\t_\t0\troot\t_\t_\n2\t500 000\t_\tNUM\t_\t_\t1\tnummod\t_\t_\n",
                     2, "word form"),
}


@pytest.mark.parametrize("case", SPACED_WORDS)
def test_a_word_with_whitespace_in_it_is_refused_at_its_line_before_the_model_loads(
    case, trained_dir, tmp_path, no_model_loads
):
    name, text, line, what = SPACED_WORDS[case]
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(app, ["predict", "--model", str(trained_dir), "--input", str(path)])
    assert isinstance(result.exception, DataError)
    message = str(result.exception)
    assert message.startswith(f"{path}:{line}: {what}") and "contains whitespace" in message


@pytest.mark.parametrize("typo", ["B-", "I", "b-PER", "B_PER", "0", "PER", "B\u2013PER"])
def test_one_mistyped_span_tag_is_an_error_at_its_sentence_not_a_switch_to_per_word_tags(
    typo, tiny_train_config, conll2003, tmp_path, no_model_loads
):
    from lookright.data.prepare import input_scheme
    from lookright.data.readers import read_conll

    head = (conll2003 / "train.txt").read_text(encoding="utf-8").split("\n\n")[:30]
    bad = tmp_path / "train.conll"
    bad.write_text("\n\n".join(head) + f"\n\nMoscow NNP B-NP {typo}\nsaid VBD B-VP O\n", encoding="utf-8")
    line = bad.read_text(encoding="utf-8").splitlines().index(f"Moscow NNP B-NP {typo}") + 1
    with pytest.raises(DataError) as refused:
        train(tiny_train_config(tmp_path / "run", train=str(bad), max_train_sentences=None))
    message = str(refused.value)
    assert message.startswith(f"{bad}:{line}: word 0 ('Moscow') has tag {typo!r}") and "--scheme NONE" in message
    sentences = read_conll(bad, label_column=3)
    assert input_scheme(sentences, "NONE") == "NONE"  # declared: every tag a label of its own, as asked
    assert input_scheme(read_conll(bad, label_column=1), None) == "NONE"  # POS tags: no span tags, no error


def test_a_stray_span_like_tag_among_per_word_tags_keeps_them_per_word():
    from lookright.data.prepare import input_scheme
    from lookright.data.sentence import Sentence

    pos = [Sentence(tokens=["EU", "rejects", "it"], tags=["NNP", "VBZ", "PRP"], source="pos.conll", line=1),
           Sentence(tokens=["Paris", "wins"], tags=["I-NP", "VBZ"], source="pos.conll", line=5)]
    assert input_scheme(pos, None) == "NONE"  # most tags are not span tags: per-word tags, as written
