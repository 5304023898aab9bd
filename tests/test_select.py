"""Active learning (`lookright select`, `inference.selection`) and `predict`'s annotation-tool writers.

Ranking is tested on a stub token classifier whose word distributions are set by hand (a random
model is not clearly sure or unsure of anything); the commands run on a tiny random Llama saved
as a full fine-tune, which is enough for determinism and file formats.
"""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
from typer.testing import CliRunner

from lookright.cli import app
from lookright.data.annotation import char_spans
from lookright.data.annotation.label_studio import iter_label_studio
from lookright.data.readers import read_data
from lookright.errors import ModelError
from lookright.inference import TokenTagger
from lookright.inference.selection import score_texts, select
from lookright.inference.tagger import Tagger
from lookright.modeling.artifact import ModelCard

LABELS = ["O", "B-PER", "I-PER"]


def card(**overrides) -> ModelCard:
    settings = {"labels": LABELS, "scheme": "IOB2", "method": "causal", "base_model": "stub", "max_length": 64,
                "stride": 16, "unmask": "0", "finetune": "full"}
    return ModelCard(**{**settings, **overrides})


class HandTagger(TokenTagger):
    """Capitalised words: B-PER with p=0.9; "maybe": uniform (as unsure as can be); "hmm": two labels
    tied; anything else: O with p=0.96."""

    def __init__(self) -> None:
        super().__init__(None, None, card())
        self.calls = 0

    def word_scores(self, sentences, wheres=None, *, batch_size=None, progress=None):
        self.calls += 1
        out = []
        for words in sentences:
            rows = []
            for word in words:
                if word == "maybe":
                    row = [1 / 3] * 3
                elif word == "hmm":
                    row = [0.5, 0.5, 0.0]
                elif word[:1].isupper():
                    row = [0.05, 0.9, 0.05]
                else:
                    row = [0.96, 0.02, 0.02]
                rows.append(np.log(np.clip(row, 1e-12, None)))
            out.append(np.array(rows, dtype=np.float32).reshape(len(words), len(LABELS)))
        return out


class SpanWriter(Tagger):
    """A tagger that, like a generative model, gives label probabilities but no distributions."""

    def __init__(self) -> None:
        super().__init__(None, None, card(method="generative"))

    @classmethod
    def from_directory(cls, directory, card, **options):
        raise NotImplementedError

    def label_words(self, sentences, wheres=None, *, batch_size=None, progress=None):
        return [(["O"] * len(words), [0.5 if w == "maybe" else 0.99 for w in words]) for words in sentences]


TEXTS = [
    "the cat sat on the mat .",                  # sure of every word
    "Anna met maybe Bob maybe .",                # two uniform words
    "",                                          # no words: not ranked
    "the dog ran .",                             # sure
    "hmm the cat .",                             # one tied word
    "Anna met maybe Bob maybe .",                # a tie with text 1: the earlier one ranks first
]


def test_margin_ranks_the_unsure_texts_first_ties_by_input_position():
    selection = select(HandTagger(), TEXTS, top=3, strategy="margin")
    assert [r.index for r in selection.records] == [1, 5, 4]
    assert (selection.seen, selection.empty) == (6, 1)
    first = selection.records[0]
    assert first.uncertainty == pytest.approx(1 - (0.85 * 2 + 0.94 * 2 + 0 * 2) / 6, abs=1e-6)
    assert [s.text for s in first.tagged.spans] == ["Anna", "Bob"]  # the pre-annotation comes along
    assert first.tagged.text == TEXTS[1]


def test_each_strategy_scores_as_documented():
    tagger = HandTagger()
    scored = dict(zip(["margin", "min-margin", "entropy", "least-confidence"],
                      [[u for _, u in score_texts(tagger, TEXTS[3:5], s)] for s in
                       ("margin", "min-margin", "entropy", "least-confidence")]))
    assert scored["min-margin"] == [pytest.approx(1 - 0.94), pytest.approx(1.0)]  # "hmm": margin 0
    entropy_o = -(0.96 * math.log(0.96) + 2 * 0.02 * math.log(0.02)) / math.log(3)
    assert scored["entropy"][0] == pytest.approx(entropy_o, abs=1e-5)
    assert scored["entropy"][1] == pytest.approx((math.log(2) / math.log(3) + 3 * entropy_o) / 4, abs=1e-5)
    assert scored["least-confidence"][0] == pytest.approx(1 - 0.96, abs=1e-6)
    assert all(a < b for a, b in scored.values())  # every strategy finds "hmm the cat ." less sure


