"""Active learning on CoNLL-2003 NER: `lookright select` vs random choice of the next sentences to label.

A simulated annotation loop with the default model and recipe. Per seed: shuffle the training
file, label the first `--start` sentences, keep the next `--pool` as the unlabelled pool. Train,
then for `--rounds` rounds add `--step` sentences from the pool, chosen either by `lookright select`
(the model of the previous round, `--strategy`) or at random, and retrain from the base model on
everything labelled so far. Both strategies share round 0 and get the same training budget per
round (same sentences count, same epochs and recipe); "labelling" a selected sentence means taking
its gold labels. Every round's model is scored on the full test file (`train --test`).
Runs already in `--runs` (same names) are reused, so the script can be resumed.

    python bench/active_learning.py --data ../shared/data/conll2003 --runs runs/active-learning --seeds 42,43

Results: bench/results/active_learning.{json,md,png}.
"""

from __future__ import annotations

import argparse
import json
import random
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def conll_blocks(path: Path) -> list[list[str]]:
    """The sentences of a CoNLL file as their raw lines (document markers left out)."""
    blocks, current = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            if current:
                blocks.append(current)
            current = []
        elif not line.startswith("-DOCSTART-"):
            current.append(line)
    if current:
        blocks.append(current)
    return blocks


def write_blocks(path: Path, blocks: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join("\n".join(b) + "\n\n" for b in blocks), encoding="utf-8")


def lookright(*args: str, log: Path) -> None:
    command = [sys.executable, "-m", "lookright", *args]
    print("$", shlex.join(command), flush=True)
    with log.open("w") as handle:
        subprocess.run(command, check=True, stdout=handle, stderr=subprocess.STDOUT)


def train_round(run: Path, labelled: list[list[str]], args: argparse.Namespace, seed: int) -> dict:
    """Train on `labelled` (reused when the run exists) and return its test F1 and training time."""
    data = Path(args.data)
    if not (run / "lookright.json").is_file():
        write_blocks(run.parent / f"{run.name}.train.txt", labelled)
        started = time.perf_counter()
        lookright(
            "train", "--train", str(run.parent / f"{run.name}.train.txt"), "--validation", str(data / "validation.txt"),
            "--max-validation-sentences", str(args.validation), "--test", str(data / "test.txt"),
            "--label-column", "3", "--seed", str(seed), "--output", str(run), "--overwrite", *args.train_args,
            log=run.parent / f"{run.name}.train.log",
        )
        (run / "bench_seconds.txt").write_text(f"{time.perf_counter() - started:.1f}\n")
    card = json.loads((run / "lookright.json").read_text())
    return {"sentences": len(labelled), "test_strict_f1": round(100 * card["metrics"]["test"]["strict"]["micro"]["f1"], 2),
            "train_seconds": float((run / "bench_seconds.txt").read_text())}


def choose_by_select(run: Path, pool: list[list[str]], step: int, strategy: str, out: Path) -> list[int]:
    """Pool positions `lookright select` picks with the model in `run` (reused when already chosen)."""
    chosen = out.with_suffix(".jsonl")
    if not chosen.is_file():
        write_blocks(out.with_suffix(".pool.txt"), pool)
        lookright("select", "--model", str(run), "--input", str(out.with_suffix(".pool.txt")), "--input-format", "conll",
                  "--top", str(step), "--strategy", strategy, "--output", str(chosen), log=out.with_suffix(".log"))
    return [json.loads(line)["index"] for line in chosen.read_text().splitlines() if line.strip()]


def simulate(seed: int, blocks: list[list[str]], args: argparse.Namespace) -> list[dict]:
    order = list(range(len(blocks)))
    random.Random(seed).shuffle(order)
    start, pool0 = order[: args.start], order[args.start : args.start + args.pool]
    runs = Path(args.runs)
    first = train_round(runs / f"s{seed}_r0", [blocks[i] for i in start], args, seed)
    rows = [{"seed": seed, "round": 0, "strategy": s, **first} for s in ("select", "random")]
    for strategy in ("select", "random"):
        labelled, pool, previous = list(start), list(pool0), runs / f"s{seed}_r0"
        picker = random.Random(seed * 1000 + 1)
        for round_ in range(1, args.rounds + 1):
            if strategy == "select":
                picked = choose_by_select(previous, [blocks[i] for i in pool], args.step, args.strategy,
                                          runs / f"s{seed}_{strategy}_r{round_}_chosen")
            else:
                picked = sorted(picker.sample(range(len(pool)), args.step))
            if len(set(picked)) != args.step:
                raise SystemExit(f"round {round_}: {len(set(picked))} distinct sentences chosen, {args.step} wanted")
            labelled += [pool[i] for i in picked]
            taken = set(picked)
            pool = [p for k, p in enumerate(pool) if k not in taken]
            previous = runs / f"s{seed}_{strategy}_r{round_}"
            row = train_round(previous, [blocks[i] for i in labelled], args, seed)
            mean_words = statistics.mean(len(blocks[pool_index]) for pool_index in labelled[-args.step:])
            rows.append({"seed": seed, "round": round_, "strategy": strategy, **row,
                         "added_mean_words": round(mean_words, 1)})
            print(json.dumps(rows[-1]), flush=True)
    return rows


