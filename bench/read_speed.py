"""Reading a training file: one parse, and what a sweep's in-process runs pay for re-reading it.

A sweep or comparison trains many runs in one process on the same files; each run used to parse
train and validation again. This times, for this tree and (with `--old-source DIR`, e.g. a
`git archive` of an older commit) another one, alternating so both see the same machine state:
`read_data` of the file (best of `--repeats`), and `--runs` successive `load_split` calls as the
runs of a sweep make them.

    python bench/read_speed.py --file ../shared/data/conll2003/train.txt --old-source /tmp/old

Results: bench/results/read_speed.json and .md.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

TIMER = """
import json, sys, time
from lookright.data.readers import read_data
from lookright.training import TrainConfig
from lookright.training.splits import load_split
path, repeats, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
best = float("inf")
for _ in range(repeats):
    start = time.perf_counter()
    sentences = read_data(path, fmt="conll", label_column=3)
    best = min(best, time.perf_counter() - start)
cfg = TrainConfig(train=path, output="unused", label_column=3)
start = time.perf_counter()
for _ in range(runs):
    load_split(path, cfg, None)
print(json.dumps({"sentences": len(sentences), "words": sum(map(len, sentences)), "read_seconds": best,
                  "runs_seconds": time.perf_counter() - start}))
"""


def measure(source: Path, path: Path, repeats: int, runs: int) -> dict:
    """One fresh process in `source` (`python -c` puts the working directory first on the path)."""
    done = subprocess.run([sys.executable, "-c", TIMER, str(path), str(repeats), str(runs)], cwd=source,
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--file", default=str(REPO.parent / "shared" / "data" / "conll2003" / "train.txt"))
    parser.add_argument("--old-source", type=Path, help="a source tree (holds lookright/) to time beside this one")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--runs", type=int, default=8, help="load_split calls, as a sweep's in-process runs")
    parser.add_argument("--rounds", type=int, default=3, help="alternations of the trees; the best round counts")
    parser.add_argument("--results", default=str(HERE / "results"))
    parser.add_argument("--name", default="read_speed")
    args = parser.parse_args()
    path = Path(args.file).resolve()
    trees = ([("old", args.old_source.resolve())] if args.old_source else []) + [("new", REPO)]
    rounds: dict[str, list[dict]] = {code: [] for code, _ in trees}
    for _ in range(args.rounds):
        for code, source in trees:
            rounds[code].append(measure(source, path, args.repeats, args.runs))
    best = {code: {**results[0], **{key: min(r[key] for r in results) for key in ("read_seconds", "runs_seconds")}}
            for code, results in rounds.items()}  # each time the best of its rounds
    from lookright.modeling.hardware import cpu_model

    command = "python bench/read_speed.py " + " ".join(sys.argv[1:])
    lines = [f"# Reading {path.name}: one parse, and {args.runs} sweep runs' reads", "",
             (f"{cpu_model()}, Python {platform.python_version()}; "
             f"{best['new']['sentences']:,} sentences, {best['new']['words']:,} words."), "",
             f"| tree | one parse (s) | words/s | {args.runs} runs' reads (s) |", "|---|---|---|---|"]
    for code, _ in trees:
        row = best[code]
        lines.append(f"| {code} | {row['read_seconds']:.3f} | {row['words'] / row['read_seconds']:,.0f} | "
                     f"{row['runs_seconds']:.3f} |")
    if "old" in best:
        lines += ["", (f"new / old: one parse {best['new']['read_seconds'] / best['old']['read_seconds']:.2f}x the time, "
                      f"{args.runs} runs' reads {best['new']['runs_seconds'] / best['old']['runs_seconds']:.2f}x.")]
    lines += ["", f"Command: `{command}`", ""]
    results = Path(args.results)
    (results / f"{args.name}.json").write_text(json.dumps({"command": command, "file": str(path), "cpu": cpu_model(),
                                                           **best}, indent=2))
    (results / f"{args.name}.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
