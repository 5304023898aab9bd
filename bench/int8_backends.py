"""Which int8 path to ship: torch's dynamic quantization (three kernel engines, with and without
lookright's smoothing), torchao and ONNX Runtime, on the same trained model and sentences.

Each candidate tags the same sentences (default: the first 1,000 of the CoNLL-2003 test set) in the
same process; reported are words/s, the share of words labelled as fp32 labels them, and strict F1.
torchao and onnxruntime are optional (`pip install torchao onnxruntime onnx`); a missing one is
reported as skipped. ONNX Runtime runs the model exported with torch's TorchScript-based exporter
(the unmasking hooks are traced into the graph) and quantized with `quantize_dynamic`.

    python bench/int8_backends.py --model runs/ner-full --data ../shared/data/conll2003/test.txt

Results: bench/results/int8_backends.json and .md.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import shlex
import sys
import tempfile
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent


class OrtModel:
    """An ONNX Runtime session behind the `model(input_ids=..., attention_mask=...).logits` call lookright makes."""

    def __init__(self, path: str, torch_model) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = os.cpu_count() or 1
        self.session = onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        self.torch_model = torch_model
        self.training = False

    def parameters(self):
        return self.torch_model.parameters()

    def eval(self):
        return self

    def train(self, mode: bool = True):
        return self

    def __call__(self, input_ids, attention_mask):
        import torch

        feeds = {"input_ids": input_ids.numpy(), "attention_mask": attention_mask.numpy()}
        logits = torch.from_numpy(self.session.run(None, feeds)[0])
        return type("Output", (), {"logits": logits})()


def scope(module_name: str) -> str:
    """A module's name as the TorchScript exporter writes it in node names: `model/layers.3/mlp/down_proj`."""
    parts: list[str] = []
    for part in module_name.split("."):
        if part.isdigit() and parts:  # a ModuleList child keeps its dot: layers.3
            parts[-1] += "." + part
        else:
            parts.append(part)
    return "/".join(parts)