def plot(rows: list[dict], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for strategy, color in (("select", "tab:blue"), ("random", "tab:orange")):
        mine = [r for r in rows if r["strategy"] == strategy]
        sizes = sorted({r["sentences"] for r in mine})
        means = [statistics.mean(r["test_strict_f1"] for r in mine if r["sentences"] == n) for n in sizes]
        ax.plot(sizes, means, marker="o", color=color, label=f"{strategy} (mean)")
        ax.scatter([r["sentences"] for r in mine], [r["test_strict_f1"] for r in mine], color=color, alpha=0.35, s=14)
    ax.set_xlabel("labelled training sentences")
    ax.set_ylabel("test strict F1")
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(HERE.parent.parent / "shared" / "data" / "conll2003"))
    parser.add_argument("--runs", default="runs/active-learning")
    parser.add_argument("--seeds", default="42,43")
    parser.add_argument("--start", type=int, default=200, help="sentences labelled before round 1")
    parser.add_argument("--step", type=int, default=200, help="sentences added per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pool", type=int, default=3000, help="unlabelled sentences select chooses from")
    parser.add_argument("--strategy", default="margin", help="lookright select --strategy")
    parser.add_argument("--validation", type=int, default=500, help="validation sentences for checkpoint selection")
    parser.add_argument("--results", default=str(HERE / "results"))
    parser.add_argument("train_args", nargs="*", help="more `lookright train` flags, after --")
    args = parser.parse_args()
    blocks = conll_blocks(Path(args.data) / "train.txt")
    started = time.perf_counter()
    rows = [row for seed in args.seeds.split(",") for row in simulate(int(seed), blocks, args)]
    summary = {}
    for strategy in ("select", "random"):
        for round_ in range(args.rounds + 1):
            f1 = [r["test_strict_f1"] for r in rows if r["strategy"] == strategy and r["round"] == round_]
            summary[f"{strategy}/{round_}"] = {"mean": round(statistics.mean(f1), 2),
                                               "sd": round(statistics.stdev(f1), 2) if len(f1) > 1 else 0.0}
    command = "python bench/active_learning.py " + shlex.join(sys.argv[1:])
    results = Path(args.results)
    results.mkdir(parents=True, exist_ok=True)
    (results / "active_learning.json").write_text(json.dumps(
        {"command": command, "settings": {k: v for k, v in vars(args).items() if k not in ("results", "runs")},
         "wall_seconds": round(time.perf_counter() - started, 1), "runs": rows, "summary": summary}, indent=2) + "\n")
    title = (f"CoNLL-2003 NER, SmolLM2-135M default recipe: select ({args.strategy}) vs random, "
             f"seeds {args.seeds}")
    plot(rows, results / "active_learning.png", title)
    lines = [f"# Active learning: `lookright select --strategy {args.strategy}` vs random (CoNLL-2003 NER)\n",
             (f"Start {args.start} labelled sentences, {args.rounds} rounds of +{args.step} from a pool of {args.pool}, "
              f"seeds {args.seeds}; each round retrains the default recipe from the base model and scores the full "
              "test file.\n"),
             ("| round | sentences | select: test F1 (mean +- sd) | random: test F1 (mean +- sd) | select - random | "
              "words per added sentence (select / random) |"), "|---|---|---|---|---|---|"]
    for round_ in range(args.rounds + 1):
        s, r = summary[f"select/{round_}"], summary[f"random/{round_}"]
        words = ["{:.1f}".format(statistics.mean(x["added_mean_words"] for x in rows
                                                 if x["strategy"] == st and x["round"] == round_))
                 if round_ else "-" for st in ("select", "random")]
        lines.append(f"| {round_} | {args.start + round_ * args.step} | {s['mean']:.2f} +- {s['sd']:.2f} | "
                     f"{r['mean']:.2f} +- {r['sd']:.2f} | {s['mean'] - r['mean']:+.2f} | {words[0]} / {words[1]} |")
    lines += ["", "Per run: bench/results/active_learning.json. Plot: bench/results/active_learning.png.", "",
              f"Command: `{command}`", ""]
    (results / "active_learning.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
