"""The learning-curve bench's merge: the unmask line is the config validation picks, never the test's best."""

import importlib.util
from pathlib import Path

spec = importlib.util.spec_from_file_location(
    "learning_curve", Path(__file__).resolve().parent.parent / "bench" / "learning_curve.py"
)
learning_curve = importlib.util.module_from_spec(spec)
spec.loader.exec_module(learning_curve)


def scores(values: dict[int, float]) -> dict:
    """A score block as compare records it: the mean, and each seed's value when there are several."""
    mean = sum(values.values()) / len(values)
    block = {"metric": "strict micro F1", "score": mean, "strict_f1": mean}
    if len(values) > 1:
        each = list(values.values())
        block["per_seed"] = {"score": each, "strict_f1": each}
        block["sd"] = {"score": 0.0, "strict_f1": 0.0}
    return block


def row(method: str, validation: dict[int, float], test: dict[int, float]) -> dict:
    seeds = list(validation)
    return {
        "method": method,
        "detail": method.replace(":", " "),
        "validation": scores(validation),
        "test": scores(test),
        "seeds": seeds,
        "seed": seeds[0] if len(seeds) == 1 else None,
    }


def point(*rows: dict) -> dict:
    return {"task": "ner", "sentences": 1000, "command": [], "rows": list(rows)}


def picked(p: dict) -> dict:
    return next(r for r in learning_curve.with_unmask_pick([p])[0]["rows"] if r["method"] == learning_curve.PICK)


def test_the_pick_follows_validation_not_test():
    chosen = picked(
        point(
            row("unmask:0011", {42: 0.70, 43: 0.72}, {42: 0.90, 43: 0.90}),
            row("unmask:1111", {42: 0.80, 43: 0.78}, {42: 0.60, 43: 0.60}),
        )
    )
    assert chosen["test"]["strict_f1"] == 0.60
    assert chosen["detail"].startswith("unmask 1111: validation 79.00 vs 0011 71.00 on seeds 42, 43")


def test_configs_are_compared_on_the_seeds_they_share():
    # 0011 looks better over three seeds, but on seed 42, the only one 1111 ran, 1111 is ahead
    chosen = picked(
        point(
            row("unmask:0011", {42: 0.70, 43: 0.90, 44: 0.90}, {42: 0.7, 43: 0.7, 44: 0.7}),
            row("unmask:1111", {42: 0.75}, {42: 0.8}),
        )
    )
    assert chosen["seeds"] == [42]
    assert chosen["detail"].endswith("on seed 42")


def test_rows_with_recipe_flags_and_other_methods_are_not_candidates():
    chosen = picked(
        point(
            row("unmask:0011", {42: 0.5}, {42: 0.5}),
            row("unmask:1111 --lr 0.003", {42: 0.9}, {42: 0.9}),
            row("repeat:1:1111", {42: 0.95}, {42: 0.95}),
        )
    )
    assert chosen["detail"] == "unmask 0011: validation 50.00 (the only config run) on seed 42"


def test_a_point_without_unmask_rows_gets_no_pick_and_the_grid_leaves_the_cell_empty():
    p = learning_curve.with_unmask_pick([point(row("causal", {42: 0.5, 43: 0.6}, {42: 0.4, 43: 0.5}))])
    assert [r["method"] for r in p[0]["rows"]] == ["causal"]
    line = learning_curve.grid(p).splitlines()[2]
    assert line == "| ner | 1,000 | 45.00 ± 0.00 (2) |  |  |  |  |"
