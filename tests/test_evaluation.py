"""Evaluation against hand-computed numbers: every expectation below is worked out in its comment."""

from __future__ import annotations

import io
import json

import pytest
from rich.console import Console

from lookright.evaluation import evaluate_tags, extract_spans, to_iob2

# Sentence 0 holds one error of each kind; sentence 1 is a correct PER.
#   gold spans: PER[0,2) LOC[3,4) ORG[5,7) MISC[8,9) | PER[0,1)          -> 5
#   pred spans: PER[0,2) ORG[3,4) ORG[5,6) LOC[10,11) | PER[0,1)         -> 5
#   LOC[3,4) predicted as ORG (wrong type), ORG[5,7) cut to [5,6) (boundary),
#   MISC missed, LOC[10,11) over "well" spurious.
TOKENS = [
    ["John", "Smith", "in", "Paris", "and", "Acme", "Corp", "said", "German", "all", "well"],
    ["Mary", "left"],
]
GOLD = [
    ["B-PER", "I-PER", "O", "B-LOC", "O", "B-ORG", "I-ORG", "O", "B-MISC", "O", "O"],
    ["B-PER", "O"],
]
PRED = [
    ["B-PER", "I-PER", "O", "B-ORG", "O", "B-ORG", "O", "O", "O", "O", "B-LOC"],
    ["B-PER", "O"],
]
SOURCES = ["dev.txt:1", "dev.txt:14"]


def mixed_report(**kwargs):
    return evaluate_tags(GOLD, PRED, "IOB2", tokens=TOKENS, sources=SOURCES, **kwargs)


def test_perfect_prediction_scores_one_everywhere():
    report = evaluate_tags(GOLD, GOLD, "IOB2")
    d = report.to_dict()
    for mode in ("strict", "lenient"):
        for average in ("micro", "macro"):
            assert d[mode][average] == {"precision": 1.0, "recall": 1.0, "f1": 1.0}
        assert all(row["f1"] == 1.0 for row in d[mode]["per_type"].values())
    assert report.token_accuracy == 1.0
    assert report.headline == 1.0 and report.headline_name == "strict micro F1"
    assert report.spurious == 0
    wrong = {t: e.wrong_type + e.boundary + e.type_and_boundary + e.missed for t, e in report.errors.items()}
    assert wrong == {"LOC": 0, "MISC": 0, "ORG": 0, "PER": 0}
    assert {t: e.correct for t, e in report.errors.items()} == {"LOC": 1, "MISC": 1, "ORG": 1, "PER": 2}


def test_one_error_of_each_kind_gives_exact_counts_and_scores():
    report = mixed_report()
    # 2 true positives (both PER) out of 5 gold and 5 predicted spans: P = R = F1 = 2/5.
    for metrics in (report.strict, report.lenient):
        assert metrics.micro.precision == pytest.approx(0.4)
        assert metrics.micro.recall == pytest.approx(0.4)
        assert metrics.micro.f1 == pytest.approx(0.4)
        # Per type F1: PER 1, LOC 0, ORG 0, MISC 0 -> macro F1 = 1/4 (differs from micro on purpose).
        assert metrics.macro.f1 == pytest.approx(0.25)
        assert metrics.per_type["PER"].support == 2
        assert metrics.per_type["ORG"].support == 1
        assert metrics.per_type["ORG"].precision == 0.0  # two ORG predictions, none right
    # Words right: 7 of 11 in sentence 0 (wrong at 3, 6, 8, 10) + 2 of 2 -> 9/13.
    assert report.token_accuracy == pytest.approx(9 / 13)
    errors = report.to_dict()["errors"]
    assert errors["PER"] == {"correct": 2, "wrong_type": 0, "boundary": 0, "type_and_boundary": 0, "missed": 0}
    assert errors["LOC"] == {"correct": 0, "wrong_type": 1, "boundary": 0, "type_and_boundary": 0, "missed": 0}
    assert errors["ORG"] == {"correct": 0, "wrong_type": 0, "boundary": 1, "type_and_boundary": 0, "missed": 0}
    assert errors["MISC"] == {"correct": 0, "wrong_type": 0, "boundary": 0, "type_and_boundary": 0, "missed": 1}
    assert errors["spurious"] == 1
    assert errors["type_confusions"] == {"LOC->ORG": 1}
    assert report.to_dict()["counts"] == {"sentences": 2, "words": 13, "gold_spans": 5, "pred_spans": 5}


