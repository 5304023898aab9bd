"""Cheap searches vs the exhaustive grid: same answer for a fraction of the training?

For CoNLL-2003 NER and chunking this runs `lookright sweep --strategy successive-halving` (or
`--strategy probe`: a linear probe on the frozen model ranks all configs, the best 1/eta train) with
exactly the settings of bench/paper_grid.py and compares training tokens, training and wall time,
the chosen configuration and that configuration's final validation score with the exhaustive best.
The exhaustive reference is the recorded grid (bench/results/paper_grid.json, which must hold the
task with the same settings), not a rerun of it.

    python bench/halving.py --data-root ../shared/data --train-sentences 500 --parallel 2
    python bench/halving.py --data-root ../shared/data --strategy probe --parallel 2

Writes bench/results/halving.{json,md} (successive halving) or probe_sweep.{json,md} (probe).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from paper_grid import grid_settings, recorded_tasks, task_config  # noqa: E402


def compare(task: str, grid: dict, args: argparse.Namespace) -> dict:
    from lookright.sweep import ResultsFile, SweepConfig, run_sweep

    cells = grid["cells"]
    base = task_config(task, args)
    summary = run_sweep(
        SweepConfig(base=base, output=str(Path(args.runs) / task), groups=4, strategy=args.strategy,
                    eta=args.eta, min_fraction=args.min_fraction, parallel=args.parallel,
                    rung_metric=args.rung_metric, probe_sentences=args.probe_sentences)
    )
    halving_rows = [r for r in ResultsFile(Path(args.runs) / task / "results.jsonl") if r.strategy == args.strategy]
    best = max(cells, key=lambda c: cells[c]["validation"])
    chosen = summary.best.config
    exhaustive_tokens = sum(c["tokens"] for c in cells.values())
    return {
        "task": task,
        "exhaustive": {
            "configs_trained": len(cells),
            "tokens": exhaustive_tokens,
            "train_seconds": round(sum(c["train_seconds"] for c in cells.values()), 1),
            "wall_seconds": grid["wall_seconds"],
            "chosen": best,
            "validation": cells[best]["validation"],
            "test": cells[best]["test"],
        },
        "cheap": {
            "strategy": args.strategy,
            "probe_sentences": args.probe_sentences if args.strategy == "probe" else None,
            "probe_seconds": round(sum(r.wall_seconds for r in halving_rows if r.rung == 0), 1)
            if args.strategy == "probe" else None,
            "eta": args.eta,
            "rung_metric": args.rung_metric,
            "rungs": {
                rung: {r.config: {"validation": r.score, "log_loss": r.validation.get("log_loss"), "steps": r.steps}
                       for r in halving_rows if r.rung == rung}
                for rung in sorted({r.rung for r in halving_rows})
            },
            "min_fraction": args.min_fraction if args.strategy == "successive-halving" else None,
            "tokens": summary.tokens,
            "train_seconds": round(summary.train_seconds, 1),
            "wall_seconds": round(time.perf_counter() - args.started, 1),
            "chosen": chosen,
            "validation": summary.best.score,
            "validation_in_exhaustive_run": cells[chosen]["validation"],
            "test": summary.best.test.get("score"),
        },
        "final_scores": {c: cell["validation"] for c, cell in cells.items()},
        "token_share": summary.tokens / exhaustive_tokens,
        "validation_gap_points": 100 * (cells[best]["validation"] - cells[chosen]["validation"]),
        # the survivor resumed its rung checkpoints: its final model should be the grid's, score for score
        "resumed_minus_uninterrupted_validation_points": 100 * (summary.best.score - cells[chosen]["validation"]),
    }


def _spearman(a: list[float], b: list[float]) -> float:
    """Rank correlation (average ranks for ties)."""
    from scipy.stats import spearmanr

    return float(spearmanr(a, b)[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-root", default=str(HERE.parent.parent / "shared" / "data"))
    parser.add_argument("--tasks", default="ner,chunk")
    parser.add_argument("--train-sentences", type=int, default=500)
    parser.add_argument("--validation-sentences", type=int, default=500)
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--model", default=None)
    parser.add_argument("--strategy", default="successive-halving", choices=["successive-halving", "probe"])
    parser.add_argument("--probe-sentences", type=int, default=500, help="probe: training and validation sentences")
    parser.add_argument("--eta", type=int, default=4)
    parser.add_argument("--min-fraction", type=float, default=0.125)
    parser.add_argument("--rung-metric", default="loss", help="what ranks each rung: validation loss or score")
    parser.add_argument("--parallel", type=int, default=1, help="as in paper_grid.py; use the same value for a fair time")
    parser.add_argument("--grid-results", default=str(HERE / "results" / "paper_grid.json"),
                        help="the recorded exhaustive grid (bench/paper_grid.py) to compare with")
    parser.add_argument("--runs", default=None, help="default: runs/halving or runs/probe-sweep")
    parser.add_argument("--results", default=str(HERE / "results"))
    args = parser.parse_args()
    probe = args.strategy == "probe"
    args.runs = args.runs or ("runs/probe-sweep" if probe else "runs/halving")
    name = "probe" if probe else "successive halving"
    grid = recorded_tasks(Path(args.grid_results), grid_settings(args))
    missing = [t for t in args.tasks.split(",") if t not in grid]
    if missing:
        sys.exit(f"{args.grid_results} holds no grid for {', '.join(missing)}: run bench/paper_grid.py first")
    rows = []
    for task in args.tasks.split(","):
        args.started = time.perf_counter()
        rows.append(compare(task, grid[task], args))
    how = (f"Probe: a multinomial logistic regression on the frozen, untrained model's final hidden states "
           f"(first subword of each word) under each mask, fitted on the first {args.probe_sentences} training "
           f"sentences and scored on the first {args.probe_sentences} validation sentences; all 16 configs ranked by "
           f"the probe's validation {args.rung_metric}, the best 16/eta = {-(-16 // args.eta)} trained with the full budget "
           "(no training tokens are spent on the probe; its forward passes are in the wall time)" if probe else
           f"Successive halving: eta {args.eta}, first rung {args.min_fraction:g} of the budget, rungs ranked by "
           f"validation {args.rung_metric}")
    lines = [
        f"# {name[0].upper() + name[1:]} vs the exhaustive 16-config sweep",
        "",
        f"Same settings as `bench/paper_grid.py` (first {args.train_sentences} training sentences, {args.epochs:g} epoch, "
        f"seed {args.seed}, selection on {args.validation_sentences} validation sentences). {how}; "
        f"{args.parallel} run(s) at once as in the grid. Train time = the runs' training seconds summed; wall time = "
        "the whole strategy from start to end (loading, training, evaluation; for the exhaustive grid, the recorded "
        "wall time of its 16 cells). The exhaustive figures are the recorded grid's (`bench/results/paper_grid.json`).",
        "",
        "| task | strategy | training tokens | share | train time (s) | wall time (min) | chosen config "
        "| its validation score | test |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        e, s = r["exhaustive"], r["cheap"]
        lines.append(f"| {r['task']} | exhaustive | {e['tokens']:,} | 100% | {e['train_seconds']:,.0f} | "
                     f"{e['wall_seconds'] / 60:.0f} | `{e['chosen']}` | {100 * e['validation']:.2f} | {100 * e['test']:.2f} |")
        lines.append(f"| {r['task']} | {name} | {s['tokens']:,} | {100 * r['token_share']:.1f}% | "
                     f"{s['train_seconds']:,.0f} | {s['wall_seconds'] / 60:.0f} | `{s['chosen']}` | "
                     f"{100 * s['validation_in_exhaustive_run']:.2f} | {100 * s['test']:.2f} |")
    lines += ["", "Gap to the exhaustive best on validation (points): "
              + ", ".join(f"{r['task']} {r['validation_gap_points']:.2f}" for r in rows)
              + (". The winner's own final validation score minus the grid's for the same config (trained afresh "
                 "with the same seed; 0 = the same model): " if probe else
                 ". The survivor's own final validation score minus the grid's for the same config (resumed "
                 "from rung checkpoints vs trained in one go; 0 = the same model): ")
              + ", ".join(f"{r['task']} {r['resumed_minus_uninterrupted_validation_points']:+.2f}" for r in rows), ""]
    for r in rows:
        rungs = r["cheap"]["rungs"]
        names = ["probe" if probe and k == 0 else ("trained" if probe else f"rung {k}") for k in rungs]
        if probe:
            ranks = _spearman([rungs[0][c]["validation"] for c in sorted(rungs[0])],
                              [r["final_scores"][c] for c in sorted(rungs[0])])
            lines += [f"{r['task']}: Spearman rank correlation of the probe's validation score with the grid's "
                      f"full-budget validation score over the 16 configs: {ranks:.2f}; probe time "
                      f"{r['cheap']['probe_seconds'] / 60:.1f} min.", ""]
        lines += [f"{name[0].upper() + name[1:]} of {r['task']} (validation score / log loss; final = full-budget "
                  "validation score in the exhaustive grid):", "", "| config | " + " | ".join(names) + " | final |",
                  "|---|" + "---|" * (len(rungs) + 1)]
        for config in sorted(rungs[min(rungs)]):
            cells = []
            for rung in rungs.values():
                cell = rung.get(config)
                loss = f" / {cell['log_loss']:.3f}" if cell and cell["log_loss"] is not None else ""
                cells.append(f"{100 * cell['validation']:.2f}{loss}" if cell else "")
            lines.append(f"| `{config}` | " + " | ".join(cells) + f" | {100 * r['final_scores'][config]:.2f} |")
        lines.append("")
    lines += ["Command: `python bench/halving.py " + " ".join(sys.argv[1:]) + "`", ""]
    out = Path(args.results)
    stem = "probe_sweep" if probe else "halving"
    (out / f"{stem}.json").write_text(json.dumps(rows, indent=2) + "\n")
    (out / f"{stem}.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
