"""Tagging real text: sentence segmentation, long documents, streaming files, merged export."""

from __future__ import annotations

import json

import pytest
import torch
from typer.testing import CliRunner

from lookright import apply_saved_unmasking
from lookright.cli import app
from lookright.data.readers import read_conll
from lookright.data.segment import sentence_ranges
from lookright.data.words import split_words
from lookright.inference import Tagger, TokenTagger
from lookright.inference.streaming import Item, count_lines, tag_stream


def _sentences(text: str) -> list[str]:
    offsets = split_words(text)
    return [" ".join(text[s:e] for s, e in offsets[a:b]) for a, b in sentence_ranges(text, offsets)]


def _without_scores(tagged: dict) -> dict:
    return {**tagged, "words": [{**w, "score": None} for w in tagged["words"]],
            "spans": [{**sp, "score": None} for sp in tagged["spans"]]}


def _scores(tagged: dict) -> list[float]:
    return [w["score"] for w in tagged["words"]] + [sp["score"] for sp in tagged["spans"]]


def assert_same_tagging(got: list[dict], want: list[dict]) -> None:
    """Identical words, offsets, labels and spans; scores equal up to their 4-decimal rounding.

    Tagged in other chunks, a sentence shares its batch with other sentences, so its probabilities
    differ in the 7th decimal (other matmul shapes); rounded to 4 decimals that can flip the last
    digit of a score, never a label.
    """
    assert [_without_scores(t) for t in got] == [_without_scores(t) for t in want]
    for g, w in zip(got, want):
        assert _scores(g) == pytest.approx(_scores(w), abs=1.01e-4)


def test_sentences_end_at_final_punctuation_and_blank_lines():
    text = 'He said "Go home." Then he left! Shares of Acme Inc. rose 3.5 %\n\nNew paragraph here'
    assert _sentences(text) == [
        'He said " Go home . "',
        "Then he left !",
        "Shares of Acme Inc . rose 3.5 %",
        "New paragraph here",
    ]


def test_a_single_line_break_or_initials_do_not_end_a_sentence():
    assert _sentences("The U.S. Army and J. Smith\nmet in Berlin .") == ["The U.S. Army and J. Smith met in Berlin ."]
    assert sentence_ranges("", []) == []


@pytest.fixture(scope="module")
def tagger(trained_dir) -> Tagger:
    """fp32: results independent of batch size and order to the last bit (bf16 sums round per batch shape)."""
    return Tagger.load(trained_dir, precision="fp32")


@pytest.fixture(scope="module")
def real_sentences(conll2003) -> list[str]:
    """Test-set sentences that end in a full stop, as raw text (so segmentation is unambiguous)."""
    sentences = read_conll(conll2003 / "test.txt", label_column=3)
    return [" ".join(s.tokens) for s in sentences if s.tokens[-1] == "." and len(s.tokens) > 3]


def test_a_20000_word_document_gets_one_label_per_word_and_its_sentences_labels(tagger, real_sentences):
    chosen, words = [], 0
    for sentence in real_sentences * 10:
        if words >= 20_000:
            break
        split = [sentence[a:b] for a, b in split_words(sentence)]
        if len(split) > 20_000 - words:
            split = [*split[: 20_000 - words - 1], "."]
        chosen.append(" ".join(split))
        words += len(split)
    document = "\n\n".join(chosen)
    (tagged,) = tagger.predict([document])
    assert len(tagged.words) == 20_000
    assert all(document[w.start : w.end] == w.text for w in tagged.words)

    one_by_one = tagger.predict(chosen)
    shift, expected = 0, []
    for text, result in zip(chosen, one_by_one):
        expected += [(s.start + shift, s.end + shift, s.label) for s in result.spans]
        shift += len(text) + 2
    assert [(s.start, s.end, s.label) for s in tagged.spans] == expected
    assert all(document[s.start : s.end] == s.text for s in tagged.spans)


def test_an_unsegmented_long_text_is_windowed_without_losing_a_word(tagger, real_sentences):
    document = " ".join(real_sentences)
    n = len(split_words(document))
    assert n > 20 * tagger.card.max_length  # many windows
    (tagged,) = tagger.predict([document], split_sentences=False)
    assert len(tagged.words) == n
    assert all(w.label in tagger.labels for w in tagged.words)


