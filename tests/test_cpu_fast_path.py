"""The CPU fast path: `precision=auto` picks bf16 where the CPU has it, int8 scoring with a parity gate,
and commands that never import torch when they do not need it."""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from lookright.cli import app
from lookright.data.readers import read_data
from lookright.errors import ModelError
from lookright.inference import Tagger
from lookright.modeling import hardware, loading
from lookright.modeling.artifact import ModelCard
from lookright.modeling.loading import Precision, training_attention
from lookright.unmasking.state import find_decoder


@pytest.mark.parametrize("native", [True, False])
def test_auto_precision_follows_the_documented_rule_on_cpu(monkeypatch, native):
    """bf16 for LoRA training and scoring exactly when the CPU multiplies bf16 natively; fp32 for
    full fine-tuning on a CPU either way; an explicit precision always wins."""
    monkeypatch.setattr(loading, "cpu_has_native_bf16", lambda: native)
    expected = torch.bfloat16 if native else torch.float32
    assert Precision.choose("auto", "none", "cpu", finetune="lora").dtype == expected
    assert Precision.choose("auto", "none", "cpu").dtype == expected  # what Tagger.load asks for scoring
    assert Precision.choose("auto", "none", "cpu", finetune="full").dtype == torch.float32
    assert Precision.choose("fp32", "none", "cpu").dtype == torch.float32
    assert Precision.choose("bf16", "none", "cpu", finetune="full").dtype == torch.bfloat16
    assert Precision.choose("auto", "none", "cpu").autocast_bf16 is native


@pytest.mark.skipif(platform.system() != "Linux" or platform.machine() != "x86_64", reason="reads /proc/cpuinfo flags")
def test_native_bf16_detection_agrees_with_the_cpu_flags():
    """torch's probe (what auto uses) says yes exactly when the kernel lists AVX512-BF16 or AMX-BF16."""
    flags = next(line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("flags")).split()
    assert hardware.cpu_has_native_bf16() == bool({"avx512_bf16", "amx_bf16"} & set(flags))


def test_auto_trains_with_eager_attention_on_a_cpu_only():
    cpu = Precision.choose("fp32", "none", "cpu")
    assert training_attention("auto", cpu) == "eager"
    assert training_attention("sdpa", cpu) == "sdpa"
    assert training_attention("auto", Precision(torch.bfloat16, False, "cuda")) == "auto"


def _validation(conll2003, n=24):
    return read_data(conll2003 / "validation.txt", label_column=3)[:n]


def test_int8_scoring_quantizes_the_block_layers_and_keeps_labels_close_to_fp32(trained_dir, conll2003):
    """Every block linear layer except the down projections becomes int8; the head stays full
    precision; the log-probabilities stay close to fp32's, and every word is labelled."""
    from torch.ao.nn.quantized.dynamic import Linear as DynamicLinear

    reference = Tagger.load(trained_dir, precision="fp32", quantize="none")
    tagger = Tagger.load(trained_dir, quantize="int8")
    assert tagger.int8 is not None and tagger.int8.calibration == "built-in sentences"
    names = {name: type(m) for name, m in tagger.model.named_modules()}
    int8 = [n for n, kind in names.items() if kind is DynamicLinear]
    full = [n for n, kind in names.items() if kind is torch.nn.Linear]
    layers = tagger.model.config.num_hidden_layers
    assert len(int8) == tagger.int8.quantized_layers == 6 * layers  # q, k, v, o, gate, up
    assert sorted(n.rsplit(".", 1)[-1] for n in full) == ["down_proj"] * layers + ["score"]
    sentences = [s.tokens for s in _validation(conll2003)]
    ours, theirs = tagger.word_scores(sentences), reference.word_scores(sentences)
    assert [len(a) for a in ours] == [len(s) for s in sentences]
    diff = np.concatenate([np.abs(np.exp(a) - np.exp(b)).ravel() for a, b in zip(ours, theirs)])
    assert diff.mean() < 0.02  # probabilities, not labels: the tiny random model's labels are near ties
    with pytest.raises(ModelError, match="cannot be combined with precision bf16"):
        Tagger.load(trained_dir, quantize="int8", precision="bf16")
    with pytest.raises(ModelError, match="unknown quantization 'int4'"):
        Tagger.load(trained_dir, quantize="int4")