def test_selection_is_the_same_whatever_the_chunking_and_keeps_top():
    tagger = HandTagger()
    whole = select(tagger, TEXTS * 3, top=4, strategy="entropy")
    one_by_one = select(tagger, iter(TEXTS * 3), top=4, strategy="entropy", chunk_size=1)
    assert [(r.index, r.uncertainty) for r in whole.records] == [(r.index, r.uncertainty) for r in one_by_one.records]
    assert [r.index for r in whole.records] == [1, 5, 7, 11] and len(select(tagger, TEXTS, top=100).records) == 5
    with pytest.raises(ValueError, match="at least 1"):
        select(tagger, TEXTS, top=0)


def test_a_tagger_without_distributions_supports_least_confidence_only():
    tagger = SpanWriter()
    with pytest.raises(ModelError, match="use least-confidence"):
        select(tagger, TEXTS, top=2, strategy="margin")
    assert [r.index for r in select(tagger, TEXTS, top=2, strategy="least-confidence").records] == [1, 5]


# --- commands on a tiny saved model ---------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_dir(tiny_model_dir, tmp_path_factory):
    """A full fine-tune directory: the tiny random Llama with a fresh 3-label head (seeded)."""
    import torch

    from lookright.modeling.artifact import save_model_dir
    from lookright.modeling.loading import Precision, load_token_classifier, load_tokenizer

    torch.manual_seed(0)
    model = load_token_classifier(tiny_model_dir, LABELS, precision=Precision.choose("fp32", "none", "cpu"))
    directory = tmp_path_factory.mktemp("tiny-full")
    save_model_dir(model, load_tokenizer(tiny_model_dir), card(base_model=str(tiny_model_dir)), directory)
    return directory