def test_batch_size_and_input_order_do_not_change_results(tagger, real_sentences):
    texts = real_sentences[:40] + ["", "x"]
    default = tagger.predict(texts)
    small = tagger.predict(texts, batch_size=2)
    assert [t.to_dict() for t in default] == [t.to_dict() for t in small]
    assert [t.text for t in default] == texts
    reversed_ = tagger.predict(texts[::-1])
    assert [t.to_dict()["spans"] for t in reversed_[::-1]] == [t.to_dict()["spans"] for t in default]
    assert default[-2].words == [] and default[-2].spans == []
    assert tagger.predict([""])[0].words == [] and tagger.tag_words([[]]) == [[]] and tagger.predict([]) == []


def test_bf16_scoring_changes_probabilities_by_rounding_only_whatever_the_batch(trained_dir, real_sentences):
    """bf16 (what `auto` scores in on a CPU with bf16 units) rounds differently per batch shape: the
    words and offsets are the same, the probabilities agree with fp32's to bf16's precision."""
    import numpy as np

    bf16 = Tagger.load(trained_dir, precision="bf16")
    fp32 = Tagger.load(trained_dir, precision="fp32")
    texts = real_sentences[:40]
    expected = fp32.predict(texts)
    words = [[w.text for w in t.words] for t in expected]
    reference = np.concatenate([np.exp(s) for s in fp32.word_scores(words)])
    for batch_size in (None, 2):
        tagged = bf16.predict(texts, batch_size=batch_size)
        assert [[(w.text, w.start, w.end) for w in t.words] for t in tagged] == [
            [(w.text, w.start, w.end) for w in t.words] for t in expected]
        ours = np.concatenate([np.exp(s) for s in bf16.word_scores(words, batch_size=batch_size)])
        assert ours.shape == reference.shape and np.abs(ours - reference).max() < 0.02


def test_streaming_reads_lazily_and_keeps_order(tagger, real_sentences):
    pulled = []

    def source():
        for i, text in enumerate(real_sentences[:25]):
            pulled.append(i)
            yield Item(text, i + 1)

    stream = tag_stream(tagger, source(), chunk_size=10)
    first_item, first = next(stream)
    assert len(pulled) == 10  # only one chunk was read before the first result came out
    rest = list(stream)
    assert [item.line for item, _ in [(first_item, first), *rest]] == list(range(1, 26))
    assert [r.text for _, r in rest] == real_sentences[1:25]


