"""LoRA dropout 0.05 (the default) vs 0: what the dropout costs in speed and buys in F1, over seeds.

On a CPU, dropout's random masks are a large share of a LoRA training step (SmolLM2-135M, 2 cores,
bf16: `aten::bernoulli_` was 26% of the step in a torch profile), because peft draws one mask per
adapted layer over its full input. This trains the `make demo` recipe (CoNLL-2003 NER, 2,000
sentences, 1 epoch, unmask 0011, validation on 500 sentences) with both settings and several seeds.
Runs already in `--runs` (same names) are reused, so the script can be resumed. `--old-source DIR`
also trains every setting with an older source tree (e.g. `git archive` of a commit), seed by seed
beside this tree's runs, so speed and F1 are compared in one run.

    python bench/lora_dropout.py --data ../shared/data/conll2003 --runs runs/lora-dropout --seeds 42,43,44

Results: bench/results/lora_dropout.json and .md.
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(HERE.parent.parent / "shared" / "data" / "conll2003"))
    parser.add_argument("--runs", default="runs/lora-dropout")
    parser.add_argument("--seeds", default="42,43,44")
    parser.add_argument("--dropouts", default="0,0.05")
    parser.add_argument("--old-source", type=Path,
                        help="also train each setting with the code of this source tree (holds lookright/), side by side")
    parser.add_argument("--results", default=str(HERE / "results"))
    parser.add_argument("--name", default="lora_dropout", help="results file name (bench/results/NAME.{json,md})")
    args = parser.parse_args()
    data, runs = Path(args.data).resolve(), Path(args.runs)
    codes = ([("old", args.old_source.resolve())] if args.old_source else []) + [("new", REPO)]
    rows = []
    for seed in args.seeds.split(","):
        for code, source in codes:
            for dropout in args.dropouts.split(","):
                out = (runs / code if args.old_source else runs) / f"drop{dropout}_s{seed}"
                command = [
                    sys.executable, "-m", "lookright", "train", "--train", str(data / "train.txt"),
                    "--validation", str(data / "validation.txt"), "--label-column", "3", "--max-train-sentences",
                    "2000", "--max-validation-sentences", "500", "--method", "unmask", "--unmask", "0011", "--epochs",
                    "1", "--lora-dropout", dropout, "--seed", seed, "--output", str(out.resolve()), "--overwrite",
                ]
                if not (out / "lookright.json").is_file():
                    print(f"$ (cd {source} && {shlex.join(command)})", flush=True)
                    # run in `source`: `python -m` puts the working directory first on the path
                    subprocess.run(command, check=True, capture_output=True, cwd=source)
                card = json.loads((out / "lookright.json").read_text())
                rows.append({
                    "code": code, "seed": int(seed), "lora_dropout": float(dropout),
                    "precision": card["training"]["precision"],
                    "tokens_per_second": card["training"]["tokens_per_second"],
                    "train_seconds": card["training"]["train_seconds"],
                    "validation_strict_f1": round(100 * card["metrics"]["validation"]["strict"]["micro"]["f1"], 2),
                })
    summary = {}
    for code, _ in codes:
        for dropout in sorted({r["lora_dropout"] for r in rows}):
            mine = [r for r in rows if r["lora_dropout"] == dropout and r["code"] == code]
            f1 = [r["validation_strict_f1"] for r in mine]
            summary[f"{code} {dropout}" if args.old_source else str(dropout)] = {
                "code": code, "lora_dropout": dropout, "per_seed": f1,
                "validation_f1_mean": round(statistics.mean(f1), 2),
                "validation_f1_sd": round(statistics.stdev(f1), 2) if len(f1) > 1 else 0.0,
                "tokens_per_second_mean": round(statistics.mean(r["tokens_per_second"] for r in mine), 1),
                "train_seconds_mean": round(statistics.mean(r["train_seconds"] for r in mine), 1),
            }
    from lookright.modeling.hardware import cpu_features, cpu_model

    command = "python bench/lora_dropout.py " + shlex.join(sys.argv[1:])
    hardware = f"{cpu_model()}, {cpu_features()}"
    results = Path(args.results)
    results.mkdir(parents=True, exist_ok=True)
    (results / f"{args.name}.json").write_text(
        json.dumps({"command": command, "hardware": hardware, "runs": rows, "summary": summary}, indent=2) + "\n")
    title = (f"# LoRA dropout {' vs '.join(args.dropouts.split(','))} (make demo recipe, CoNLL-2003 NER, "
             "2,000 sentences, 1 epoch)\n")
    lines = [title, f"{hardware}; runs one after another, seed by seed.\n",
             "| code | LoRA dropout | seeds | validation strict F1 (mean +- sd) | per seed | tokens/s (mean) | train s (mean) |",
             "|---|---|---|---|---|---|---|"]
    for s in summary.values():
        source = str(args.old_source) if s["code"] == "old" else "this tree"
        lines.append(f"| {source} | {s['lora_dropout']} | {args.seeds} | {s['validation_f1_mean']:.2f} +- "
                     f"{s['validation_f1_sd']:.2f} | {', '.join(f'{f:.2f}' for f in s['per_seed'])} | "
                     f"{s['tokens_per_second_mean']:,.0f} | {s['train_seconds_mean']:,.1f} |")
    lines += ["", f"Command: `{command}`", ""]
    (results / f"{args.name}.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
