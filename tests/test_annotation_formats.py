"""Annotation tools' files: Label Studio, doccano, Prodigy JSONL and spaCy DocBin in and out.

Every fixture is written here, in the tool's documented export format; nothing is read from
shared data. Round trips go read -> write -> read and compare spans character for character.
"""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from lookright.data.annotation import AnnotatedText, CharSpan, char_spans, detect_format
from lookright.data.annotation.doccano import DoccanoWriter
from lookright.data.annotation.label_studio import LabelStudioWriter, iter_label_studio
from lookright.data.prepare import require_tags
from lookright.data.readers import read_data
from lookright.errors import DataError, DataWarning

REPO = Path(__file__).resolve().parents[1]

# Code points, not UTF-16 units: the emoji before the spans would shift UTF-16 offsets by one.
TEXT = "😀 Alice Smith joined New York-based Acme\u2122 in 1996, then moved to 東京."
SPANS = [("Alice Smith", "PER"), ("New York", "LOC"), ("Acme", "ORG"), ("1996", "DATE"), ("東京", "LOC")]
SECOND = "No entities here ."


def spans_of(text: str, annotated: list[tuple[str, str]]) -> list[CharSpan]:
    return [CharSpan(text.index(t), text.index(t) + len(t), label) for t, label in annotated]


EXPECTED = spans_of(TEXT, SPANS)


def as_text(spans: list[CharSpan], text: str = TEXT) -> list[tuple[str, str]]:
    return [(text[s.start : s.end], s.label) for s in spans]


def ls_result(text: str, spans: list[CharSpan], **extra) -> list[dict]:
    return [
        {"id": f"r{k}", "from_name": "label", "to_name": "text", "type": "labels",
         "value": {"start": s.start, "end": s.end, "text": text[s.start : s.end], "labels": [s.label]}, **extra}
        for k, s in enumerate(spans)
    ]


def ls_task(task_id: int, text: str, spans: list[CharSpan] | None, **extra) -> dict:
    task = {"id": task_id, "data": {"text": text}, "annotations": [], "predictions": [], **extra}
    if spans is not None:
        task["annotations"] = [{"id": 100 + task_id, "was_cancelled": False, "result": ls_result(text, spans)}]
    return task


def write_json(path: Path, value) -> Path:
    path.write_text(json.dumps(value, indent=2, ensure_ascii=False), encoding="utf-8")
    return path


def write_lines(path: Path, *records) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def label_studio_file(tmp_path: Path, name: str = "export.json") -> Path:
    return write_json(tmp_path / name, [ls_task(1, TEXT, EXPECTED), ls_task(2, SECOND, [])])


def doccano_file(tmp_path: Path, name: str = "doccano.jsonl", key: str = "label") -> Path:
    return write_lines(
        tmp_path / name,
        {"id": 1, "text": TEXT, key: [[s.start, s.end, s.label] for s in EXPECTED], "Comments": []},
        {"id": 2, "text": SECOND, key: [], "Comments": []},
    )


def prodigy_tokens(text: str, spans: list[CharSpan] = ()) -> list[dict]:
    """Tokens as Prodigy's (spaCy's) tokenizer gives them: split at hyphens, so at every span edge here."""
    from lookright.data.words import split_words

    edges = [x for s in spans for x in (s.start, s.end)]
    return [{"text": text[s:e], "start": s, "end": e, "id": i, "ws": text[e : e + 1] == " "}
            for i, (s, e) in enumerate(split_words(text, edges))]


def prodigy_record(text: str, spans: list[CharSpan], answer: str = "accept") -> dict:
    tokens = prodigy_tokens(text, EXPECTED if text == TEXT else spans)
    starts = {t["start"]: t["id"] for t in tokens}
    ends = {t["end"]: t["id"] for t in tokens}
    return {
        "text": text, "tokens": tokens, "_input_hash": 1, "_task_hash": 2, "answer": answer,
        "spans": [{"start": s.start, "end": s.end, "label": s.label, "token_start": starts[s.start],
                   "token_end": ends[s.end]} for s in spans],
    }


def prodigy_file(tmp_path: Path, name: str = "prodigy.jsonl") -> Path:
    return write_lines(tmp_path / name, prodigy_record(TEXT, EXPECTED), prodigy_record(SECOND, []))