def test_overlap_with_other_type_and_other_boundaries_has_its_own_bucket():
    # Gold ORG[0,2) against predicted LOC[0,1): overlaps, but neither type nor boundaries agree.
    report = evaluate_tags([["B-ORG", "I-ORG"]], [["B-LOC", "O"]], "IOB2")
    assert report.errors["ORG"].type_and_boundary == 1
    assert report.spurious == 0 and report.type_confusions == {}


def test_error_examples_are_located_and_capped():
    examples = mixed_report().to_dict()["examples"]
    (missed,) = examples["MISC"]
    assert missed["kind"] == "missed"
    assert missed["source"] == "dev.txt:1"
    assert missed["sentence"] == " ".join(TOKENS[0])
    assert missed["gold"] == {"start": 8, "end": 9, "type": "MISC", "text": "German"}
    assert missed["pred"] == []
    (boundary,) = examples["ORG"]
    assert boundary["gold"]["text"] == "Acme Corp" and [p["text"] for p in boundary["pred"]] == ["Acme"]
    (spurious,) = examples["spurious"]
    assert spurious["gold"] is None and spurious["pred"][0]["text"] == "well"
    assert examples["PER"] == []  # only errors become examples

    many = evaluate_tags([["B-PER", "O"]] * 10, [["O", "O"]] * 10, "IOB2", max_examples=3)
    assert len(many.examples["PER"]) == 3 and many.errors["PER"].missed == 10
    assert many.examples["PER"][0].source is None and many.examples["PER"][0].gold.text is None


def test_strict_rejects_an_i_tag_that_continues_nothing_lenient_accepts_it():
    gold = [["B-PER", "I-PER", "O", "B-LOC"]]
    pred = [["I-PER", "I-PER", "O", "B-LOC"]]
    report = evaluate_tags(gold, pred, "IOB2")
    # Lenient (conlleval) opens a PER span at the stray I-PER: both spans right.
    assert (report.lenient.micro.precision, report.lenient.micro.recall, report.lenient.micro.f1) == (1.0, 1.0, 1.0)
    # Strict drops the ill-formed PER: 1 predicted span, 1 of 2 gold found -> P 1, R 1/2, F1 2/3.
    assert report.strict.micro.precision == 1.0
    assert report.strict.micro.recall == pytest.approx(0.5)
    assert report.strict.micro.f1 == pytest.approx(2 / 3)
    assert "mode=strict" in report.strict.description and "conlleval" in report.lenient.description


def test_bioes_matches_iob2_after_conversion():
    gold = [["B-PER", "E-PER", "O", "S-LOC"], ["S-ORG", "B-MISC", "I-MISC", "E-MISC"]]
    pred = [["B-PER", "E-PER", "O", "S-ORG"], ["S-ORG", "B-MISC", "E-MISC", "O"]]
    assert to_iob2(gold[1], "BIOES") == ["B-ORG", "B-MISC", "I-MISC", "I-MISC"]
    bioes = evaluate_tags(gold, pred, "BIOES")
    iob2 = evaluate_tags([to_iob2(s, "BIOES") for s in gold], [to_iob2(s, "BIOES") for s in pred], "IOB2")
    # PER and ORG right, LOC typed ORG, MISC cut short: 2 of 4 both ways -> 0.5.
    assert bioes.strict.micro.f1 == pytest.approx(0.5)
    assert "IOBES" in bioes.strict.description
    b, i = bioes.to_dict(), iob2.to_dict()
    for mode in ("strict", "lenient"):
        for key in ("micro", "macro", "per_type"):
            assert b[mode][key] == i[mode][key]
    assert b["errors"] == i["errors"]


def test_bioes_strict_scores_raw_tags():
    # B-PER I-PER never closes with E-: invalid IOBES (strict F1 0) but a fine IOB2 span (lenient F1 1).
    report = evaluate_tags([["B-PER", "E-PER"]], [["B-PER", "I-PER"]], "BIOES")
    assert report.strict.micro.f1 == 0.0
    assert report.lenient.micro.f1 == 1.0