def test_int8_export_records_its_parity_and_reloads_as_it_was_checked(trained_dir, conll2003, tmp_path):
    data = tmp_path / "val.jsonl"
    data.write_text("".join(json.dumps({"tokens": s.tokens, "tags": s.tags}) + "\n" for s in _validation(conll2003)))
    out = tmp_path / "int8"
    result = CliRunner().invoke(app, [
        "export", "--model", str(trained_dir), "--output", str(out), "--quantize", "int8", "--data", str(data),
        "--max-f1-drop", "100",
    ])
    assert result.exit_code == 0, result.output
    card = ModelCard.read(out)
    parity = card.quantization["parity"]
    assert parity["words"] == sum(len(s) for s in _validation(conll2003)) and parity["data"] == str(data)
    assert json.loads((out / "int8_parity.json").read_text())["label_agreement"] == parity["label_agreement"]
    reloaded = Tagger.load(out)  # auto: int8, from the saved scales
    assert reloaded.int8 is not None and reloaded.int8.calibration == "saved scales"
    checked = Tagger.load(trained_dir, quantize="int8")
    sentences = [s.tokens for s in _validation(conll2003)]
    assert reloaded.tag_words(sentences) == checked.tag_words(sentences)  # what the gate measured
    assert Tagger.load(out, quantize="none").int8 is None


def test_int8_export_refuses_when_f1_drops_too_far_and_writes_nothing(trained_dir, conll2003, tmp_path, monkeypatch):
    from lookright.inference import int8_export
    from lookright.inference.parity import ParityReport

    def losing(reference, candidate, sentences, gold, *, names):
        words = sum(len(s.tokens) for s in sentences)
        return ParityReport(*names, len(sentences), words, 0.80, 0.79, 0.99, 1, 100.0, 200.0), None

    monkeypatch.setattr(int8_export, "compare_taggers", losing)
    data = tmp_path / "val.conll"
    data.write_text("".join(" ".join([w, "X", "X", t]) + "\n" for w, t in zip(["EU", "rejects"], ["B-ORG", "O"])))
    out = tmp_path / "refused"
    result = CliRunner().invoke(app, ["export", "--model", str(trained_dir), "--output", str(out), "--quantize", "int8",
                                      "--data", str(data)])
    assert result.exit_code != 0
    assert "int8 loses 1.00 strict F1 points" in str(result.exception) and "--allow-f1-drop" in str(result.exception)
    assert not out.exists()
    allowed = CliRunner().invoke(app, ["export", "--model", str(trained_dir), "--output", str(out), "--quantize", "int8",
                                       "--data", str(data), "--allow-f1-drop"])
    assert allowed.exit_code == 0, allowed.output
    assert ModelCard.read(out).quantization["parity"]["f1_drop_points"] == 1.0


def test_evaluate_compare_precision_reports_both_scores_and_the_label_agreement(trained_dir, conll2003, tmp_path):
    data = tmp_path / "val.jsonl"
    sentences = _validation(conll2003, 16)
    data.write_text("".join(json.dumps({"tokens": s.tokens, "tags": s.tags}) + "\n" for s in sentences))
    report = tmp_path / "report.json"
    result = CliRunner().invoke(app, ["evaluate", "--model", str(trained_dir), "--data", str(data), "--quantize", "int8",
                                      "--compare-precision", "--output", str(report)])
    assert result.exit_code == 0, result.output
    written = json.loads(report.read_text())
    parity = written["parity"]
    assert (parity["reference"], parity["candidate"]) == ("fp32", "int8")
    assert parity["words"] == sum(len(s) for s in sentences) and parity["sentences"] == len(sentences)
    assert 0 <= parity["label_agreement"] <= 1 and parity["words_differing"] == round(
        (1 - parity["label_agreement"]) * parity["words"])
    assert written["strict"]["micro"]["f1"] == pytest.approx(parity["candidate_strict_f1"])
    fp32 = Tagger.load(trained_dir, precision="fp32", quantize="none").evaluate(data)
    assert parity["reference_strict_f1"] == pytest.approx(fp32.strict.micro.f1)