def export_onnx(model, folder: Path, keep: list[str] = ()) -> tuple[str, str, int]:
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    class Logits(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask):
            return self.inner(input_ids=input_ids, attention_mask=attention_mask).logits

    ids = torch.randint(100, 1000, (2, 16))
    fp32, int8 = str(folder / "model.onnx"), str(folder / "model.int8.onnx")
    axes = {"input_ids": {0: "b", 1: "s"}, "attention_mask": {0: "b", 1: "s"}, "logits": {0: "b", 1: "s"}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(Logits(model).eval(), (ids, torch.ones_like(ids)), fp32, input_names=["input_ids", "attention_mask"],
                          output_names=["logits"], dynamic_axes=axes, dynamo=False, opset_version=17)
    import onnx

    graph = onnx.load(fp32).graph
    scopes = [f"/{scope(name)}/" for name in keep]
    excluded = [node.name for node in graph.node if any(s in node.name for s in scopes)]
    quantize_dynamic(fp32, int8, weight_type=QuantType.QInt8, per_channel=bool(keep), nodes_to_exclude=excluded)
    return fp32, int8, len(excluded)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True)
    parser.add_argument("--data", default=str(HERE.parent.parent / "shared" / "data" / "conll2003" / "test.txt"))
    parser.add_argument("--max-sentences", type=int, default=1000)
    parser.add_argument("--results", default=str(HERE / "results"))
    args = parser.parse_args()

    import torch
    from torch.ao.quantization import default_dynamic_qconfig, quantize_dynamic

    from lookright.evaluation import evaluate_tags
    from lookright.inference import Tagger
    from lookright.inference.gold import read_gold
    from lookright.modeling.int8 import int8_layers

    gold = read_gold(args.data, args.model)
    sentences = [s.tokens for s in gold.sentences[: args.max_sentences]]
    tags = gold.tags[: args.max_sentences]
    words = sum(len(s) for s in sentences)
    rows, reference = [], None

    def measure(name: str, tagger, note: str = "") -> None:
        nonlocal reference
        tagger.tag_words(sentences[:32])
        started = time.perf_counter()
        predicted = tagger.tag_words(sentences)
        seconds = time.perf_counter() - started
        reference = reference or predicted
        same = sum(a == b for x, y in zip(predicted, reference) for a, b in zip(x, y))
        rows.append({"path": name, "words_per_second": round(words / seconds, 1), "label_agreement": round(same / words, 5),
                     "strict_f1": round(100 * evaluate_tags(tags, predicted, tagger.scheme).strict.micro.f1, 2), "note": note})
        print(json.dumps(rows[-1]), flush=True)

    def fp32():
        return Tagger.load(args.model, precision="fp32", quantize="none")

    def activation_peak(tagger) -> dict:
        """The largest |hidden state| a decoder block writes on these sentences, and at which position:
        the "massive activations" that make one int8 scale per tensor fail."""
        peak = {"value": 0.0, "block": None, "position": None}
        hooks = []
        blocks = [(n, m) for n, m in tagger.model.named_modules() if type(m).__name__.endswith("DecoderLayer")]
        for index, (_, block) in enumerate(blocks):
            def hook(_module, _inputs, output, index=index):
                hidden = (output[0] if isinstance(output, tuple) else output).detach().abs()
                value = float(hidden.max())
                if value > peak["value"]:
                    flat = int(hidden.amax(dim=-1).argmax())
                    peak.update(value=round(value, 1), block=index, position=flat % hidden.shape[1])
            hooks.append(block.register_forward_hook(hook))
        try:
            tagger.tag_words(sentences[:64])
        finally:
            for h in hooks:
                h.remove()
        return {**peak, "blocks": len(blocks)}

    reference_tagger = fp32()
    outliers = activation_peak(reference_tagger)
    print("activation peak", json.dumps(outliers), flush=True)
    measure("fp32", reference_tagger)
    measure("bf16", Tagger.load(args.model, precision="bf16", quantize="none"))
    for engine in [e for e in ("x86", "fbgemm", "onednn") if e in torch.backends.quantized.supported_engines]:
        torch.backends.quantized.engine = engine
        tagger = fp32()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            quantize_dynamic(tagger.model, {torch.nn.Linear: default_dynamic_qconfig}, dtype=torch.qint8, inplace=True)
        measure(f"torch quantize_dynamic, {engine}, every linear layer", tagger, "plain dynamic int8")
    tagger = fp32()
    tagger.quantize_int8()
    measure(f"lookright --quantize int8 ({tagger.int8.engine})", tagger, "smoothed, down projections and head kept")

    if importlib.util.find_spec("torchao") is not None:
        from torchao.quantization import Int8DynamicActivationInt8WeightConfig, quantize_

        tagger = fp32()
        layers, _ = int8_layers(tagger.model)
        quantize_(tagger.model, Int8DynamicActivationInt8WeightConfig(), filter_fn=lambda m, name: name in layers)
        measure("torchao int8 dynamic (per-token activations), same layers", tagger, "eager, no torch.compile")
    else:
        rows.append({"path": "torchao", "note": "skipped: not installed"})
    if importlib.util.find_spec("onnxruntime") is not None:
        with tempfile.TemporaryDirectory() as tmp:
            tagger = fp32()
            path_fp32, path_int8, _ = export_onnx(tagger.model, Path(tmp))
            base = tagger.model
            tagger.model = OrtModel(path_fp32, base)
            measure("onnxruntime fp32", tagger)
            tagger.model = OrtModel(path_int8, base)
            measure("onnxruntime quantize_dynamic int8, every linear layer", tagger, "plain dynamic int8")
        with tempfile.TemporaryDirectory() as tmp:  # lookright's recipe, run by ONNX Runtime
            from lookright.modeling.int8 import CALIBRATION_SENTENCES, channel_maxima, fold_smoothing, smoothing_scales
            from lookright.data.words import split_words

            tagger = fp32()
            layers, keep = int8_layers(tagger.model)
            calibration = [[t[a:b] for a, b in split_words(t)] for t in CALIBRATION_SENTENCES]
            fold_smoothing(layers, smoothing_scales(layers, channel_maxima(layers, lambda: tagger.word_scores(calibration)), 0.8))
            _, path_int8, excluded = export_onnx(tagger.model, Path(tmp), keep)
            tagger.model = OrtModel(path_int8, tagger.model)
            measure("onnxruntime int8, smoothed, down projections and head kept", tagger,
                    f"lookright's recipe in ORT; {excluded} graph nodes of the {len(keep)} kept layers left in fp32")
    else:
        rows.append({"path": "onnxruntime", "note": "skipped: not installed"})

    import transformers

    result = {"command": "python bench/int8_backends.py " + shlex.join(sys.argv[1:]), "model": args.model,
              "sentences": len(sentences), "words": words, "rows": rows, "activation_peak": outliers,
              "hardware": f"{platform.machine()}, {os.cpu_count()} CPU cores, torch threads {torch.get_num_threads()}",
              "software": f"torch {torch.__version__}, transformers {transformers.__version__}"}
    results = Path(args.results)
    results.mkdir(parents=True, exist_ok=True)
    (results / "int8_backends.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = ["# int8 candidates on the same model and sentences\n",
             f"{len(sentences):,} sentences, {words:,} words ({args.data}); model {args.model}; {result['hardware']}; "
             f"{result['software']}.\n", "| path | words/s | same label as fp32 | strict F1 | note |", "|---|---|---|---|---|"]
    for row in rows:
        if "words_per_second" in row:
            lines.append(f"| {row['path']} | {row['words_per_second']:,.0f} | {100 * row['label_agreement']:.2f}% | "
                         f"{row['strict_f1']:.2f} | {row['note']} |")
        else:
            lines.append(f"| {row['path']} | - | - | - | {row['note']} |")
    lines += ["", f"Largest |hidden state| a decoder block writes on the first 64 sentences (fp32): "
              f"{outliers['value']:,.0f}, block {outliers['block']} of {outliers['blocks']}, position "
              f"{outliers['position']} of its padded batch.", "", f"Command: `{result['command']}`", ""]
    (results / "int8_backends.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
