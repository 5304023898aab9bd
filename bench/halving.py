"""Successive halving vs the exhaustive grid: same answer for a fraction of the training?

For CoNLL-2003 NER and chunking this runs `lookright sweep --strategy successive-halving` with
exactly the settings of bench/paper_grid.py (which must have run first: its exhaustive results are
the reference) and compares training tokens, wall time, the chosen configuration and that
configuration's final validation score with the exhaustive best.

    python bench/halving.py --data-root ../shared/data --train-sentences 500

Writes bench/results/halving.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from paper_grid import task_config  # noqa: E402


def compare(task: str, args: argparse.Namespace) -> dict:
    from lookright.sweep import ResultsFile, SweepConfig, run_sweep

    exhaustive_rows = [r for r in ResultsFile(Path(args.grid_runs) / task / "results.jsonl") if r.strategy == "exhaustive"]
    if len(exhaustive_rows) != 16:
        sys.exit(f"{task}: run bench/paper_grid.py first (found {len(exhaustive_rows)} of 16 exhaustive runs)")
    base = task_config(task, args)
    summary = run_sweep(
        SweepConfig(base=base, output=str(Path(args.runs) / task), groups=4, strategy="successive-halving",
                    eta=args.eta, min_fraction=args.min_fraction, parallel=args.parallel,
                    rung_metric=args.rung_metric)
    )
    halving_rows = [r for r in ResultsFile(Path(args.runs) / task / "results.jsonl") if r.strategy == "successive-halving"]
    full = {r.config: r for r in exhaustive_rows}
    best = max(exhaustive_rows, key=lambda r: r.score)
    chosen = summary.best.config
    return {
        "task": task,
        "exhaustive": {
            "configs_trained": 16,
            "tokens": sum(r.tokens for r in exhaustive_rows),
            "run_seconds": round(sum(r.wall_seconds for r in exhaustive_rows), 1),
            "chosen": best.config,
            "validation": best.score,
            "test": best.test["score"],
        },
        "successive_halving": {
            "eta": args.eta,
            "rung_metric": args.rung_metric,
            "rungs": {
                rung: {r.config: {"validation": r.score, "log_loss": r.validation.get("log_loss"), "steps": r.steps}
                       for r in halving_rows if r.rung == rung}
                for rung in sorted({r.rung for r in halving_rows})
            },
            "min_fraction": args.min_fraction,
            "tokens": summary.tokens,
            "run_seconds": round(sum(r.wall_seconds for r in halving_rows), 1),
            "elapsed_seconds_this_call": round(summary.wall_seconds, 1),
            "chosen": chosen,
            "validation": summary.best.score,
            "validation_in_exhaustive_run": full[chosen].score,
            "test": summary.best.test.get("score"),
        },
        "final_scores": {c: row.score for c, row in full.items()},
        "token_share": summary.tokens / sum(r.tokens for r in exhaustive_rows),
        "validation_gap_points": 100 * (best.score - full[chosen].score),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-root", default=str(HERE.parent.parent / "shared" / "data"))
    parser.add_argument("--tasks", default="ner,chunk")
    parser.add_argument("--train-sentences", type=int, default=500)
    parser.add_argument("--validation-sentences", type=int, default=500)
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--eta", type=int, default=4)
    parser.add_argument("--min-fraction", type=float, default=0.125)
    parser.add_argument("--rung-metric", default="loss", help="what ranks each rung: validation loss or score")
    parser.add_argument("--parallel", type=int, default=1, help="as in paper_grid.py; use the same value for a fair time")
    parser.add_argument("--grid-runs", default="runs/paper-grid")
    parser.add_argument("--runs", default="runs/halving")
    parser.add_argument("--results", default=str(HERE / "results"))
    args = parser.parse_args()
    rows = [compare(task, args) for task in args.tasks.split(",")]
    lines = [
        "# Successive halving vs the exhaustive 16-config sweep",
        "",
        f"Same settings as `bench/paper_grid.py` (first {args.train_sentences} training sentences, {args.epochs:g} epoch, "
        f"seed {args.seed}, selection on {args.validation_sentences} validation sentences). Successive halving: "
        f"eta {args.eta}, first rung {args.min_fraction:g} of the budget, rungs ranked by validation {args.rung_metric}. Run time = the runs' wall times summed "
        f"(loading, training and evaluation; {args.parallel} run(s) at once, as in the grid), so both strategies "
        "are measured the same way.",
        "",
        "| task | strategy | training tokens | share | run time (s) | chosen config | its validation score | test |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        e, s = r["exhaustive"], r["successive_halving"]
        lines.append(f"| {r['task']} | exhaustive | {e['tokens']:,} | 100% | {e['run_seconds']:,.0f} | `{e['chosen']}` | "
                     f"{100 * e['validation']:.2f} | {100 * e['test']:.2f} |")
        lines.append(f"| {r['task']} | successive halving | {s['tokens']:,} | {100 * r['token_share']:.1f}% | "
                     f"{s['run_seconds']:,.0f} | `{s['chosen']}` | {100 * s['validation_in_exhaustive_run']:.2f} | "
                     f"{100 * s['test']:.2f} |")
    lines += ["", "Gap to the exhaustive best on validation (points): "
              + ", ".join(f"{r['task']} {r['validation_gap_points']:.2f}" for r in rows), ""]
    for r in rows:
        lines += [f"Rungs of {r['task']} (validation score / log loss at each rung; final = full-budget validation "
                  "score in the exhaustive grid):", "", "| config | " + " | ".join(
                      f"rung {k}" for k in r["successive_halving"]["rungs"]) + " | final |",
                  "|---|" + "---|" * (len(r["successive_halving"]["rungs"]) + 1)]
        rungs = r["successive_halving"]["rungs"]
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
    (out / "halving.json").write_text(json.dumps(rows, indent=2) + "\n")
    (out / "halving.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