def test_iob1_and_io_are_converted_to_iob2():
    assert to_iob2(["I-PER", "I-PER", "B-PER", "O", "I-LOC"], "IOB1") == ["B-PER", "I-PER", "B-PER", "O", "B-LOC"]
    assert extract_spans(to_iob2(["I-PER", "I-PER", "B-PER"], "IOB1")) == [(0, 2, "PER"), (2, 3, "PER")]
    assert to_iob2(["I-PER", "I-PER", "O", "I-LOC", "I-ORG"], "IO") == ["B-PER", "I-PER", "O", "B-LOC", "B-ORG"]

    gold = [["I-PER", "I-PER", "B-PER", "O", "I-LOC"]]
    pred = [["I-PER", "I-PER", "I-PER", "O", "I-LOC"]]
    report = evaluate_tags(gold, pred, "IOB1")
    assert report.counts.gold_spans == 3 and report.counts.pred_spans == 2
    # Pred has PER[0,3) and LOC: 1 right of 2 predicted, of 3 gold -> P 1/2, R 1/3, F1 0.4.
    assert report.strict.micro.precision == pytest.approx(0.5)
    assert report.strict.micro.recall == pytest.approx(1 / 3)
    assert report.strict.micro.f1 == pytest.approx(0.4)
    assert report.lenient.micro.f1 == pytest.approx(0.4)
    assert report.errors["PER"].boundary == 2
    assert "IOB1->IOB2" in report.strict.description


def test_none_scheme_scores_tags_per_word():
    gold = [["DT", "NN", "VBZ"], ["NN", "NN"]]
    pred = [["DT", "VB", "VBZ"], ["NN", "NN"]]
    report = evaluate_tags(gold, pred, "NONE")
    # 4 of 5 words right.
    assert report.token_accuracy == pytest.approx(0.8)
    assert report.headline == pytest.approx(0.8) and report.headline_name == "token accuracy"
    assert report.strict.micro.f1 == pytest.approx(report.token_accuracy)
    # NN: 2 hits, 2 predicted, 3 gold -> P 1, R 2/3, F1 0.8. VB: predicted once, never gold -> 0.
    nn = report.strict.per_type["NN"]
    assert (nn.precision, nn.recall, nn.f1, nn.support) == (1.0, pytest.approx(2 / 3), pytest.approx(0.8), 3)
    assert report.strict.per_type["VB"].f1 == 0.0 and report.strict.per_type["VB"].support == 0
    # Macro over DT, NN, VB, VBZ: (1 + 0.8 + 0 + 1) / 4.
    assert report.strict.macro.f1 == pytest.approx(0.7)
    assert report.to_dict()["strict"] == report.to_dict()["lenient"]
    assert report.type_confusions == {"NN->VB": 1}


def test_confusion_matrix_counts_words():
    report = evaluate_tags([["DT", "NN", "VBZ"], ["NN", "NN"]], [["DT", "VB", "VBZ"], ["NN", "NN"]], "NONE")
    assert report.confusion.labels == ["DT", "NN", "VB", "VBZ"]
    assert report.confusion.matrix == [[1, 0, 0, 0], [0, 2, 1, 0], [0, 0, 0, 0], [0, 0, 0, 1]]

    confusion = mixed_report().confusion
    assert confusion.labels == ["O", "B-LOC", "B-MISC", "B-ORG", "B-PER", "I-ORG", "I-PER"]
    o, b_loc, b_misc, b_org = (confusion.labels.index(t) for t in ("O", "B-LOC", "B-MISC", "B-ORG"))
    assert confusion.matrix[o][o] == 5  # gold O at 2, 4, 7, 9 (10 became LOC), plus "left"
    assert confusion.matrix[o][b_loc] == 1
    assert confusion.matrix[b_loc][b_org] == 1
    assert confusion.matrix[b_misc][o] == 1
    assert sum(map(sum, confusion.matrix)) == 13


def test_length_mismatch_names_the_sentence():
    with pytest.raises(ValueError, match="sentence 1: gold has 3 tags but pred has 2"):
        evaluate_tags([["O"], ["O", "O", "O"]], [["O"], ["O", "O"]], "IOB2")
    with pytest.raises(ValueError, match="gold has 2 sentences but pred has 1"):
        evaluate_tags([["O"], ["O"]], [["O"]], "IOB2")


