"""Sweep results for people: a terminal table, a Markdown table and an F1-by-config chart."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table

from ..evaluation.seeds import score_text
from .results import RunResult, aggregate_runs


def latest_per_config(rows: Sequence[RunResult], order: Sequence[str], seeds: Sequence[int] = (),
                      base_seed: int | None = None) -> list[RunResult]:
    """Each configuration's furthest-trained result, in sweep order: the mean over its seeds' furthest runs."""
    latest: dict[tuple[str, int | None], RunResult] = {}
    for row in rows:
        key = (row.config, row.seed_or(base_seed))
        if key not in latest or row.steps >= latest[key].steps:
            latest[key] = row
    out = []
    for config in order:
        mine = [r for (c, seed), r in latest.items() if c == config and (not seeds or seed in seeds)]
        mine = mine or [r for (c, _), r in latest.items() if c == config]  # e.g. a probe row, seed-free
        if mine:
            furthest = max(r.steps for r in mine)
            out.append(aggregate_runs([r for r in mine if r.steps == furthest]))
    return out


def _probe_only(row: RunResult) -> bool:
    """Ranked by the frozen-feature probe and never trained."""
    return row.strategy == "probe" and row.rung == 0


def _budget(row: RunResult) -> float:
    if _probe_only(row):
        return 0.0
    return row.steps / row.total_steps if row.total_steps else 1.0


def _budget_text(row: RunResult) -> str:
    return "probe only" if _probe_only(row) else f"{_budget(row):.0%}"


def render_table(rows: Sequence[RunResult], best: str, console: Console | None = None) -> None:
    console = console or Console()
    has_test = any(r.test for r in rows)
    metric = rows[0].validation["metric"] if rows else "score"
    table = Table(title=f"Sweep: validation {metric} by unmasking config (* = best on validation)")
    for column in ("config", "budget", "validation", *(["test"] if has_test else []), "train s", "tok/s", "peak MiB"):
        table.add_column(column, justify="left" if column == "config" else "right")
    for r in rows:
        table.add_row(
            ("* " if r.config == best else "  ") + r.config,
            _budget_text(r),
            score_text(r.validation),
            *([score_text(r.test) if r.test else "-"] if has_test else []),
            f"{r.train_seconds:,.0f}",
            f"{r.tokens_per_second:,.0f}",
            f"{r.peak_memory_mb:,.0f}",
        )
    console.print(table)


def markdown_table(rows: Sequence[RunResult], best: str) -> str:
    has_test = any(r.test for r in rows)
    metric = rows[0].validation["metric"] if rows else "score"
    head = ["config", "budget", f"validation {metric}", *([f"test {metric}"] if has_test else []),
            "train s", "tokens/s", "peak MiB"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        name = f"**`{r.config}`** (best)" if r.config == best else f"`{r.config}`"
        cells = [name, _budget_text(r), score_text(r.validation)]
        if has_test:
            cells.append(score_text(r.test) if r.test else "-")
        cells += [f"{r.train_seconds:,.0f}", f"{r.tokens_per_second:,.0f}", f"{r.peak_memory_mb:,.0f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def plot(rows: Sequence[RunResult], best: str, path: str | Path, title: str = "", split: str = "validation") -> Path:
    """Bar chart of the score per config (0000 and 1111 marked); for 4 groups also a 4x4 heatmap."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    def score(r: RunResult) -> float:
        return (r.test if split == "test" and r.test else r.validation)["score"]

    configs = [r.config for r in rows]
    values = [score(r) for r in rows]
    m = len(configs[0]) if configs else 0
    with_heatmap = m == 4 and len(configs) == 16
    fig, axes = plt.subplots(1, 2 if with_heatmap else 1, figsize=(13 if with_heatmap else 9, 4.5),
                             gridspec_kw={"width_ratios": [2.2, 1]} if with_heatmap else None)
    bar_ax = axes[0] if with_heatmap else axes
    colors = []
    for c in configs:
        if set(c) == {"0"}:
            colors.append("#7f7f7f")  # causal baseline
        elif set(c) == {"1"}:
            colors.append("#d62728")  # fully unmasked
        else:
            colors.append("#1f77b4")
    bars = bar_ax.bar(range(len(configs)), values, color=colors)
    for bar, r in zip(bars, rows):
        if _budget(r) < 1:
            bar.set_hatch("//")
            bar.set_alpha(0.5)
    if best in configs:
        i = configs.index(best)
        bar_ax.annotate("best", (i, values[i]), ha="center", va="bottom", fontsize=9, weight="bold")
    bar_ax.set_xticks(range(len(configs)), configs, rotation=60, fontsize=8, family="monospace")
    low = min(values) if values else 0
    bar_ax.set_ylim(max(0.0, low - 0.05), min(1.0, max(values) + 0.03) if values else 1)
    metric = rows[0].validation["metric"] if rows else ""
    bar_ax.set_ylabel(f"{split} {metric}")
    bar_ax.set_title(title or f"{split} {metric} by unmasking config (grey 0000, red 1111, hatched = partial budget or probe only)")
    bar_ax.grid(axis="y", alpha=0.3)
    if with_heatmap:
        grid = np.full((4, 4), np.nan)
        for c, v in zip(configs, values):
            grid[int(c[:2], 2), int(c[2:], 2)] = v
        ax = axes[1]
        image = ax.imshow(grid, cmap="viridis")
        labels = ["00", "01", "10", "11"]
        ax.set_xticks(range(4), labels)
        ax.set_yticks(range(4), labels)
        ax.set_xlabel("groups 3-4 (output side)")
        ax.set_ylabel("groups 1-2 (input side)")
        middle = (np.nanmin(grid) + np.nanmax(grid)) / 2
        for (i, j), v in np.ndenumerate(grid):
            if not np.isnan(v):  # dark text on the bright end of viridis, light text on the dark end
                color = "black" if v > middle else "white"
                ax.text(j, i, f"{100 * v:.1f}", ha="center", va="center", color=color, fontsize=8)
        fig.colorbar(image, ax=ax, fraction=0.046)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
