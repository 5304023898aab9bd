"""`lora_blocks`: LoRA only on the unmasked blocks and above (no gradient below), or on a block range."""

from __future__ import annotations

import json

import pytest

from lookright.modeling.lora_blocks import check_lora_blocks, lora_block_indices


def test_block_specs_resolve_and_bad_ones_fail():
    assert lora_block_indices("all", 30, [15, 16]) is None
    assert lora_block_indices("unmasked", 30, [22, 23, 29]) == list(range(22, 30))
    assert lora_block_indices("3-5", 30, []) == [3, 4, 5]
    for bad in ("some", "5-3", "3-", "-3"):
        with pytest.raises(ValueError, match="lora_blocks must be"):
            check_lora_blocks(bad)
    with pytest.raises(ValueError, match="unmasks none"):
        lora_block_indices("unmasked", 30, [])
    with pytest.raises(ValueError, match="blocks 0-29"):
        lora_block_indices("20-30", 30, [])


def test_unmasked_blocks_only_get_adapters_and_the_run_trains(tiny_train_config, tmp_path):
    from lookright.training import train

    result = train(tiny_train_config(tmp_path / "run", unmask="0011", lora_blocks="unmasked", max_steps=2,
                                     eval_every=0))
    adapter = json.loads((result.output / "adapter_config.json").read_text())
    targets = adapter["target_modules"]
    assert targets and all(".layers.2." in t or ".layers.3." in t for t in targets)  # 4 blocks: 0011 unmasks 2, 3
    assert any(".layers.2." in t for t in targets) and any(".layers.3." in t for t in targets)
    assert result.steps == 2 and result.validation is not None


def test_a_causal_run_cannot_adapt_only_unmasked_blocks(tiny_train_config, tmp_path):
    from lookright.training import train

    with pytest.raises(ValueError, match="unmasks none"):
        train(tiny_train_config(tmp_path / "run", method="causal", unmask=None, lora_blocks="unmasked", max_steps=1))
    with pytest.raises(ValueError, match="lora_blocks must be"):
        tiny_train_config(tmp_path / "bad", lora_blocks="top").validate()