def test_tags_foreign_to_the_scheme_are_rejected():
    with pytest.raises(ValueError, match="sentence 0, word 1: pred tag 'S-PER' is not valid IOB2"):
        evaluate_tags([["O", "B-PER"]], [["O", "S-PER"]], "IOB2")
    with pytest.raises(ValueError, match="unknown scheme"):
        evaluate_tags([["O"]], [["O"]], "BILOU")


def test_to_dict_is_json_and_has_stable_keys(tmp_path):
    report = mixed_report()
    d = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert {"scheme", "strict", "lenient", "token_accuracy", "confusion", "errors", "examples", "counts"} <= set(d)
    assert set(d["strict"]["micro"]) == {"precision", "recall", "f1"}
    assert set(d["lenient"]["per_type"]["PER"]) == {"precision", "recall", "f1", "support"}
    assert json.loads(report.write_json(tmp_path / "out" / "eval.json").read_text()) == d
    # No span anywhere: seqeval's empty macro average must not leak NaN into the JSON.
    empty = evaluate_tags([["O", "O"]], [["O", "O"]], "IOB2").to_dict()
    json.dumps(empty, allow_nan=False)
    assert empty["strict"]["macro"]["f1"] == 0.0 and empty["token_accuracy"] == 1.0


def test_render_prints_the_numbers():
    console = Console(file=io.StringIO(), width=120)
    mixed_report().render(console)
    out = console.file.getvalue()
    assert "40.00" in out  # micro F1
    assert "25.00" in out  # macro F1
    assert "69.23" in out  # token accuracy 9/13
    assert "LOC->ORG" in out and "gold \\ pred" in out


def test_render_omits_the_matrix_for_big_label_sets():
    tags = [f"T{i}" for i in range(30)]
    console = Console(file=io.StringIO(), width=120)
    evaluate_tags([tags], [tags[1:] + tags[:1]], "NONE").render(console)
    out = console.file.getvalue()
    assert "omitted" in out and "gold \\ pred" not in out
    assert "0.00" in out  # token accuracy


def test_score_files_compares_any_prediction_file_with_gold(tmp_path):
    from lookright.errors import DataError
    from lookright.evaluation.files import score_files

    gold = tmp_path / "gold.conll"
    gold.write_text("Peter B-PER\nSmith I-PER\nin O\nParis B-LOC\n\nIBM B-ORG\n")
    pred = tmp_path / "pred.conll"
    pred.write_text("Peter B-PER\nSmith I-PER\nin O\nParis B-ORG\n\nIBM B-ORG\n")
    report = score_files(gold, pred)
    # gold spans PER, LOC, ORG; predicted PER, ORG(wrong type), ORG -> P = R = 2/3
    assert report.strict.micro.f1 == pytest.approx(2 / 3)
    assert report.type_confusions == {"LOC->ORG": 1}
    shifted = tmp_path / "shifted.conll"
    shifted.write_text("Peter B-PER\nSmith I-PER\nin O\nLyon B-LOC\n\nIBM B-ORG\n")
    with pytest.raises(DataError, match=r"shifted.conll:1: words differ .*gold.conll:1.*word 3: 'Paris' vs 'Lyon'"):
        score_files(gold, shifted)


# --- invalid IOB transitions: counted and located, never silently repaired ---------------------

# Three IOB2 sentences, two with `O I-X` slips (words 3 and 5 of the first, word 2 of the second);
# the IOB1 file writes B-X only between adjacent X spans, and once, wrongly, after O (line 8).
SLIPS = (
    "Peter B-PER\nSmith I-PER\nin O\nParis I-LOC\nand O\nIBM I-ORG\n\n"
    "BMW B-ORG\nsaid O\nMunich I-LOC\n\n"
    "Bonn B-LOC\n"
)
IOB1_FILE = "Peter I-PER\nSmith I-PER\nJohn B-PER\nin O\nParis I-LOC\n\nin O\nIBM B-ORG\n"


