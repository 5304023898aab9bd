"""`lookright compare`: every method trained as its own process, one table, resumable."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from lookright.cli import app
from lookright.compare import parse_methods
from lookright.errors import DataError


def test_method_specs_parse_and_fail_early():
    specs = parse_methods("causal,unmask:0011,unmask:BEST,repeat:2,generative:3,encoder", encoder_model=None)
    assert [s.overrides for s in specs] == [
        {"method": "causal"}, {"method": "unmask", "unmask": "0011"}, {"method": "unmask", "unmask": "BEST"},
        {"method": "repeat", "repeat": 2}, {"method": "generative", "demos": 3}, {"method": "encoder", "model": "minilm"},
    ]
    assert specs[2].needs_search and specs[1].slug == "unmask-0011"
    with pytest.raises(ValueError, match="unknown method"):
        parse_methods("causal,sift")
    with pytest.raises(ValueError, match="twice"):
        parse_methods("repeat,repeat")
    with pytest.raises(ValueError, match="R must be a whole number"):
        parse_methods("repeat:x")
    with pytest.raises(ValueError):
        parse_methods("unmask:01a1")


def test_compare_runs_each_method_and_writes_one_table(tiny_model_dir, conll2003, tmp_path):
    lines = (conll2003 / "test.txt").read_text().split("\n\n")[:40]
    test_file = tmp_path / "test.txt"
    test_file.write_text("\n\n".join(lines) + "\n")
    output = tmp_path / "cmp"
    args = [
        "compare", "--train", str(conll2003 / "train.txt"), "--validation", str(conll2003 / "validation.txt"),
        "--test", str(test_file), "--label-column", "3", "--model", str(tiny_model_dir),
        "--methods", "causal,unmask:BEST,repeat,generative", "--best-among", "0011,0001",
        "--max-train-sentences", "32", "--max-validation-sentences", "12", "--max-steps", "2", "--batch-size", "8",
        "--output", str(output),
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output + repr(result.exception)
    rows = [json.loads(line) for line in (output / "results.jsonl").read_text().splitlines()]
    assert [r["method"] for r in rows] == ["causal", "unmask:BEST", "repeat", "generative"]
    by_method = {r["method"]: r for r in rows}
    assert by_method["unmask:BEST"]["detail"] in ("unmask 0011", "unmask 0001")
    assert by_method["unmask:BEST"]["search_tokens"] > 0
    search = [json.loads(line) for line in (output / "unmask-search" / "results.jsonl").read_text().splitlines()]
    assert {r["config"] for r in search} == {"0011", "0001"} and all(not r["test"] for r in search)  # selection never sees test
    assert by_method["repeat"]["detail"] == "repeat r=1"
    # repetition reads every window twice: twice the tokens of the causal run for the same steps
    assert by_method["repeat"]["tokens_seen"] == pytest.approx(2 * by_method["causal"]["tokens_seen"], rel=0.01)
    for row in rows:
        assert row["steps"] == 2 and row["peak_memory_mb"] > 0 and row["test_words_per_second"] > 0
        assert 0 <= row["test"]["strict_f1"] <= 1
    table = (output / "comparison.md").read_text()
    assert table.count("\n| ") >= 5 and "generative k=1 similar" in table
    assert (output / "comparison.png").stat().st_size > 0
    saved = json.loads((output / "comparison.json").read_text())
    assert len(saved["rows"]) == 4

    again = CliRunner().invoke(app, args)  # resumes: nothing retrained
    assert again.exit_code == 0
    assert "already measured" in again.output or "already measured" in str(again.stderr_bytes or b"")
    assert len((output / "results.jsonl").read_text().splitlines()) == 4


def test_comparison_rows_written_with_the_retired_extra_field_still_resume(tmp_path):
    from lookright.compare.rows import CompareRow, results_file

    row = {"method": "causal", "detail": "causal", "validation": {"score": 0.5}, "test": {"score": 0.4},
           "train_seconds": 1.0, "tokens_seen": 10, "tokens_per_second": 10.0, "steps": 2,
           "test_words_per_second": 100.0, "peak_memory_mb": 50.0, "model_dir": "runs/causal", "extra": {}}
    (tmp_path / "results.jsonl").write_text(json.dumps(row) + "\n" + "{not json\n")
    rows = results_file(tmp_path)
    with pytest.raises(DataError, match=r"results\.jsonl:2.*not a comparison row"):
        rows.rows()
    (tmp_path / "results.jsonl").write_text(json.dumps(row) + "\n")
    assert rows.rows() == [CompareRow(**{k: v for k, v in row.items() if k != "extra"})]
