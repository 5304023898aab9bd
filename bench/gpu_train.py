"""GPU training figures: 4-bit QLoRA vs bf16 LoRA on the default model (throughput, peak memory, F1).

Runs wherever a CUDA GPU is available (never in CI). Each variant is one `lookright train` process,
so peak GPU memory (`torch.cuda.max_memory_allocated`, recorded in the model card) is per variant.

    python bench/gpu_train.py --data ../shared/data/conll2003 --train-sentences 4000

Add `--processes 2` to also run the QLoRA variant data-parallel through `--launcher accelerate`.
Results: bench/results/gpu_train.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(HERE.parent.parent / "shared" / "data" / "conll2003"))
    parser.add_argument("--train-sentences", type=int, default=4000)
    parser.add_argument("--validation-sentences", type=int, default=1000)
    parser.add_argument("--unmask", default="0011")
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--model", default=None, help="default: the bundled SmolLM2-135M")
    parser.add_argument("--processes", type=int, default=1, help="also run QLoRA with N processes (DDP)")
    parser.add_argument("--runs", default="runs/bench-gpu")
    parser.add_argument("--results", default=str(HERE / "results"))
    args = parser.parse_args()

    import torch

    if not torch.cuda.is_available():
        sys.exit("bench/gpu_train.py needs a CUDA GPU (none found); nothing was measured")
    data, runs = Path(args.data), Path(args.runs)
    variants = [("qlora-4bit", ["--quantize", "4bit"]), ("lora-bf16", ["--quantize", "none", "--precision", "bf16"])]
    if args.processes > 1:
        variants.append((f"qlora-4bit-ddp{args.processes}",
                         ["--quantize", "4bit", "--launcher", "accelerate", "--num-processes", str(args.processes)]))
    rows = []
    for name, extra in variants:
        output = runs / name
        cmd = [sys.executable, "-m", "lookright", "train", "--train", str(data / "train.txt"),
               "--validation", str(data / "validation.txt"), "--test", str(data / "test.txt"), "--label-column", "3",
               "--unmask", args.unmask, "--epochs", str(args.epochs), "--batch-size", str(args.batch_size),
               "--max-train-sentences", str(args.train_sentences),
               "--max-validation-sentences", str(args.validation_sentences), "--output", str(output), "--overwrite", *extra]
        if args.model:
            cmd += ["--model", args.model]
        print("$", shlex.join(cmd), flush=True)
        started = time.perf_counter()
        subprocess.run(cmd, check=True)
        wall = time.perf_counter() - started
        card = json.loads((output / "lookright.json").read_text())
        training, metrics = card["training"], card["metrics"]
        rows.append({
            "variant": name, "command": " ".join(cmd[2:]), "wall_seconds": round(wall, 1),
            "train_seconds": training["train_seconds"], "tokens_per_second": training["tokens_per_second"],
            "peak_gpu_memory_mb": training["peak_memory_mb"], "precision": training.get("precision"),
            "test_strict_f1": metrics["test"]["strict"]["micro"]["f1"],
            "validation_strict_f1": metrics["validation"]["strict"]["micro"]["f1"],
        })
    gpu = torch.cuda.get_device_name(0)
    results = Path(args.results)
    results.mkdir(parents=True, exist_ok=True)
    (results / "gpu_train.json").write_text(json.dumps({"gpu": gpu, "torch": torch.__version__, "rows": rows}, indent=2) + "\n")
    lines = [f"# GPU training: QLoRA 4-bit vs bf16 LoRA ({gpu})\n",
             f"Default model, unmask {args.unmask}, first {args.train_sentences:,} CoNLL-2003 training sentences, "
             f"{args.epochs:g} epoch(s), batch {args.batch_size}; full test set.\n",
             "| variant | train s | tokens/s | peak GPU MiB | val F1 | test F1 |", "|---|---|---|---|---|---|"]
    lines += [f"| {r['variant']} | {r['train_seconds']:,.0f} | {r['tokens_per_second']:,.0f} | {r['peak_gpu_memory_mb']:,.0f} "
              f"| {r['validation_strict_f1']:.4f} | {r['test_strict_f1']:.4f} |" for r in rows]
    lines.append(f"\nCommand: `python bench/gpu_train.py {' '.join(sys.argv[1:])}`")
    (results / "gpu_train.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
