"""The CPU fast path, side by side in one run: scoring in fp32, bf16 and int8 against transformers'
pipeline, and training in fp32 against `precision=auto`.

Scoring: one trained model, the same sentences (default: the full CoNLL-2003 test set), the same
process. transformers' `pipeline("token-classification")` (fp32, `aggregation_strategy="first"`,
the model with LoRA merged and the unmasking hooks installed) runs at the best of `--pipeline-batch-sizes`
(picked on the first `--pick-sentences` sentences); lookright's `Tagger` runs in fp32, in bf16 and
with int8 linear layers. Each is timed on the whole set after a warm-up; every label is compared
with fp32's, and strict span F1 is computed against the gold tags.

Training: `lookright train` on the same `--train-sentences` sentences, 1 epoch, same seed and
validation slice, as separate processes one after another: fp32 with SDPA attention (what the
previous default trained with), fp32, and the default (`precision=auto`: bf16 where the CPU has it).
The method is pinned to the paper's `unmask` (a single reading), so tokens/s counts each subword once
at every size (the default method `auto` reads small sets twice).

    python bench/cpu_fast_path.py --model runs/ner-full --data ../shared/data/conll2003

Results: bench/results/cpu_fast_path.json and .md.
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


def timed(fn):
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


def score_rows(args) -> tuple[list[dict], dict]:
    from transformers import pipeline

    from lookright.data.readers import read_data
    from lookright.evaluation import evaluate_tags
    from lookright.inference import Tagger
    from lookright.inference.gold import read_gold

    sentences = read_data(Path(args.data) / "test.txt", label_column=3)[: args.max_sentences]
    words = [s.tokens for s in sentences]
    count = sum(len(w) for w in words)
    rows: list[dict] = []
    reference_tags = None

    def record(name: str, tags: list[list[str]], seconds: float, tagger, **extra) -> None:
        nonlocal reference_tags
        gold = read_gold(sentences, tagger.card).tags
        if reference_tags is None:
            reference_tags = tags
        same = sum(a == b for x, y in zip(tags, reference_tags) for a, b in zip(x, y))
        rows.append({
            "path": name, "seconds": round(seconds, 2), "words_per_second": round(count / seconds, 1),
            "label_agreement_with_fp32": round(same / count, 5),
            "strict_f1": round(100 * evaluate_tags(gold, tags, tagger.scheme).strict.micro.f1, 2), **extra,
        })
        print(json.dumps(rows[-1]), flush=True)

    for name, kwargs in (("lookright fp32", dict(precision="fp32", quantize="none")),
                         ("lookright bf16", dict(precision="bf16", quantize="none")),
                         ("lookright int8", dict(precision="fp32", quantize="int8"))):
        tagger, load_seconds = timed(lambda: Tagger.load(args.model, **kwargs))
        tagger.tag_words(words[:32])  # warm-up
        tags, seconds = timed(lambda: tagger.tag_words(words))
        record(name, tags, seconds, tagger, load_seconds=round(load_seconds, 1))
        if name == "lookright fp32":
            fp32_tagger = tagger

    # transformers' pipeline on the fp32 model, at its best batch size; labels of each word's first subword
    texts = [" ".join(w) for w in words]
    ner = pipeline("token-classification", model=fp32_tagger.model, tokenizer=fp32_tagger.tokenizer,
                   aggregation_strategy="first", device=-1)
    picks = {}
    for batch in args.pipeline_batch_sizes:
        ner(texts[:16], batch_size=batch)
        _, picks[batch] = timed(lambda: ner(texts[: args.pick_sentences], batch_size=batch))
    best = min(picks, key=picks.get)
    found, seconds = timed(lambda: ner(texts, batch_size=best))
    tags = [_pipeline_tags(text, w, spans) for text, w, spans in zip(texts, words, found)]
    record("transformers pipeline fp32", tags, seconds, fp32_tagger, batch_size=best,
           batch_size_seconds_on_pick={str(k): round(v, 2) for k, v in picks.items()})
    return rows, {"sentences": len(sentences), "words": count}


def _pipeline_tags(text: str, words: list[str], spans: list[dict]) -> list[str]:
    """IOB2 tags per word from the pipeline's grouped entities (character offsets into the joined text)."""
    starts, position = [], 0
    for word in words:
        starts.append(position)
        position += len(word) + 1
    tags = ["O"] * len(words)
    for span in spans:
        start = span["start"]
        while start < len(text) and text[start].isspace():  # byte-level BPE offsets include the space
            start += 1
        inside = [i for i, s in enumerate(starts) if start <= s < span["end"]]
        for k, i in enumerate(inside):
            tags[i] = ("B-" if k == 0 else "I-") + span["entity_group"]
    return tags


TRAIN_RECIPES = {  # the code before this change is measured by `make demo` on its own checkout (bench/README.md)
    "fp32, SDPA attention (the attention of the previous default)": ["--precision", "fp32", "--attn", "sdpa"],
    "fp32": ["--precision", "fp32"],
    "default (precision auto)": [],
}


