"""The comparison for people: terminal table, Markdown, JSON and a PNG chart."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from rich.console import Console
from rich.table import Table

from ..console import command_line, print_plain
from ..evaluation.seeds import score_text
from ..outputs import write_text_atomic
from .config import CompareConfig
from .rows import CompareRow

COLUMNS = ("method", "ran as", "val F1", "test F1 (strict)", "test F1 (lenient)", "token acc",
           "train s", "train tokens", "predict words/s", "peak MiB")


def _cells(row: CompareRow) -> list[str]:
    train = f"{row.train_seconds:,.0f}" + (f" (+{row.search_seconds:,.0f} search)" if row.search_seconds else "")
    tokens = f"{row.tokens_seen:,}" + (f" (+{row.search_tokens:,})" if row.search_tokens else "")
    return [
        row.method, row.detail, score_text(row.validation, each=False), score_text(row.test, "strict_f1"),
        score_text(row.test, "lenient_f1", each=False), score_text(row.test, "token_accuracy", each=False), train, tokens,
        f"{row.test_words_per_second:,.0f}", f"{row.peak_memory_mb:,.0f}",
    ]


def markdown(rows: Sequence[CompareRow]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(_cells(r)) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def render(rows: Sequence[CompareRow], console: Console) -> None:
    table = Table(title="lookright compare (selection on validation; test scored once)")
    for column in COLUMNS:
        table.add_column(column, justify="left" if column in ("method", "ran as") else "right")
    for row in rows:
        table.add_row(*_cells(row))
    console.print(table)


def plot(rows: Sequence[CompareRow], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [r.method for r in rows]
    fig, (f1_ax, speed_ax) = plt.subplots(1, 2, figsize=(11, 0.6 * len(rows) + 2), sharey=True)
    f1 = [r.test["strict_f1"] for r in rows]
    spread = [(r.test.get("sd") or {}).get("strict_f1") or 0.0 for r in rows]  # sample sd over seeds, if several
    f1_ax.barh(names, f1, xerr=spread if any(spread) else None, color="#1f77b4")
    for y, value in enumerate(f1):
        f1_ax.text(value, y, f" {value:.3f}", va="center", fontsize=8)
    f1_ax.set_xlim(0, 1.1)
    f1_ax.set_xlabel("test span F1 (strict)")
    f1_ax.invert_yaxis()
    speed_ax.barh(names, [r.test_words_per_second for r in rows], color="#ff7f0e")
    for y, r in enumerate(rows):
        speed_ax.text(r.test_words_per_second, y, f" {r.test_words_per_second:,.0f} w/s, train {r.train_seconds:,.0f} s",
                      va="center", fontsize=8)
    speed_ax.set_xlabel("prediction words/s (test set)")
    fig.suptitle("lookright compare")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_report(rows: Sequence[CompareRow], cfg: CompareConfig, output: Path, console: Console) -> None:
    if not rows:
        return
    base = cfg.base
    budget = base.describe_budget()
    setup = (
        f"Training: `{base.train}`" + (f" (first {base.max_train_sentences:,} sentences)" if base.max_train_sentences else "")
        + f", {budget}, batch {base.batch_size}, "
        + (f"seeds {', '.join(map(str, cfg.seeds))} (mean ± sample sd; test strict F1 of each seed in brackets)"
           if cfg.seeds and len(cfg.seeds) > 1 else f"seed {cfg.seed_list[0]}")
        + f"; validation `{base.validation}`"
        + (f" (first {base.max_validation_sentences:,})" if base.max_validation_sentences else "")
        + f"; test `{base.test}` (all of it). Decoder: {base.model or 'the bundled SmolLM2-135M-Instruct'}."
    )
    command = "lookright " + command_line(sys.argv[1:]) if sys.argv and sys.argv[0].endswith("lookright") else None
    text = "# lookright compare\n\n" + setup + "\n\n" + markdown(rows)
    text += ("\nF1 = span micro-F1 (seqeval strict IOB2; lenient = conlleval-style); POS: token accuracy is the "
             "metric. `predict words/s` is the test-set evaluation throughput (batched, as `lookright predict`). "
             "Peak MiB covers training and evaluation of that method's process.\n")
    if command:
        text += f"\nCommand: `{command}`\n"
    write_text_atomic(output / "comparison.md", text)
    write_text_atomic(output / "comparison.json", json.dumps(
        {"setup": setup, "command": command, "rows": [asdict(r) for r in rows]}, indent=2) + "\n")
    plot(rows, output / "comparison.png")
    render(rows, Console())
    print_plain(console, f"comparison written to {output}/comparison.{{md,json,png}}")