@pytest.mark.parametrize("argv", [["--help"], ["train", "--help"], ["score", "--gold", "{gold}", "--pred", "{gold}"]])
def test_help_and_score_never_import_torch_or_transformers(argv, tmp_path):
    gold = tmp_path / "gold.conll"
    gold.write_text("EU NNP B-NP B-ORG\nrejects VBZ B-VP O\n\n")
    argv = [a.replace("{gold}", str(gold)) for a in argv]
    code = (
        "import sys\n"
        f"sys.argv = ['lookright', *{argv!r}]\n"
        "from lookright.cli import main\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        "print('\\nIMPORTED', sorted(m for m in ('torch', 'transformers', 'peft') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "IMPORTED []"


def test_cpu_dropout_drops_p_of_the_inputs_scales_the_rest_and_repeats_under_a_seed():
    from lookright.modeling.adapters import CpuDropout

    dropout = CpuDropout(0.05)
    x = torch.ones(64, 100, 37, dtype=torch.bfloat16)  # an odd element count: not a multiple of 4
    torch.manual_seed(3)
    y = dropout(x)
    assert y.shape == x.shape and y.dtype == x.dtype
    kept = y != 0
    assert abs(1 - kept.float().mean().item() - 0.05) < 0.003
    assert torch.allclose(y[kept].float(), torch.full_like(y[kept].float(), 1 / 0.95), rtol=1e-2)
    torch.manual_seed(3)
    assert torch.equal(dropout(x), y)
    assert not torch.equal(dropout(x), y)  # a new draw
    dropout.eval()
    assert torch.equal(dropout(x), x)


def test_lora_training_on_a_cpu_uses_the_fast_dropout_with_the_configured_rate(tiny_model_dir):
    from lookright.modeling.adapters import CpuDropout, LoraSettings, add_lora

    fp32 = Precision.choose("fp32", "none", "cpu")
    model = loading.load_token_classifier(tiny_model_dir, ["O", "B-X", "I-X"], precision=fp32)
    wrapped = add_lora(model, LoraSettings(dropout=0.07))
    dropouts = [m for m in wrapped.modules() if isinstance(m, CpuDropout)]
    assert len(dropouts) == 7 * model.config.num_hidden_layers and {d.p for d in dropouts} == {0.07}
    assert not any(type(m) is torch.nn.Dropout and m.p == 0.07 for m in wrapped.modules())


def test_lora_layers_skip_the_input_copy_under_autocast_and_compute_the_same(tiny_model_dir):
    """Under bf16 autocast peft's cast of each LoRA input to the fp32 adapters is a wasted copy: it is
    skipped there (same outputs) and kept without autocast, where a bf16 input needs it."""
    from peft.tuners.lora.layer import Linear as LoraLinear

    from lookright.modeling.adapters import CastOutsideAutocast, LoraSettings, add_lora

    bf16 = Precision.choose("bf16", "none", "cpu")
    model = loading.load_token_classifier(tiny_model_dir, ["O", "B-X", "I-X"], precision=bf16)
    wrapped = add_lora(model, LoraSettings())
    layer = next(m for m in wrapped.modules() if isinstance(m, LoraLinear))
    torch.manual_seed(0)
    for parameter in layer.lora_B.parameters():  # peft starts B at zero: make the adapter count
        torch.nn.init.normal_(parameter)
    layer.eval()
    x = torch.randn(2, 5, layer.in_features, dtype=torch.bfloat16)
    casts = []  # the dtype the adapter path receives
    handle = layer.lora_dropout["default"].register_forward_pre_hook(lambda module, args: casts.append(args[0].dtype))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert not layer.cast_input_dtype_enabled
        skipped = layer(x)
        layer.cast_input_dtype_enabled = True  # peft's own behaviour, for comparison
        cast = layer(x)
    handle.remove()
    assert casts == [torch.bfloat16, torch.float32]
    assert torch.equal(skipped, cast)
    layer.cast_input_dtype_enabled = CastOutsideAutocast()
    assert layer.cast_input_dtype_enabled and layer(x).dtype == torch.bfloat16  # no autocast: cast, no dtype error


def test_sibling_lora_layers_share_one_dropout_draw_and_no_layer_reuses_its_own(tiny_model_dir):
    """q, k and v adapters read one tensor and take one mask (as peft's fused qkv adapters do); the
    next forward pass, or the same layer called again, draws anew; a copied model carries no draw."""
    import copy

    from lookright.modeling.adapters import CpuDropout, LoraSettings, add_lora

    fp32 = Precision.choose("fp32", "none", "cpu")
    model = loading.load_token_classifier(tiny_model_dir, ["O", "B-X", "I-X"], precision=fp32)
    wrapped = add_lora(model, LoraSettings(dropout=0.3))
    block = find_decoder(wrapped).layers[0]
    q, k, v, o = (block.self_attn.get_submodule(f"{n}_proj").lora_dropout["default"] for n in "qkvo")
    assert isinstance(q, CpuDropout) and q.shared is k.shared is o.shared
    wrapped.train()
    x = torch.randn(4, 9, 32)
    first_q, first_k, first_v = q(x), k(x), v(x)
    assert first_k is first_q and first_v is first_q and (first_q == 0).any()
    assert not torch.equal(q(x), first_q)  # q again: a new draw, which k then shares
    assert torch.equal(k(x), q.shared.output)
    assert not torch.equal(o(x.clone()), first_q)  # another tensor: its own draw
    drawn = q(x)
    x.mul_(2)  # changed in place since q's draw: k must not take it
    assert k(x) is not drawn
    assert copy.deepcopy(wrapped).get_submodule(
        "base_model.model.model.layers.0.self_attn.q_proj.lora_dropout.default").shared.output is None