def test_count_lines_handles_a_missing_final_newline(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes(b"one\ntwo\nthree")
    assert count_lines(path) == 3
    path.write_bytes(b"one\ntwo\n")
    assert count_lines(path) == 2


def test_cli_predict_streams_txt_and_conll_files(tagger, trained_dir, conll2003, real_sentences, tmp_path):
    runner = CliRunner()
    txt = tmp_path / "in.txt"
    lines = [*real_sentences[:30], "", "Tabs\tand  spaces"]
    txt.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["predict", "--model", str(trained_dir), "--input", str(txt), "--output", str(out),
                                 "--chunk-size", "7", "--batch-size", "4", "--precision", "fp32"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["text"] for r in rows] == lines  # one result per input line, blank lines included
    assert_same_tagging(rows, [t.to_dict() for t in tagger.predict(lines)])

    conll_in = tmp_path / "in.conll"
    head = (conll2003 / "test.txt").read_text(encoding="utf-8").split("\n\n")[:40]
    conll_in.write_text("\n\n".join(head) + "\n", encoding="utf-8")
    sentences = read_conll(conll_in, label_column=None)
    conll_out = tmp_path / "out.conll"
    result = runner.invoke(app, ["predict", "--model", str(trained_dir), "--input", str(conll_in),
                                 "--output", str(conll_out), "--format", "conll", "--precision", "fp32"])
    assert result.exit_code == 0, result.output
    blocks = [b for b in conll_out.read_text(encoding="utf-8").split("\n\n") if b.strip()]
    assert len(blocks) == len(sentences)
    got = [[line.split("\t") for line in block.splitlines()] for block in blocks]
    assert [[w for w, _ in rows] for rows in got] == [s.tokens for s in sentences]
    assert [[lab for _, lab in rows] for rows in got] == tagger.tag_words([s.tokens for s in sentences])


def test_predict_output_never_replaces_the_input_or_an_earlier_result_unasked(trained_dir, real_sentences, tmp_path):
    from lookright.errors import LookrightError

    txt = tmp_path / "in.txt"
    txt.write_text("\n".join(real_sentences[:6]) + "\n", encoding="utf-8")
    before = txt.read_bytes()
    runner = CliRunner()
    predict = ["predict", "--model", str(trained_dir), "--input", str(txt), "--precision", "fp32", "--output"]
    same = runner.invoke(app, [*predict, str(txt), "--overwrite"])
    assert isinstance(same.exception, LookrightError) and "is the --input file" in str(same.exception)
    assert txt.read_bytes() == before
    out = tmp_path / "out.jsonl"
    out.write_text("yesterday's results\n", encoding="utf-8")
    kept = runner.invoke(app, [*predict, str(out)])
    assert isinstance(kept.exception, LookrightError) and "--overwrite" in str(kept.exception)
    assert out.read_text(encoding="utf-8") == "yesterday's results\n"
    replaced = runner.invoke(app, [*predict, str(out), "--overwrite"])
    assert replaced.exit_code == 0, replaced.output
    assert [json.loads(line)["text"] for line in out.read_text(encoding="utf-8").splitlines()] == real_sentences[:6]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.txt", "out.jsonl"]  # no .partial left behind


@pytest.mark.parametrize("fmt", ["jsonl", "label-studio"])
def test_a_failure_mid_predict_keeps_the_results_so_far_apart_and_the_old_output_intact(
    trained_dir, real_sentences, tmp_path, monkeypatch, fmt
):
    from lookright.inference import streaming

    real = streaming.tag_stream

    def failing(*args, **kwargs):  # the disk fills up, or the machine is preempted, after 5 texts
        for k, pair in enumerate(real(*args, **kwargs)):
            if k == 5:
                raise OSError(28, "No space left on device")
            yield pair

    monkeypatch.setattr(streaming, "tag_stream", failing)
    txt = tmp_path / "in.txt"
    txt.write_text("\n".join(real_sentences[:12]) + "\n", encoding="utf-8")
    out = tmp_path / "out.json"
    out.write_text("an earlier run's results\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["predict", "--model", str(trained_dir), "--input", str(txt), "--output", str(out),
                                      "--overwrite", "--format", fmt, "--chunk-size", "2"])
    assert isinstance(result.exception, OSError)
    assert out.read_text(encoding="utf-8") == "an earlier run's results\n"  # not replaced by a partial file
    partial = tmp_path / "out.json.partial"
    text = partial.read_text(encoding="utf-8")
    records = json.loads(text) if fmt == "label-studio" else [json.loads(line) for line in text.splitlines()]
    got = [r["data"]["text"] if fmt == "label-studio" else r["text"] for r in records]
    assert got == real_sentences[:5]  # everything tagged before the failure, nothing more
    assert "stopped after 5 result(s)" in result.output