def test_score_counts_repaired_gold_transitions_and_keeps_an_iob2_file_iob2(tmp_path):
    from lookright.evaluation.files import score_files

    gold = tmp_path / "gold.conll"
    gold.write_text(SLIPS)
    fixed = tmp_path / "fixed.conll"
    fixed.write_text(SLIPS.replace("Paris I-LOC", "Paris B-LOC").replace("IBM I-ORG", "IBM B-ORG")
                     .replace("Munich I-LOC", "Munich B-LOC"))
    for given in (None, "IOB2", "bio"):
        report = score_files(gold, fixed, scheme=given)
        assert report.scheme == "IOB2"  # three slips do not turn the file into IOB1
        repairs = report.repairs["gold"]
        assert (repairs.scheme, repairs.transitions, repairs.sentences) == ("IOB2", 3, 2)
        assert (repairs.first, repairs.first_word, repairs.repaired) == (f"{gold}:1", 3, True)
        assert report.repairs["predictions"].transitions == 0
        assert report.strict.micro.f1 == 1.0  # repaired gold spans are the intended ones
        assert (report.counts.sentences, report.counts.words, report.counts.gold_spans) == (3, 10, 6)  # nothing dropped
    as_json = json.loads(json.dumps(report.to_dict()))["repairs"]["gold"]
    assert as_json == {"scheme": "IOB2", "transitions": 3, "sentences": 2, "first": f"{gold}:1", "first_word": 3,
                       "repaired": True}
    console = Console(file=io.StringIO(), width=60)  # narrower than the line: it must not wrap
    report.render(console)
    assert f"gold: 3 invalid IOB2 transitions in 2 sentences (first at {gold}:1, word 3)" in console.file.getvalue()
    assert score_files(gold, fixed, scheme="IOB1").scheme == "IOB1"  # the scheme the user gave is kept


def test_an_iob1_file_is_detected_by_its_signature_and_its_stray_b_is_counted(tmp_path):
    from lookright.evaluation.files import score_files

    gold = tmp_path / "iob1.conll"
    gold.write_text(IOB1_FILE)
    report = score_files(gold, gold)
    assert report.scheme == "IOB1" and report.counts.gold_spans == 4
    repairs = report.repairs["gold"]
    assert (repairs.transitions, repairs.sentences, repairs.first, repairs.first_word) == (1, 1, f"{gold}:7", 1)


def test_score_reads_predictions_as_written_so_strict_counts_their_invalid_transitions(tmp_path):
    from lookright.evaluation.files import score_files

    gold = tmp_path / "gold.conll"
    gold.write_text("Peter B-PER\nSmith I-PER\nin O\nParis B-LOC\n\nBonn B-LOC\nis O\n")
    pred = tmp_path / "pred.conll"
    pred.write_text("Peter B-PER\nSmith I-PER\nin O\nParis I-LOC\n\nBonn B-LOC\nis O\n")
    report = score_files(gold, pred)
    # strict (seqeval) drops the span opened by I-LOC: P = 2/2, R = 2/3, F1 = 0.8; lenient repairs it
    assert report.strict.micro.recall == pytest.approx(2 / 3) and report.strict.micro.f1 == pytest.approx(0.8)
    assert report.lenient.micro.f1 == 1.0
    repairs = report.repairs["predictions"]
    assert (repairs.transitions, repairs.sentences, repairs.first, repairs.repaired) == (1, 1, f"{pred}:1", False)
    assert report.repairs["gold"].transitions == 0
    empty = tmp_path / "none.conll"  # a system that found nothing is scored, not rejected as untyped tags
    empty.write_text("Peter O\nSmith O\nin O\nParis O\n\nBonn O\nis O\n")
    assert score_files(gold, empty).strict.micro.recall == 0.0


def test_a_tag_foreign_to_the_declared_scheme_names_the_file_and_line(tmp_path):
    from lookright.errors import DataError
    from lookright.evaluation.files import score_files

    gold = tmp_path / "gold.conll"
    gold.write_text("Peter B-PER\n\nin O\nParis S-LOC\n")
    with pytest.raises(DataError, match=r"gold.conll:3: tag 'S-LOC' is not valid in scheme IOB2"):
        score_files(gold, gold, scheme="IOB2")