def docbin_file(tmp_path: Path, name: str = "docs.spacy") -> Path:
    spacy = pytest.importorskip("spacy")
    from spacy.tokens import DocBin

    nlp = spacy.blank("en")
    docbin = DocBin()
    for text, spans in ((TEXT, EXPECTED), (SECOND, [])):
        doc = nlp(text)
        doc.ents = [doc.char_span(s.start, s.end, label=s.label) for s in spans]
        docbin.add(doc)
    docbin.to_disk(tmp_path / name)
    return tmp_path / name


WRITERS = {"label-studio": label_studio_file, "doccano": doccano_file, "prodigy": prodigy_file, "spacy": docbin_file}


def read_spans(path: Path, **kwargs) -> list[list[CharSpan]]:
    return [char_spans(s) for s in read_data(path, **kwargs)]


# --- reading each format ----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", list(WRITERS))
def test_each_format_reads_its_spans_character_for_character(tmp_path, fmt):
    path = WRITERS[fmt](tmp_path)
    first, second = read_data(path, fmt=fmt)
    assert char_spans(first) == EXPECTED and as_text(char_spans(first)) == SPANS
    assert first.text == TEXT and [TEXT[a:b] for a, b in first.offsets] == first.tokens
    assert "York" in first.tokens and "-" in first.tokens  # New York|-based: cut where the span ends
    assert second.tags == ["O"] * len(second.tokens) and second.tokens == SECOND.split()
    assert first.source == str(path) and first.record


@pytest.mark.parametrize("fmt", list(WRITERS))
def test_auto_detection_picks_the_reader_of_each_format(tmp_path, fmt):
    path = WRITERS[fmt](tmp_path)
    assert detect_format(path) == fmt
    assert read_spans(path) == read_spans(path, fmt=fmt)


def test_auto_detection_keeps_lookright_jsonl_and_reads_a_json_file_of_lines(tmp_path):
    tokens = write_lines(tmp_path / "tokens.jsonl", {"tokens": ["EU", "rejects"], "tags": ["B-ORG", "O"]})
    spans = write_lines(tmp_path / "spans.json", {"text": "xxACMEyy", "spans": [{"start": 2, "end": 6, "label": "ORG"}]})
    assert detect_format(tokens) == detect_format(spans) == "jsonl"
    assert read_data(tokens)[0].tags == ["B-ORG", "O"]
    assert read_data(spans)[0].tokens == ["xx", "ACME", "yy"]  # lookright's own JSONL stays lenient
    doccano_json = doccano_file(tmp_path, "doccano.json")  # a .json file of doccano lines
    assert detect_format(doccano_json) == "doccano"
    other = write_json(tmp_path / "list.json", [{"tokens": ["a"]}])
    with pytest.raises(DataError, match="not a Label Studio task"):
        read_data(other)


# --- round trips --------------------------------------------------------------------------------


def _annotated(path: Path, **kwargs) -> list[AnnotatedText]:
    return [AnnotatedText(s.text, char_spans(s), words=s.offsets) for s in read_data(path, **kwargs)]


def _write(items: list[AnnotatedText], fmt: str, path: Path) -> Path:
    if fmt == "spacy":
        from lookright.data.annotation.docbin import DocBinWriter

        writer = DocBinWriter(path)
        for item in items:
            writer.write(item)
        writer.close()
        return path
    with path.open("w", encoding="utf-8") as handle:
        writer = LabelStudioWriter(handle) if fmt == "label-studio" else DoccanoWriter(handle)
        for item in items:
            writer.write(item)
        writer.close()
    return path


@pytest.mark.parametrize("source", list(WRITERS))
@pytest.mark.parametrize("target", ["label-studio", "doccano", "spacy"])
def test_read_write_read_keeps_every_span(tmp_path, source, target):
    items = _annotated(WRITERS[source](tmp_path))
    suffix = {"label-studio": "json", "doccano": "jsonl", "spacy": "spacy"}[target]
    path = _write(items, target, tmp_path / f"out.{suffix}")
    if target == "label-studio":  # pre-annotations are predictions: read them as such
        again = [char_spans(s) for s in iter_label_studio(path, use_predictions=True)]
    else:
        again = read_spans(path)
    assert again == [item.spans for item in items] == [EXPECTED, []]
    assert [s.text for s in read_data(path, label_column=None)] == [TEXT, SECOND]