def test_a_failure_while_closing_the_output_is_reported_with_the_results_kept(
    trained_dir, real_sentences, tmp_path, monkeypatch
):
    """A full disk often shows only at close, when the last buffered results are flushed: that
    failure once escaped the partial-results report, and nothing said where the results were."""
    from lookright.inference import writers

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(writers.os, "replace", full)
    txt = tmp_path / "in.txt"
    txt.write_text("\n".join(real_sentences[:4]) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(app, ["predict", "--model", str(trained_dir), "--input", str(txt), "--output", str(out)])
    assert isinstance(result.exception, OSError) and not out.exists()
    partial = tmp_path / "out.jsonl.partial"
    assert [json.loads(line)["text"] for line in partial.read_text(encoding="utf-8").splitlines()] == real_sentences[:4]
    assert f"stopped after 4 result(s): they are in {partial}" in result.output


def test_conll_output_counts_and_reports_the_blank_lines_it_cannot_hold(trained_dir, real_sentences, tmp_path):
    txt = tmp_path / "in.txt"
    txt.write_text("\n".join([real_sentences[0], "", real_sentences[1], "  ", real_sentences[2]]) + "\n", encoding="utf-8")
    out = tmp_path / "out.conll"
    result = CliRunner().invoke(app, ["predict", "--model", str(trained_dir), "--input", str(txt), "--output", str(out),
                                      "--format", "conll"])
    assert result.exit_code == 0, result.output
    assert len(read_conll(out, label_column=1)) == 3
    assert "2 text(s) without words (blank lines) got no conll record" in result.output


def test_predict_tags_a_conllu_files_own_words_when_its_text_comment_splits_otherwise(tagger, trained_dir, tmp_path):
    conllu = tmp_path / "ud.conllu"
    conllu.write_text(
        "# text = Don't stop.\n1-2\tDon't\t_\t_\t_\t_\t_\t_\t_\t_\n1\tDo\tdo\tAUX\t_\t_\t3\taux\t_\t_\n"
        "2\tn't\tnot\tPART\t_\t_\t3\tadvmod\t_\t_\n3\tstop\tstop\tVERB\t_\t_\t0\troot\t_\tSpaceAfter=No\n"
        "4\t.\t.\tPUNCT\t_\t_\t3\tpunct\t_\t_\n\n"
        "# text =\n1\tPeter\tPeter\tPROPN\t_\t_\t0\troot\t_\t_\n2\tBlackburn\tBlackburn\tPROPN\t_\t_\t1\tflat\t_\t_\n\n"
        "# text = EU rejects German call .\n" + "".join(
            f"{k + 1}\t{w}\t_\tX\t_\t_\t0\tdep\t_\t_\n" for k, w in enumerate(["EU", "rejects", "German", "call", "."])),
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(app, ["predict", "--model", str(trained_dir), "--input", str(conllu), "--output", str(out),
                                      "--precision", "fp32"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    words = [["Do", "n't", "stop", "."], ["Peter", "Blackburn"], ["EU", "rejects", "German", "call", "."]]
    assert [[w["text"] for w in r["words"]] for r in rows] == words  # the treebank's words, none lost
    assert rows[2]["text"] == "EU rejects German call ."  # a text that splits into the words is kept
    assert [[w["label"] for w in r["words"]] for r in rows] == tagger.tag_words(words)


def test_cli_predict_rejects_an_unknown_format(trained_dir):
    result = CliRunner().invoke(app, ["predict", "--model", str(trained_dir), "--format", "xml", "text"])
    assert result.exit_code != 0
    assert "--format" in result.output


def test_merged_export_reloads_with_unmasking_and_identical_predictions(trained_dir, real_sentences, tmp_path):
    """The export is written in the precision its source scores in here, so both predict the same."""
    from transformers import AutoModelForTokenClassification

    out = tmp_path / "exported"
    result = CliRunner().invoke(app, ["export", "--model", str(trained_dir), "--merge", "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert not (out / "adapter_config.json").exists() and (out / "model.safetensors").exists()

    source, exported = Tagger.load(trained_dir), Tagger.load(out)
    assert exported.model.dtype == source.model.dtype
    texts = real_sentences[:30]
    assert [t.to_dict() for t in exported.predict(texts)] == [t.to_dict() for t in source.predict(texts)]

    plain = AutoModelForTokenClassification.from_pretrained(out, dtype=source.model.dtype).eval()
    assert plain.config.lookright_unmask is not None
    ids = source.tokenizer(texts[0], return_tensors="pt")
    with torch.inference_mode():
        want = source.model(**ids).logits
        causal = plain(**ids).logits
        apply_saved_unmasking(plain)
        unmasked = plain(**ids).logits
    assert not torch.allclose(causal, want, atol=1e-4)  # the unmasking is not in the weights...
    torch.testing.assert_close(unmasked, want, atol=1e-5, rtol=1e-4)  # ...it travels in the config


def test_export_refuses_to_overwrite(trained_dir):
    result = CliRunner().invoke(app, ["export", "--model", str(trained_dir), "--output", str(trained_dir)])
    assert result.exit_code != 0


# --- what predict accepts ----------------------------------------------------------------------


def test_predict_refuses_a_conll_file_named_txt_until_told_its_format(tagger, trained_dir, conll2003, conll2000, tmp_path):
    from lookright.errors import DataError
    from lookright.inference.streaming import input_format

    head = (conll2003 / "test.txt").read_text(encoding="utf-8").split("\n\n")[:5]
    columns = tmp_path / "data.txt"
    columns.write_text("\n\n".join(head) + "\n", encoding="utf-8")
    tokens = tmp_path / "tokens.txt"
    tokens.write_text("\n\n".join("\n".join(line.split()[0] for line in b.splitlines()) for b in head) + "\n",
                      encoding="utf-8")
    for path, reason in ((columns, "4 columns"), (tokens, "one-word lines")):
        with pytest.raises(DataError, match=reason) as caught:
            input_format(path)
        assert (caught.value.path, caught.value.line) == (str(path), 1) and f"{path}:1:" in str(caught.value)
        assert "--input-format conll" in str(caught.value) and "--input-format text" in str(caught.value)
    with pytest.raises(DataError, match="4 columns"):
        input_format(conll2003 / "test.txt")
    with pytest.raises(DataError, match="3 columns"):
        input_format(conll2000 / "test.txt")
    docstart = tmp_path / "doc.txt"
    docstart.write_text("\n-DOCSTART- -X- -X- O\n\nEU rejects German call .\n", encoding="utf-8")
    with pytest.raises(DataError, match="-DOCSTART-") as caught:
        input_format(docstart)
    assert caught.value.line == 2
    raw = tmp_path / "raw.txt"
    raw.write_text("EU rejects German call .\nPeter Blackburn\n\nI love NY\n", encoding="utf-8")
    assert input_format(raw) == "text" and input_format(columns, "conll") == "conll"

    runner = CliRunner()
    refused = runner.invoke(app, ["predict", "--model", str(trained_dir), "--input", str(columns)])
    assert isinstance(refused.exception, DataError) and refused.exception.line == 1
    out = tmp_path / "out.conll"
    result = runner.invoke(app, ["predict", "--model", str(trained_dir), "--input", str(columns), "--input-format",
                                 "conll", "--format", "conll", "--output", str(out)])
    assert result.exit_code == 0, result.output
    sentences = read_conll(columns, label_column=None)
    blocks = [[line.split("\t") for line in b.splitlines()] for b in out.read_text(encoding="utf-8").split("\n\n")
              if b.strip()]
    assert [[w for w, _ in rows] for rows in blocks] == [s.tokens for s in sentences]  # every sentence, every word
    assert all(label in tagger.labels for rows in blocks for _, label in rows)
    as_text = tmp_path / "lines.jsonl"
    result = runner.invoke(app, ["predict", "--model", str(trained_dir), "--input", str(columns), "--input-format",
                                 "text", "--output", str(as_text)])
    assert result.exit_code == 0, result.output
    lines = columns.read_text(encoding="utf-8").splitlines()
    assert [json.loads(row)["text"] for row in as_text.read_text(encoding="utf-8").splitlines()] == lines
    bad = runner.invoke(app, ["predict", "--model", str(trained_dir), "--input", str(columns), "--input-format", "csv"])
    assert bad.exit_code != 0 and "--input-format" in bad.output


@pytest.mark.parametrize(
    "given, where",
    [
        ({"text": "EU rejects German call ."}, "dict"),
        (None, "NoneType"),
        (5, "int"),
        (b"EU rejects", "bytes"),
        (["fine", None], r"texts\[1\] is NoneType"),
        (["fine", b"bytes"], r"texts\[1\] is bytes"),
        ([["EU", "rejects"], ["EU", 7]], r"texts\[1\]\[1\] is int"),
        ([{"text": "x"}], r"texts\[0\] is dict"),
    ],
)
def test_tagger_accepts_only_documented_input_types_and_names_the_bad_item(tagger, given, where):
    from lookright.errors import InputTypeError

    with pytest.raises(InputTypeError, match=where) as caught:
        tagger(given)
    assert "str" in str(caught.value) and isinstance(caught.value, TypeError)
    if not isinstance(given, (str, bytes)):
        with pytest.raises(InputTypeError, match=where):
            tagger.predict(given)


def test_tagger_names_an_empty_or_spaced_pre_tokenised_word_and_keeps_every_other_input(tagger):
    from lookright.errors import DataError

    for words, shown in ((["EU", ""], "''"), (["EU", "New York"], "'New York'")):
        with pytest.raises(DataError, match=rf"texts\[1\]\[1\] = {shown} is empty or contains whitespace"):
            tagger.predict(["fine", words])
    with pytest.raises(TypeError, match="list or tuple"):
        tagger.predict("a str is one text: call tagger(text)")
    results = tagger.predict(("EU rejects it .", ["Peter", "Blackburn"], [], ""))
    assert [len(r.words) for r in results] == [4, 2, 0, 0]


# --- words a tokenizer maps to no subword ----------------------------------------------------------


def test_every_word_comes_back_labelled_even_invisible_ones(tagger):
    from test_alignment import INVISIBLE_WORDS

    text = "EU \ufe0f rejects\u200d German\u200b call a\ufe0f ❤\ufe0f \u0301 co\u00adop \u2060 lamb ."
    words = [text[s:e] for s, e in split_words(text)]
    assert "".join(words) == "".join(c for c in text if not c.isspace() and c != "\u200b")  # nothing dropped
    listed = [word for w in INVISIBLE_WORDS for word in ("EU", w)]
    raw, pre = tagger.predict([text, listed], split_sentences=False)
    assert [w.text for w in raw.words] == words and [w.text for w in pre.words] == listed
    assert all(w.label in tagger.labels for w in (*raw.words, *pre.words))
    import copy

    card = copy.copy(tagger.card)
    card.max_length, card.stride = 8, 2  # invisible words at window edges
    small = TokenTagger(tagger.model, tagger.tokenizer, card)
    assert [w.text for w in small.predict([listed])[0].words] == listed


def test_evaluate_and_score_agree_on_the_same_files_repairs_included(tagger, conll2003, tmp_path):
    import re

    from lookright.evaluation.files import score_files

    blocks = (conll2003 / "test.txt").read_text(encoding="utf-8").split("\n\n")[:60]
    slipped = 0
    for k in range(0, len(blocks), 10):  # in every 10th sentence the first span after O opens with I-: a slip
        lines = blocks[k].splitlines()
        after_o = [i == 0 or lines[i - 1].endswith(" O") for i in range(len(lines))]
        starts = [i for i, line in enumerate(lines) if re.search(r" B-\S+$", line) and after_o[i]]
        first = starts[0] if starts else None
        if first is not None:
            lines[first] = re.sub(r" B-(\S+)$", r" I-\1", lines[first])  # the NER column, not the chunk one
            blocks[k], slipped = "\n".join(lines), slipped + 1
    gold = tmp_path / "gold.txt"
    gold.write_text("\n\n".join(blocks) + "\n", encoding="utf-8")
    sentences = read_conll(gold, label_column=3)
    pred = tmp_path / "pred.txt"
    labels = tagger.tag_words([s.tokens for s in sentences])
    pred.write_text("\n\n".join("\n".join(f"{w} {t}" for w, t in zip(s.tokens, tags))
                                for s, tags in zip(sentences, labels)) + "\n", encoding="utf-8")

    evaluated = tagger.evaluate(gold)
    # the scheme named, as `lookright score --scheme IOB2` would: a tiny random model's labels can break
    # IOB2 in more places than IOB1, and the file would then be read (and converted) as IOB1
    scored = score_files(gold, pred, gold_column=3, scheme="IOB2")
    assert slipped >= 3 and evaluated.repairs["gold"] == scored.repairs["gold"]
    assert evaluated.repairs["gold"].transitions == slipped and evaluated.scheme == scored.scheme == "IOB2"
    assert evaluated.counts == scored.counts and evaluated.counts.sentences == len(sentences)
    assert evaluated.strict == scored.strict and evaluated.lenient == scored.lenient
    made, written = evaluated.repairs["predictions"], scored.repairs["predictions"]
    assert (made.transitions, made.sentences) == (written.transitions, written.sentences)
    assert made.transitions > 0 and not made.repaired and not written.repaired  # strict sees them alike in both