def train_rows(args) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, extra in TRAIN_RECIPES.items():
            output = Path(tmp) / f"run{len(rows)}"
            command = [
                sys.executable, "-m", "lookright", "train", "--train", str(Path(args.data) / "train.txt"),
                "--validation", str(Path(args.data) / "validation.txt"), "--label-column", "3",
                "--max-train-sentences", str(args.train_sentences), "--max-validation-sentences",
                str(args.validation_sentences), "--method", "unmask", "--unmask", args.unmask, "--epochs", "1", "--seed", str(args.seed),
                "--output", str(output), *extra,
            ]
            print("$", shlex.join(command), flush=True)
            _, wall = timed(lambda: subprocess.run(command, check=True, capture_output=True))
            card = json.loads((output / "lookright.json").read_text())
            rows.append({
                "recipe": name, "flags": " ".join(extra) or "(none)", "tokens_per_second": card["training"]["tokens_per_second"],
                "train_seconds": card["training"]["train_seconds"], "wall_seconds": round(wall, 1),
                "precision": card["training"]["precision"],
                "validation_strict_f1": round(100 * card["metrics"]["validation"]["strict"]["micro"]["f1"], 2),
            })
            print(json.dumps(rows[-1]), flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="a trained lookright model directory (NER, CoNLL-2003 labels)")
    parser.add_argument("--data", default=str(HERE.parent.parent / "shared" / "data" / "conll2003"),
                        help="folder with train.txt, validation.txt, test.txt (CoNLL-2003 columns)")
    parser.add_argument("--max-sentences", type=int, default=None, help="score only the first N test sentences")
    parser.add_argument("--pipeline-batch-sizes", type=lambda s: [int(x) for x in s.split(",")], default=[1, 8, 32, 64])
    parser.add_argument("--pick-sentences", type=int, default=200)
    parser.add_argument("--train-sentences", type=int, default=1000)
    parser.add_argument("--validation-sentences", type=int, default=500)
    parser.add_argument("--unmask", default="0011")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--skip-training", action="store_true")
    parser.add_argument("--results", default=str(HERE / "results"))
    parser.add_argument("--name", default="cpu_fast_path", help="file name of the record (another CPU, another name)")
    args = parser.parse_args()

    import torch
    import transformers

    from lookright.modeling.hardware import cpu_features, cpu_model

    scoring, sizes = score_rows(args)
    training = [] if args.skip_training else train_rows(args)
    by_path = {row["path"]: row for row in scoring}
    pipeline_speed = by_path["transformers pipeline fp32"]["words_per_second"]
    for row in scoring:
        row["speedup_vs_pipeline"] = round(row["words_per_second"] / pipeline_speed, 2)
        row["speedup_vs_lookright_fp32"] = round(row["words_per_second"] / by_path["lookright fp32"]["words_per_second"], 2)
    result = {
        "command": "python bench/cpu_fast_path.py " + shlex.join(sys.argv[1:]),
        "model": args.model, "data": args.data, **sizes, "scoring": scoring, "training": training,
        "hardware": f"{cpu_model()}, {os.cpu_count()} CPU cores, torch threads "
                    f"{torch.get_num_threads()}, {cpu_features()}",
        "software": f"torch {torch.__version__}, transformers {transformers.__version__}",
    }
    results = Path(args.results)
    results.mkdir(parents=True, exist_ok=True)
    (results / f"{args.name}.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = [
        "# CPU fast path: fp32, bf16, int8 and transformers' pipeline, measured in one run\n",
        f"{sizes['sentences']:,} sentences, {sizes['words']:,} words ({args.data}/test.txt); model {args.model}; "
        f"{result['hardware']}; {result['software']}.\n",
        "| scoring path | words/s | vs pipeline | vs lookright fp32 | same label as fp32 | strict F1 |",
        "|---|---|---|---|---|---|",
    ]
    for row in scoring:
        name = row["path"] + (f" (batch {row['batch_size']})" if "batch_size" in row else "")
        lines.append(f"| {name} | {row['words_per_second']:,.0f} | {row['speedup_vs_pipeline']}x | "
                     f"{row['speedup_vs_lookright_fp32']}x | {100 * row['label_agreement_with_fp32']:.2f}% | {row['strict_f1']:.2f} |")
    if training:
        lines += ["", f"Training: `lookright train`, {args.train_sentences:,} sentences, 1 epoch, "
                      f"`--method unmask --unmask {args.unmask}`, seed {args.seed}, validation on {args.validation_sentences} sentences.", "",
                  "| recipe | flags | precision | tokens/s | train s | validation strict F1 |", "|---|---|---|---|---|---|"]
        for row in training:
            lines.append(f"| {row['recipe']} | `{row['flags']}` | {row['precision']} | {row['tokens_per_second']:,.0f} | "
                         f"{row['train_seconds']} | {row['validation_strict_f1']:.2f} |")
    lines += ["", f"Command: `{result['command']}`", ""]
    (results / f"{args.name}.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