def test_label_studio_writer_streams_a_valid_json_list_with_scores(tmp_path):
    path = tmp_path / "tasks.json"
    with path.open("w", encoding="utf-8") as handle:
        writer = LabelStudioWriter(handle, model_version="runs/ner (unmask 0011)", from_name="ner", to_name="doc")
        writer.write(AnnotatedText(TEXT, [CharSpan(s.start, s.end, s.label, 0.5) for s in EXPECTED], score=0.8,
                                   meta={"uncertainty": 0.2}))
        writer.write(AnnotatedText(SECOND, [], score=0.9))
        writer.close()
    tasks = json.loads(path.read_text(encoding="utf-8"))
    assert path.read_text().startswith("[\n{") and ",\n{" in path.read_text()
    [prediction] = tasks[0]["predictions"]
    assert prediction["model_version"] == "runs/ner (unmask 0011)" and prediction["score"] == 0.8
    assert tasks[0]["data"] == {"text": TEXT, "uncertainty": 0.2}
    first = prediction["result"][0]
    assert (first["from_name"], first["to_name"], first["type"], first["score"]) == ("ner", "doc", "labels", 0.5)
    assert first["value"] == {"start": EXPECTED[0].start, "end": EXPECTED[0].end, "text": "Alice Smith", "labels": ["PER"]}
    empty = tmp_path / "none.json"
    with empty.open("w") as handle:
        LabelStudioWriter(handle).close()
    assert json.loads(empty.read_text()) == []


# --- bad offsets --------------------------------------------------------------------------------

MID_WORD = CharSpan(TEXT.index("New"), TEXT.index("York") + 3, "LOC")  # "New Yor|k"
OVERLAP = [CharSpan(TEXT.index("Alice"), TEXT.index("Smith") + 5, "PER"), CharSpan(TEXT.index("Smith"),
                                                                                    TEXT.index("Smith") + 5, "X")]
PAST_END = CharSpan(TEXT.index("東京"), len(TEXT) + 4, "LOC")


def _bad_file(tmp_path: Path, fmt: str, spans: list[CharSpan], text_override: str | None = None) -> Path:
    """The format's file with a good first record and `spans` on the second (line 2 / task 2 / doc 1)."""
    good = [CharSpan(0, 1, "EMO")]
    if fmt == "label-studio":
        bad = ls_task(2, TEXT, [])
        result = ls_result(TEXT, spans)
        if text_override is not None:
            result[0]["value"]["text"] = text_override
        bad["annotations"][0]["result"] = result
        return write_json(tmp_path / "bad.json", [ls_task(1, TEXT, good), bad])
    if fmt == "doccano":
        return write_lines(tmp_path / "bad.jsonl", {"id": 1, "text": TEXT, "label": [[0, 1, "EMO"]]},
                           {"id": 2, "text": TEXT, "label": [[s.start, s.end, s.label] for s in spans]})
    if fmt == "prodigy":
        bad = prodigy_record(TEXT, [])
        bad["spans"] = [{"start": s.start, "end": s.end, "label": s.label} for s in spans]
        if text_override is not None:
            bad["spans"][0]["text"] = text_override
        return write_lines(tmp_path / "bad.jsonl", prodigy_record(TEXT, good), bad)
    raise AssertionError(fmt)


def _fails(path: Path, fmt: str, match: str, **kwargs) -> DataError:
    with pytest.raises(DataError, match=match) as caught:
        read_data(path, fmt=fmt, **kwargs)
    error = caught.value
    assert error.path == str(path) and str(path) in str(error)
    line = 2 if fmt in ("doccano", "prodigy") else None
    if line is not None:
        assert error.line == 2 and f"{path}:2:" in str(error) and "record 1" in str(error)
    else:  # Label Studio: the line the task starts on, and its id
        assert error.line == json.dumps(json.loads(path.read_text()), indent=2).splitlines().index("  {", 2) + 1
        assert "task 2 (record 1)" in str(error)
    return error


TEXT_FORMATS = ["label-studio", "doccano", "prodigy"]


@pytest.mark.parametrize("fmt", TEXT_FORMATS)
def test_a_span_edge_inside_a_word_fails_naming_file_record_and_span(tmp_path, fmt):
    error = _fails(_bad_file(tmp_path, fmt, [EXPECTED[0], MID_WORD]), fmt, "inside the word")
    assert f"spans[1] [{MID_WORD.start}, {MID_WORD.end}) 'New Yor' (LOC)" in str(error) and "'York'" in str(error)


