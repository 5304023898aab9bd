"""The comparison the issue asks for: `lookright compare` on CoNLL-2003 NER, recorded in bench/results/.

Default decoder (SmolLM2-135M) for causal / unmask / repeat / generative, the packaged
all-MiniLM-L6-v2 for the encoder baseline; a fixed training subset, the full test set.

    python bench/compare_ner.py --data ../shared/data/conll2003 --train-sentences 1000

It runs (and prints) one `lookright compare` command; runs are resumable (rerun the same command).
Results: bench/results/compare_ner.{md,json,png}.
"""

from __future__ import annotations

import argparse
import platform
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(HERE.parent.parent / "shared" / "data" / "conll2003"))
    parser.add_argument("--methods", default="causal,unmask:BEST,repeat,generative,encoder")
    parser.add_argument("--best-among", default=None, help="candidates for unmask:BEST (default: all 16)")
    parser.add_argument("--train-sentences", type=int, default=1000)
    parser.add_argument("--validation-sentences", type=int, default=500)
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--runs", default="runs/bench-compare", help="where models and logs go (not committed)")
    parser.add_argument("--results", default=str(HERE / "results"))
    parser.add_argument("--note", default=None, help="added under the table (e.g. timing caveats)")
    args = parser.parse_args()

    data = Path(args.data)
    command = [
        "lookright", "compare", "--train", str(data / "train.txt"), "--validation", str(data / "validation.txt"),
        "--test", str(data / "test.txt"), "--label-column", "3", "--methods", args.methods,
        "--max-train-sentences", str(args.train_sentences), "--max-validation-sentences", str(args.validation_sentences),
        "--epochs", str(args.epochs), "--seed", str(args.seed), "--output", args.runs,
    ]
    if args.best_among:
        command += ["--best-among", args.best_among]
    print("$", shlex.join(command), flush=True)
    code = subprocess.call([sys.executable, "-m", "lookright", *command[1:]])
    if code != 0:
        sys.exit(f"lookright compare failed ({code})")

    runs, results = Path(args.runs), Path(args.results)
    results.mkdir(parents=True, exist_ok=True)
    table = (runs / "comparison.md").read_text()
    hardware = f"{platform.processor() or platform.machine()}, CPU only"
    import torch
    import transformers

    text = table.replace("# lookright compare", "# CoNLL-2003 NER: lookright compare", 1)
    text += (f"\nHardware: {hardware}, torch {torch.__version__} ({torch.get_num_threads()} threads), "
             f"transformers {transformers.__version__}. Methods ran one after another (one process each).\n")
    if args.note:
        text += f"\n{args.note}\n"
    text += f"\nExact command: `{shlex.join(command)}` (via `python bench/compare_ner.py {shlex.join(sys.argv[1:])}`)\n"
    (results / "compare_ner.md").write_text(text)
    shutil.copyfile(runs / "comparison.json", results / "compare_ner.json")
    shutil.copyfile(runs / "comparison.png", results / "compare_ner.png")
    print(text)


if __name__ == "__main__":
    main()