@pytest.fixture(scope="module")
def texts_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("select") / "unlabelled.txt"
    lines = ["Anna met Bob in Berlin .", "", "The cat sat .", "EU rejects German call .", "Peter Blackburn",
             "Anna met Bob in Berlin .", "a b c d e f"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run(*args: str):
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result


def test_select_command_is_deterministic_and_writes_top_records(tiny_dir, texts_file, tmp_path):
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    run("select", "--model", tiny_dir, "--input", texts_file, "--top", 3, "--output", first)
    run("select", "--model", tiny_dir, "--input", texts_file, "--top", 3, "--output", second, "--chunk-size", 2)
    assert first.read_text() == second.read_text()
    records = [json.loads(line) for line in first.read_text().splitlines()]
    assert len(records) == 3
    keys = [(-r["uncertainty"], r["index"]) for r in records]
    assert keys == sorted(keys) and all(r["strategy"] == "margin" for r in records)
    lines = texts_file.read_text().splitlines()
    assert all(lines[r["line"] - 1] == r["text"] and r["words"] for r in records)
    assert [len(s) for s in read_data(first)] == [len(r["words"]) for r in records]  # readable as training data


def test_select_writes_label_studio_and_doccano_that_read_back(tiny_dir, texts_file, tmp_path):
    ls, doccano = tmp_path / "next.json", tmp_path / "next.jsonl"
    run("select", "--model", tiny_dir, "--input", texts_file, "--top", 4, "--output", ls, "--format", "label-studio",
        "--strategy", "entropy")
    run("select", "--model", tiny_dir, "--input", texts_file, "--top", 4, "--output", doccano, "--format", "doccano",
        "--strategy", "entropy")
    tasks = json.loads(ls.read_text())
    assert len(tasks) == 4 and all("uncertainty" in t["data"] and t["predictions"][0]["model_version"] for t in tasks)
    rows = [json.loads(line) for line in doccano.read_text().splitlines()]
    assert [t["data"]["text"] for t in tasks] == [r["text"] for r in rows]
    assert [[[v["value"]["start"], v["value"]["end"], v["value"]["labels"][0]] for v in t["predictions"][0]["result"]]
            for t in tasks] == [r["label"] for r in rows]
    assert [char_spans(s) for s in iter_label_studio(ls, use_predictions=True)] == [char_spans(s) for s in read_data(doccano)]


def _refused(*args: str) -> str:
    """The usage error of a refused command line, as one line (Typer draws it in a box)."""
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == 2, result.output
    return re.sub(r"[\s│╭╮╰╯─]+", " ", result.output)


def test_select_refuses_bad_options_before_loading_the_model(tmp_path, texts_file):
    missing = tmp_path / "none"  # no model there: every refusal comes before it would load
    assert "no such file" in _refused("select", "--model", missing, "--input", tmp_path / "x.txt", "--output",
                                      tmp_path / "o.jsonl")
    assert "--strategy must be one of" in _refused("select", "--model", missing, "--input", texts_file, "--output",
                                                   tmp_path / "o.jsonl", "--strategy", "random")
    assert "--format must be one of" in _refused("select", "--model", missing, "--input", texts_file, "--output",
                                                 tmp_path / "o.spacy", "--format", "spacy")


@pytest.mark.parametrize("fmt, suffix", [("label-studio", "json"), ("doccano", "jsonl"), ("spacy", "spacy")])
def test_predict_writes_each_tool_format_with_the_spans_of_jsonl(tiny_dir, texts_file, tmp_path, fmt, suffix):
    plain, tool = tmp_path / "plain.jsonl", tmp_path / f"tool.{suffix}"
    run("predict", "--model", tiny_dir, "--input", texts_file, "--output", plain)
    run("predict", "--model", tiny_dir, "--input", texts_file, "--output", tool, "--format", fmt,
        "--ls-from-name", "ner")
    want = [[(s["start"], s["end"], s["label"]) for s in json.loads(line)["spans"]]
            for line in plain.read_text().splitlines()]
    readback = iter_label_studio(tool, use_predictions=True) if fmt == "label-studio" else read_data(tool)
    got = [[(s.start, s.end, s.label) for s in char_spans(sentence)] for sentence in readback]
    nonempty = [w for w, line in zip(want, texts_file.read_text().splitlines()) if line.strip()]
    assert got == nonempty and len(got) == len(want) - 1  # the blank line gets no task
    if fmt == "label-studio":
        tasks = json.loads(tool.read_text())
        assert all(r["from_name"] == "ner" for t in tasks for r in t["predictions"][0]["result"])
        assert all(isinstance(t["predictions"][0].get("score"), float) for t in tasks if t["data"]["text"].strip())


def test_select_refuses_a_margin_for_a_generative_model_before_it_loads(tmp_path, texts_file):
    directory = tmp_path / "gen"
    directory.mkdir()
    card(method="generative", generation={"names": {"PER": "person"}}).write(directory)  # a card, no weights
    result = CliRunner().invoke(app, ["select", "--model", str(directory), "--input", str(texts_file), "--output",
                                      str(tmp_path / "o.jsonl")])
    assert isinstance(result.exception, ModelError) and "use least-confidence" in str(result.exception)


# --- the input records' own fields (ids...) travel with their results -----------------------------


@pytest.fixture()
def records_file(tmp_path):
    path = tmp_path / "records.jsonl"
    rows = [{"id": 7, "text": "Peter Blackburn visited Brussels .", "source": "wire"},
            {"id": 8, "tokens": ["EU", "rejects", "it"], "words": "an old field"}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_predict_writes_each_records_own_fields_back_and_says_which_it_could_not(tiny_dir, records_file, tmp_path):
    """Record fields (an `id`) were dropped by predict: joining results back to the input needed line order."""
    out = tmp_path / "out.jsonl"
    said = " ".join(run("predict", "--model", tiny_dir, "--input", records_file, "--output", out).output.split())
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(r["id"], r.get("source")) for r in rows] == [(7, "wire"), (8, None)]
    assert [w["text"] for w in rows[1]["words"]] == ["EU", "rejects", "it"]  # the result, not the old field
    assert "input field(s) 'words' (1 record(s)) have the name of a field jsonl output writes itself" in said
    tasks = tmp_path / "tasks.json"
    run("predict", "--model", tiny_dir, "--input", records_file, "--output", tasks, "--format", "label-studio")
    assert [(t["data"]["id"], t["data"].get("source")) for t in json.loads(tasks.read_text())] == [(7, "wire"), (8, None)]
    conll = tmp_path / "out.conll"
    said = " ".join(run("predict", "--model", tiny_dir, "--input", records_file, "--output", conll, "--format",
                        "conll").output.split())
    assert ("conll output has no place for the input records' other fields 'id' (2 record(s)), 'source' (1 record(s)),"
            " 'words' (1 record(s)): they are not in it") in said


def test_annotation_tool_fields_survive_pre_annotation_and_selection(tiny_dir, tmp_path):
    export = tmp_path / "export.json"
    export.write_text(json.dumps([
        {"id": 3, "data": {"text": "Anna met Bob in Berlin .", "title": "T3"}, "annotations": []},
        {"id": 4, "data": {"text": "The cat sat .", "title": "T4"}, "annotations": []},
    ]), encoding="utf-8")
    out = tmp_path / "pre.json"
    run("predict", "--model", tiny_dir, "--input", export, "--output", out, "--format", "label-studio")
    assert [t["data"]["title"] for t in json.loads(out.read_text())] == ["T3", "T4"]
    doccano = tmp_path / "in.jsonl"
    doccano.write_text(json.dumps({"id": 5, "text": "EU rejects German call .", "label": [], "Comments": ["x"]}) + "\n",
                       encoding="utf-8")
    chosen = tmp_path / "next.jsonl"
    run("select", "--model", tiny_dir, "--input", doccano, "--input-format", "doccano", "--top", 1, "--output", chosen,
        "--format", "doccano")
    (row,) = [json.loads(line) for line in chosen.read_text().splitlines()]
    assert (row["id"], row["Comments"], row["index"]) == (5, ["x"], 0)
