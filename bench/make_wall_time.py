"""Wall time of `make demo` and `make test` in several checkouts, one after another on the same machine.

The checkouts are, e.g., the code before a change and after it, each installed (`make install`)
beforehand so only the targets themselves are timed. Each target runs in its checkout with the
same data (`DATA=...`, `LOOKRIGHT_DATA=...`); `make demo` writes into a fresh `DEMO_DIR` each time.

    git clone . /tmp/before && git -C /tmp/before checkout 274dd3a && make -C /tmp/before install
    python bench/make_wall_time.py --checkout /tmp/before --checkout . --data ../shared/data

Results: bench/results/make_wall_time.json and .md.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def run(checkout: Path, target: str, data: Path, log: Path) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        command = ["make", target, f"DATA={data / 'conll2003'}", f"DEMO_DIR={Path(tmp) / 'demo'}"]
        env = {**os.environ, "LOOKRIGHT_DATA": str(data)}
        print(f"$ (cd {shlex.quote(str(checkout))} && {shlex.join(command)})", flush=True)
        started = time.perf_counter()
        with log.open("w") as handle:
            done = subprocess.run(command, cwd=checkout, env=env, stdout=handle, stderr=subprocess.STDOUT)
        seconds = time.perf_counter() - started
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=checkout, capture_output=True, text=True).stdout.strip()
    tail = log.read_text(errors="replace").strip().splitlines()[-1:] or [""]
    return {"checkout": str(checkout), "commit": commit, "target": target, "seconds": round(seconds, 1),
            "exit_code": done.returncode, "last_line": tail[0][:200], "log": str(log)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkout", action="append", required=True, help="an installed checkout (repeat)")
    parser.add_argument("--data", default=str(HERE.parent.parent / "shared" / "data"), help="folder with conll2003/")
    parser.add_argument("--targets", default="demo,test")
    parser.add_argument("--results", default=str(HERE / "results"))
    parser.add_argument("--name", default="make_wall_time", help="file name of the record (another CPU, another name)")
    args = parser.parse_args()
    from lookright.modeling.hardware import cpu_features, cpu_model

    data = Path(args.data).resolve()
    logs = Path(tempfile.mkdtemp(prefix="make-wall-time-"))
    rows = []
    for target in args.targets.split(","):
        for k, checkout in enumerate(args.checkout):
            rows.append(run(Path(checkout).resolve(), target, data, logs / f"{target}-{k}.log"))
            print(json.dumps(rows[-1]), flush=True)
    result = {"command": "python bench/make_wall_time.py " + shlex.join(sys.argv[1:]), "rows": rows,
              "hardware": f"{cpu_model()}, {os.cpu_count()} CPU cores, {cpu_features()}"}
    results = Path(args.results)
    results.mkdir(parents=True, exist_ok=True)
    (results / f"{args.name}.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = ["# Wall time of `make demo` and `make test`, checkouts run one after another\n",
             f"{result['hardware']}.\n", "| target | commit | seconds | vs first checkout | exit | last line |",
             "|---|---|---|---|---|---|"]
    for row in rows:
        first = next(r for r in rows if r["target"] == row["target"])
        lines.append(f"| {row['target']} | {row['commit']} | {row['seconds']:,.0f} | {row['seconds'] / first['seconds']:.2f}x | "
                     f"{row['exit_code']} | {row['last_line'].replace('|', '/')} |")
    lines += ["", f"Command: `{result['command']}`", ""]
    (results / f"{args.name}.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
