"""The bundled real model: found without a download, converted once, unmasked as configured."""

from __future__ import annotations

import json

import pytest

from lookright.modeling.loading import load_base
from lookright.modeling.resolve import default_gguf_path, resolve_model
from lookright.unmasking import UnmaskConfig, check_attention, unmask


def test_default_model_comes_from_the_installed_package_and_converts_to_safetensors():
    gguf = default_gguf_path()
    assert gguf.name == "SmolLM2-135M-Instruct.Q4_1.gguf" and gguf.stat().st_size > 50_000_000
    path = resolve_model(None)
    assert (path / "model.safetensors").is_file() and (path / "tokenizer.json").is_file()
    config = json.loads((path / "config.json").read_text())
    assert config["model_type"] == "llama" and config["num_hidden_layers"] == 30
    assert "quantization_config" not in config
    assert resolve_model("default") == path  # cached: the conversion happens once


@pytest.mark.parametrize("attn", ["sdpa", "eager"])
def test_unmasking_the_real_model_changes_exactly_the_configured_blocks(attn):
    model, _ = load_base(None, ["O", "B-X", "I-X"], attn_implementation=attn)
    unmask(model, "0011", verify=False)
    expected = UnmaskConfig.resolve("0011", 30).layers
    assert expected == tuple(range(16, 30))  # 30 blocks in groups of 8, 8, 7, 7
    probe = check_attention(model)
    assert probe.sees_right == expected and probe.padding_leaks == ()
    unmask(model, "0000", verify=False)
    assert check_attention(model).sees_right == ()


@pytest.mark.parametrize("config", ["0011", "1111"])
def test_unmasking_check_sees_bf16_changes_next_to_massive_activations(config):
    """SmolLM2 keeps ~34,000-sized activations at its first position (bench/results/int8_backends.md);
    a tolerance scaled by the whole tensor's maximum hid real bf16 changes everywhere else and failed
    every unmasked bf16 run."""
    import torch

    from lookright.modeling.loading import Precision

    model, _ = load_base(None, ["O", "B-X", "I-X"], precision=Precision.choose("bf16", device="cpu"))
    assert next(model.parameters()).dtype == torch.bfloat16
    unmask(model, config, verify=False)
    probe = check_attention(model)
    assert probe.sees_right == UnmaskConfig.resolve(config, 30).layers and probe.padding_leaks == ()
    unmask(model, "0000", verify=False)
    assert check_attention(model).sees_right == ()