@pytest.mark.parametrize("fmt", TEXT_FORMATS)
def test_overlapping_spans_fail(tmp_path, fmt):
    error = _fails(_bad_file(tmp_path, fmt, OVERLAP), fmt, "overlap")
    assert "spans[0]" in str(error) and "spans[1]" in str(error) and "(PER)" in str(error) and "(X)" in str(error)


@pytest.mark.parametrize("fmt", ["doccano", "prodigy"])
def test_a_span_past_the_end_of_the_text_fails(tmp_path, fmt):
    error = _fails(_bad_file(tmp_path, fmt, [PAST_END]), fmt, "past the end of the text")
    assert f"spans[0] [{PAST_END.start}, {PAST_END.end}) (LOC)" in str(error) and f"length {len(TEXT)}" in str(error)


def test_a_label_studio_span_past_the_end_fails(tmp_path):
    path = _bad_file(tmp_path, "label-studio", [EXPECTED[0]])
    tasks = json.loads(path.read_text())
    tasks[1]["annotations"][0]["result"][0]["value"].update(start=PAST_END.start, end=PAST_END.end, text="東京.")
    write_json(path, tasks)
    _fails(path, "label-studio", "past the end of the text")


@pytest.mark.parametrize("fmt", ["label-studio", "prodigy"])
def test_a_span_text_that_disagrees_with_the_offsets_fails(tmp_path, fmt):
    error = _fails(_bad_file(tmp_path, fmt, [EXPECTED[0]], text_override="lice Smith "), fmt, "is not the text's")
    assert "'lice Smith '" in str(error) and "'Alice Smith'" in str(error) and "UTF-16" in str(error)


def test_text_only_formats_cut_between_letters_and_punctuation_but_not_inside_letters(tmp_path):
    text = "Acme™ and U.S.A and 東京都"
    ok = [CharSpan(0, 4, "ORG"), CharSpan(20, 22, "LOC")]  # Acme|™; 東京|都 (every Han character is a word)
    [s] = read_data(write_lines(tmp_path / "ok.jsonl", {"text": text, "label": [[a.start, a.end, a.label] for a in ok]}))
    assert as_text(char_spans(s), text) == [("Acme", "ORG"), ("東京", "LOC")]
    bad = write_lines(tmp_path / "bad.jsonl", {"text": "in 1996 ok", "label": [[3, 5, "DATE"]]})  # 19|96
    with pytest.raises(DataError, match=r"its end 5 is inside the word '1996'"):
        read_data(bad)


def test_prodigy_tokens_are_the_words_and_a_cut_token_fails(tmp_path):
    record = prodigy_record("New York-based", [])
    record["tokens"] = [{"text": "New", "start": 0, "end": 3, "id": 0}, {"text": "York-based", "start": 4, "end": 14, "id": 1}]
    record["spans"] = [{"start": 0, "end": 8, "label": "LOC"}]  # ends inside the given token "York-based"
    path = write_lines(tmp_path / "p.jsonl", record)
    with pytest.raises(DataError, match="inside the word 'York-based'"):
        read_data(path)
    with pytest.warns(DataWarning, match="1 span"):
        [s] = read_data(path, snap_spans=True)
    assert s.tokens == ["New", "York-based"] and s.tags == ["B-LOC", "I-LOC"]
    record["spans"] = [{"start": 0, "end": 3, "label": "LOC", "token_start": 0, "token_end": 1}]
    with pytest.raises(DataError, match="token_end 1"):
        read_data(write_lines(tmp_path / "q.jsonl", record))
    record["tokens"] = record["tokens"][:1]
    record["spans"] = []
    with pytest.raises(DataError, match="in no token"):
        read_data(write_lines(tmp_path / "r.jsonl", record))


# --- snapping -----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", TEXT_FORMATS)
def test_snap_spans_moves_edges_outward_to_whole_words_and_reports_the_count(tmp_path, fmt):
    inner = CharSpan(TEXT.index("lice"), TEXT.index("Smith") + 2, "PER")  # "lice Sm" -> "Alice Smith"
    path = _bad_file(tmp_path, fmt, [inner, MID_WORD, EXPECTED[2]])
    _fails(path, fmt, "inside the word")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sentences = read_data(path, fmt=fmt, snap_spans=True)
    assert as_text(char_spans(sentences[1])) == [("Alice Smith", "PER"), ("New York", "LOC"), ("Acme", "ORG")]
    messages = [str(w.message) for w in caught if issubclass(w.category, DataWarning)]
    snapped = [m for m in messages if "snapped" in m]
    assert len(snapped) == 1 and "2 span(s) snapped outward" in snapped[0] and str(path) in snapped[0]
    assert "'lice Sm' (PER) -> " in snapped[0] and "'Alice Smith'" in snapped[0]


