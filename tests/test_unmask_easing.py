"""Easing unmasked blocks in: right context weighted by w (0 = causal, 1 = unmasked) while training."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from tiny_models import tiny_token_classifier

from lookright.errors import UnmaskingError
from lookright.training.loop import UnmaskEasing
from lookright.unmasking import unmask
from lookright.unmasking.easing import easing_weight, set_right_context_weight

CASES = [("llama", "eager"), ("llama", "sdpa"), ("qwen2", "sdpa")]


def _logits(model, ids, mask=None):
    with torch.no_grad():
        return model(input_ids=ids, attention_mask=mask).logits


def _ids(batch=2, length=7):
    return torch.randint(5, 300, (batch, length), generator=torch.Generator().manual_seed(3))


@pytest.mark.parametrize("arch,attn", CASES)
def test_weight_zero_is_causal_one_is_unmasked_and_between_is_neither(arch, attn):
    model = tiny_token_classifier(arch, num_layers=4, attn=attn)
    ids = _ids()
    causal = _logits(model, ids)
    unmask(model, "0011")
    unmasked = _logits(model, ids)
    set_right_context_weight(model, 0.0)
    torch.testing.assert_close(_logits(model, ids), causal, atol=1e-5, rtol=1e-4)
    set_right_context_weight(model, 0.5)
    half = _logits(model, ids)
    assert not torch.allclose(half, causal, atol=1e-4) and not torch.allclose(half, unmasked, atol=1e-4)
    set_right_context_weight(model, 1.0)
    assert torch.equal(_logits(model, ids), unmasked)


@pytest.mark.parametrize("arch,attn", CASES)
def test_eased_blocks_never_see_padding(arch, attn):
    model = tiny_token_classifier(arch, num_layers=4, attn=attn)
    unmask(model, "0011")
    set_right_context_weight(model, 0.3)
    ids = _ids()
    mask = torch.ones_like(ids)
    mask[1, -3:] = 0
    batch = _logits(model, ids, mask)
    alone = _logits(model, ids[1:, :-3])
    torch.testing.assert_close(batch[1, :-3], alone[0], atol=1e-5, rtol=1e-4)


def test_sliding_window_blocks_refuse_easing():
    model = tiny_token_classifier("gemma3_text", num_layers=4, attn="eager")
    unmask(model, "1111")
    set_right_context_weight(model, 0.5)
    with pytest.raises(UnmaskingError, match="sliding-window"):
        _logits(model, _ids())
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        set_right_context_weight(model, 1.5)


def test_the_weight_rises_linearly_then_stays_at_one_and_is_one_between_steps():
    assert [easing_weight(s, 100, 0.25) for s in (0, 5, 25, 80)] == [0.0, 0.2, 1.0, 1.0]
    assert easing_weight(0, 100, 0.0) == 1.0
    model = tiny_token_classifier("llama", num_layers=4, attn="sdpa")
    ids = _ids()
    causal = _logits(model, ids)
    unmask(model, "0011")
    unmasked = _logits(model, ids)
    callback, state = UnmaskEasing(0.5), SimpleNamespace(global_step=0, max_steps=10)
    callback.on_step_begin(None, state, None, model=model)  # the first step trains the causal model
    torch.testing.assert_close(_logits(model, ids), causal, atol=1e-5, rtol=1e-4)
    callback.on_step_end(None, state, None, model=model)  # validation and saving see it unmasked
    assert torch.equal(_logits(model, ids), unmasked)


def test_a_training_run_eases_in_and_only_unmasking_methods_take_it(tiny_train_config, tmp_path):
    from lookright.training import train

    result = train(tiny_train_config(tmp_path / "run", unmask_easing=0.5, max_steps=4, eval_every=2))
    assert result.steps == 4 and result.validation is not None
    with pytest.raises(ValueError, match="unmasks none"):
        tiny_train_config(tmp_path / "c", method="causal", unmask=None, unmask_easing=0.5).validate()
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        tiny_train_config(tmp_path / "b", unmask_easing=2.0).validate()
