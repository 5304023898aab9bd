"""Latency of short requests to `lookright serve` while long ones run, old scheduling vs new.

A latency measurement, not an accuracy one: the model is the bundled SmolLM2-135M fine-tuned for 2
steps (`lookright train --max-steps 2`), whose compute per word is the real model's and whose
labels do not matter here. Each server runs in its own process on this machine's CPU:

- `old`: the code of a source tree given with `--old-source` (e.g. commit 274dd3a, before fair
  scheduling: requests were tagged whole, first come first served, abandoned ones to the end);
- `new`: this checkout, defaults (pieces of <= 128 words taking turns, <= 512 words per model call,
  disconnected clients dropped).

Scenarios per server (short request = one CoNLL-2003 test sentence, long = ~25,000 characters of
CoNLL-2003 test sentences as raw text):
1. `idle`: 10 short requests one after another;
2. `during`: 2 long requests at once, and a short request every `--interval` seconds while they run;
3. `abandoned`: 2 long requests whose clients disconnect after 2 s, then a short request every
   `--interval` seconds for `--abandoned-window` seconds.

    python bench/serve_latency.py --data ../shared/data/conll2003 --old-source /tmp/lookright-274dd3a

(`git archive 274dd3a | tar -x -C /tmp/lookright-274dd3a` makes the old tree.) Results:
bench/results/serve_latency.json and .md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def read_sentences(path: Path) -> list[str]:
    sentences, words = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("-DOCSTART-"):
            if words:
                sentences.append(" ".join(words))
            words = []
        else:
            words.append(line.split()[0])
    return sentences + ([" ".join(words)] if words else [])


def long_texts(sentences: list[str], count: int, chars: int) -> list[str]:
    """`count` different raw texts of about `chars` characters, whole sentences, a paragraph break every 10."""
    texts, k = [], 0
    for _ in range(count):
        parts, size = [], 0
        while size < chars:
            parts.append(sentences[k % len(sentences)] + ("\n\n" if k % 10 == 9 else " "))
            size += len(parts[-1])
            k += 1
        texts.append("".join(parts).strip())
    return texts


def post(url: str, texts: list[str], timeout: float = 900) -> tuple[int, float]:
    data = json.dumps({"texts": texts}).encode()
    request = urllib.request.Request(url + "/v1/tag", data=data, method="POST",
                                     headers={"Content-Type": "application/json"})
    started = time.perf_counter()
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as err:
        status = err.code
    return status, time.perf_counter() - started


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(model: Path, source: Path, log: Path, extra: list[str]) -> tuple[subprocess.Popen, str, str]:
    """`python -m lookright serve` with `source` first on the path; returns the process, its URL, its code's path."""
    env = dict(os.environ, PYTHONPATH=str(source))  # run in `source`: `python -m/-c` put the cwd first on the path
    where = subprocess.run([sys.executable, "-c", "import lookright; print(lookright.__file__)"], env=env,
                           cwd=source, capture_output=True, text=True, check=True).stdout.strip()
    if not where.startswith(str(source)):
        raise SystemExit(f"{source}: python imported lookright from {where} instead")
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "lookright", "serve", "--model", str(model), "--port", str(port), *extra],
        env=env, cwd=source, stdout=log.open("w"), stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while True:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with {process.returncode}; see {log}")
        try:
            with _OPENER.open(url + "/health", timeout=5) as response:
                if response.status == 200:
                    return process, url, where
        except OSError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            raise SystemExit(f"the server did not start in 300 s; see {log}")
        time.sleep(0.5)


def summary(latencies: list[float]) -> dict:
    if not latencies:
        return {"n": 0}
    ordered = sorted(latencies)
    p95 = ordered[round(0.95 * (len(ordered) - 1))]  # nearest rank
    return {"n": len(ordered), "p50_s": round(statistics.median(ordered), 3), "p95_s": round(p95, 3),
            "max_s": round(ordered[-1], 3), "mean_s": round(statistics.fmean(ordered), 3)}


def shorts_while(url: str, shorts: list[str], interval: float, keep_going, max_count: int) -> list[dict]:
    """Send one short request every `interval` s (each on its own thread) while `keep_going()`."""
    rows, threads, lock = [], [], threading.Lock()

    def one(text: str, sent: float) -> None:
        status, seconds = post(url, [text])
        with lock:
            rows.append({"sent_at_s": round(sent, 3), "latency_s": round(seconds, 3), "status": status})

    began = time.perf_counter()
    for i in range(max_count):
        if not keep_going():
            break
        thread = threading.Thread(target=one, args=(shorts[i % len(shorts)], time.perf_counter() - began))
        thread.start()
        threads.append(thread)
        time.sleep(interval)
    for thread in threads:
        thread.join()
    return sorted(rows, key=lambda r: r["sent_at_s"])