def test_snapping_that_makes_spans_overlap_still_fails(tmp_path):
    path = write_lines(tmp_path / "d.jsonl", {"text": "Newcastle United", "label": [[0, 3, "LOC"], [3, 16, "ORG"]]})
    with pytest.raises(DataError, match="overlap after snapping"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        read_data(path, snap_spans=True)


# --- Label Studio specifics ----------------------------------------------------------------------


def test_label_studio_reads_the_first_non_cancelled_annotation_and_reports_the_rest(tmp_path):
    task = ls_task(5, TEXT, None)
    task["annotations"] = [
        {"id": 1, "was_cancelled": True, "result": ls_result(TEXT, EXPECTED[:1])},
        {"id": 2, "was_cancelled": False, "result": ls_result(TEXT, EXPECTED[1:3])
         + [{"type": "choices", "from_name": "sentiment", "to_name": "text", "value": {"choices": ["pos"]}}]},
        {"id": 3, "result": ls_result(TEXT, EXPECTED)},
    ]
    task["predictions"] = [{"model_version": "m", "result": ls_result(TEXT, EXPECTED[4:])}]
    path = write_json(tmp_path / "t.json", [task])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        [s] = read_data(path)
    assert as_text(char_spans(s)) == SPANS[1:3]
    notes = sorted(str(w.message).split(": ", 1)[1] for w in caught)
    assert notes == ["1 cancelled annotation(s) skipped", "1 result(s) of type 'choices' ignored (not spans)",
                     "1 task(s) with more than one annotation: the first was read"]
    assert [char_spans(x) for x in iter_label_studio(path, use_predictions=True)] == [EXPECTED[4:]]


def test_an_unannotated_task_is_unlabeled_and_training_names_it(tmp_path):
    path = write_json(tmp_path / "t.json", [ls_task(1, TEXT, EXPECTED), ls_task(9, SECOND, None)])
    first, second = read_data(path)
    assert first.tags is not None and second.tags is None and second.record == "task 9 (record 1)"
    with pytest.raises(DataError, match=r"training data must be labelled, task 9 \(record 1\) has no annotation"):
        require_tags([first, second], "training")


def test_label_studio_json_min_is_read(tmp_path):
    records = [
        {"id": 1, "text": TEXT, "label": [{"start": s.start, "end": s.end, "text": TEXT[s.start:s.end], "labels": [s.label]}
                                          for s in EXPECTED], "annotator": 1, "annotation_id": 11},
        {"id": 2, "text": SECOND, "annotator": 1, "annotation_id": 12},
        {"id": 3, "text": SECOND},
    ]
    path = write_json(tmp_path / "min.json", records)
    assert detect_format(path) == "label-studio"
    first, second, third = read_data(path)
    assert char_spans(first) == EXPECTED and second.tags == ["O"] * 4 and third.tags is None


def test_label_studio_problems_name_the_task(tmp_path):
    task = ls_task(3, TEXT, [EXPECTED[0]])
    task["annotations"][0]["result"][0]["value"]["labels"] = ["PER", "ORG"]
    with pytest.raises(DataError, match=r"task 3 \(record 0\): spans\[0\] .*exactly one label"):
        read_data(write_json(tmp_path / "a.json", [task]))
    with pytest.raises(DataError, match=r"t.json:2: invalid JSON"):
        (tmp_path / "t.json").write_text('[\n{"data": }\n]')
        read_data(tmp_path / "t.json")
    with pytest.raises(DataError, match="no tasks"):
        read_data(write_json(tmp_path / "e.json", []), fmt="label-studio")


def test_reading_texts_only_skips_span_checks(tmp_path):
    path = _bad_file(tmp_path, "doccano", [MID_WORD])
    assert [s.tags for s in read_data(path, label_column=None)] == [None, None]


# --- doccano and Prodigy specifics ---------------------------------------------------------------


def test_doccano_older_labels_key_entities_and_unlabeled_records(tmp_path):
    older = doccano_file(tmp_path, "old.jsonl", key="labels")
    assert read_spans(older) == [EXPECTED, []]
    entities = write_lines(tmp_path / "rel.jsonl", {"id": 4, "text": TEXT, "relations": [], "entities": [
        {"id": k, "label": s.label, "start_offset": s.start, "end_offset": s.end} for k, s in enumerate(EXPECTED)]})
    assert read_spans(entities, fmt="doccano") == [EXPECTED]
    unlabeled = write_lines(tmp_path / "u.jsonl", {"text": SECOND, "label": []}, {"text": SECOND})
    assert [s.tags for s in read_data(unlabeled)] == [["O"] * 4, None]
    classification = write_lines(tmp_path / "c.jsonl", {"text": SECOND, "label": ["positive"]})
    with pytest.raises(DataError, match=r"c.jsonl:1: record 0: label\[0\] = 'positive' is not \[start, end, type\]"):
        read_data(classification)


def test_prodigy_rejected_and_ignored_records_are_skipped_and_counted(tmp_path):
    path = write_lines(tmp_path / "p.jsonl", prodigy_record(TEXT, EXPECTED), prodigy_record(SECOND, [], "reject"),
                       prodigy_record(SECOND, [], "ignore"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        [s] = read_data(path)
    assert char_spans(s) == EXPECTED
    assert sorted(str(w.message).split(": ", 1)[1] for w in caught) == [
        "1 record(s) answered 'ignore' skipped", "1 record(s) answered 'reject' skipped"]


# --- spaCy DocBin ---------------------------------------------------------------------------------


def test_docbin_whitespace_tokens_are_separators_and_unannotated_docs_unlabeled(tmp_path):
    spacy = pytest.importorskip("spacy")
    from spacy.tokens import DocBin

    nlp = spacy.blank("en")
    text = "Anna  lives\n\nin Oslo"
    annotated = nlp(text)
    annotated.ents = [annotated.char_span(0, 4, label="PER"), annotated.char_span(text.index("Oslo"), len(text),
                                                                                   label="LOC")]
    assert any(t.is_space for t in annotated)  # the extra space and the blank line are tokens in spaCy
    docbin = DocBin(docs=[annotated, nlp("Plain text")])
    docbin.to_disk(tmp_path / "w.spacy")
    first, second = read_data(tmp_path / "w.spacy")
    assert first.tokens == ["Anna", "lives", "in", "Oslo"] and first.tags == ["B-PER", "O", "O", "B-LOC"]
    assert second.tags is None and second.record == "doc 1" and second.tokens == ["Plain", "text"]


# --- through the commands --------------------------------------------------------------------------


def test_training_config_reads_tool_files_with_snap_spans(tmp_path):
    from lookright.training.config import TrainConfig
    from lookright.training.splits import load_split

    path = _bad_file(tmp_path, "doccano", [MID_WORD])
    with pytest.raises(DataError, match="inside the word"):
        load_split(str(path), TrainConfig(train=str(path)), None)
    with pytest.warns(DataWarning, match="1 span"):
        sentences = load_split(str(path), TrainConfig(train=str(path), data_format="doccano", snap_spans=True), None)
    assert as_text(char_spans(sentences[1])) == [("New York", "LOC")]


def test_score_compares_tool_files_and_prints_the_snap_warning(tmp_path):
    gold = label_studio_file(tmp_path)
    pred = _bad_file(tmp_path, "doccano", [MID_WORD])
    write_lines(pred, {"text": TEXT, "label": [[MID_WORD.start, MID_WORD.end, "LOC"]]}, {"text": SECOND, "label": []})
    command = [sys.executable, "-m", "lookright", "score", "--gold", str(gold), "--pred", str(pred), "--snap-spans",
               "--output", str(tmp_path / "report.json")]
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert f"warning: {pred}: 1 span(s) snapped outward" in done.stderr.replace("\n", " ")
    report = json.loads((tmp_path / "report.json").read_text())
    assert json.dumps(report).count("LOC") > 0
    failed = subprocess.run(command[:-3], capture_output=True, text=True, cwd=REPO, timeout=60, check=False)
    assert failed.returncode == 2 and "inside the word 'York'" in failed.stderr.replace("\n", " ")