def abandon(url: str, text: str) -> socket.socket:
    """Send a request on a raw socket, to be closed before the answer comes (a client that gave up)."""
    host, port = url.removeprefix("http://").split(":")
    body = json.dumps({"texts": [text]}).encode()
    sock = socket.create_connection((host, int(port)))
    sock.sendall(b"POST /v1/tag HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
                 + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
    return sock


def measure(name: str, url: str, shorts: list[str], longs: list[str], args) -> dict:
    post(url, shorts[:2])  # warm-up
    idle = [post(url, [text])[1] for text in shorts[2:12]]

    with ThreadPoolExecutor(len(longs)) as pool:
        started = time.perf_counter()
        futures = [pool.submit(post, url, [text]) for text in longs]
        time.sleep(1.0)  # the long requests are being tagged
        during = shorts_while(url, shorts[12:], args.interval, lambda: not all(f.done() for f in futures), 400)
        long_results = [f.result() for f in futures]
        long_wall = time.perf_counter() - started

    sockets = [abandon(url, text) for text in longs]
    time.sleep(2.0)
    for sock in sockets:
        sock.close()
    until = time.perf_counter() + args.abandoned_window
    after = shorts_while(url, shorts[12:], args.interval, lambda: time.perf_counter() < until, 400)
    row = {
        "server": name,
        "idle": summary(idle),
        "during": summary([r["latency_s"] for r in during]),
        "during_statuses": sorted({r["status"] for r in during}),
        "long_requests": [{"status": s, "seconds": round(t, 2)} for s, t in long_results],
        "long_requests_wall_s": round(long_wall, 2),
        "abandoned": summary([r["latency_s"] for r in after]),
        "during_requests": during,
        "abandoned_requests": after,
    }
    print(f"{name}: idle {row['idle']}, during {row['during']}, long {row['long_requests']}, "
          f"after abandoned {row['abandoned']}", flush=True)
    return row


def train_model(data: Path, output: Path) -> None:
    cmd = [sys.executable, "-m", "lookright", "train", "--train", str(data / "train.txt"),
           "--validation", str(data / "validation.txt"), "--label-column", "3", "--max-train-sentences", "64",
           "--max-validation-sentences", "32", "--max-steps", "2", "--output", str(output)]
    print("$ " + " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, env=dict(os.environ, PYTHONPATH=str(REPO)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="a CoNLL-2003 folder (train/validation/test.txt)")
    parser.add_argument("--model", type=Path, help="a trained model directory; default: train one for 2 steps")
    parser.add_argument("--old-source", type=Path, help="source tree of the old code (holds lookright/)")
    parser.add_argument("--long-chars", type=int, default=25_000)
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between short requests")
    parser.add_argument("--abandoned-window", type=float, default=15.0)
    parser.add_argument("--results", type=Path, default=HERE / "results")
    parser.add_argument("--work", type=Path, default=None, help="where the model and server logs go")
    args = parser.parse_args()

    import torch

    work = args.work or Path(tempfile.mkdtemp(prefix="serve-latency-"))
    work.mkdir(parents=True, exist_ok=True)
    model = args.model
    if model is None:
        model = work / "model"
        if not (model / "lookright.json").is_file():
            train_model(args.data, model)
    sentences = read_sentences(args.data / "test.txt")
    shorts = [s for s in sentences if 8 <= len(s.split()) <= 20][:200]
    longs = long_texts(sentences[500:], 2, args.long_chars)

    servers = ([("old", args.old_source)] if args.old_source else []) + [("new", REPO)]
    load = os.getloadavg()
    rows = []
    for name, source in servers:
        process, url, where = start_server(model, source.resolve(), work / f"server-{name}.log", [])
        try:
            row = measure(name, url, shorts, longs, args)
            row["code"] = where
            rows.append(row)
        finally:
            process.terminate()
            process.wait(30)

    report = {
        "what": f"Latency of one-sentence requests while two ~{args.long_chars:,}-character requests run, and after "
                "two such requests were abandoned by their clients (a latency measurement: the model is "
                "SmolLM2-135M trained for 2 steps, its labels do not matter here)",
        "model": str(model),
        "data": str(args.data),
        "long_request_chars": [len(t) for t in longs],
        "long_request_words": [len(t.split()) for t in longs],
        "interval_s": args.interval,
        "abandoned_window_s": args.abandoned_window,
        "load_average_at_start": [round(x, 2) for x in load],
        "hardware": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores, "
                    f"torch threads {torch.get_num_threads()}; the machine was shared with other work",
        "command": "python bench/serve_latency.py " + " ".join(sys.argv[1:]),
        "servers": rows,
    }
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "serve_latency.json").write_text(json.dumps(report, indent=2) + "\n")
    (args.results / "serve_latency.md").write_text(markdown(report))
    print(markdown(report))


def markdown(report: dict) -> str:
    def cell(s: dict) -> str:
        return f"{s['p50_s']:.2f} / {s['p95_s']:.2f} / {s['max_s']:.2f} (n={s['n']})" if s.get("n") else "-"

    chars = ", ".join(f"{c:,}" for c in report["long_request_chars"])
    words = ", ".join(f"{w:,}" for w in report["long_request_words"])
    intro = (
        f"{report['what']}. Long requests: {chars} characters ({words} whitespace-separated words); a short "
        f"request (one CoNLL-2003 test sentence) every {report['interval_s']} s. {report['hardware']} "
        f"(load average {report['load_average_at_start'][0]} at the start), so the numbers are one run's, not a "
        "controlled measurement."
    )
    lines = [
        "# Short-request latency of `lookright serve` behind long requests",
        "",
        intro,
        "",
        "Latency in seconds, p50 / p95 / max:",
        "",
        "| server | idle | while 2 long requests run | the 2 long requests (s) | after 2 long requests were abandoned |",
        "|---|---|---|---|---|",
    ]
    for row in report["servers"]:
        longs = ", ".join(f"{r['seconds']:.1f}" for r in row["long_requests"])
        lines.append(f"| {row['server']} | {cell(row['idle'])} | {cell(row['during'])} | {longs} | "
                     f"{cell(row['abandoned'])} |")
    code = "; ".join(f"{row['server']} = {row['code']}" for row in report["servers"])
    lines += ["", f"Code: {code}.", "", f"Command: `{report['command']}`", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
