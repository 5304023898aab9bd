"""The unmasking mechanism on real transformers architectures (tiny random weights), eager and SDPA."""

from __future__ import annotations

import pytest
import torch
from tiny_models import ARCHITECTURES, supports_sdpa, tiny_token_classifier

from lookright.errors import UnmaskingError
from lookright.unmasking import (
    UnmaskConfig,
    apply_saved_unmasking,
    check_attention,
    current_unmasking,
    find_decoder,
    split_into_groups,
    unmask,
    verify_unmasking,
)

ARCHS = sorted(ARCHITECTURES)
IMPLS = ["eager", "sdpa"]
SEQ = 7
# every architecture with eager, and with SDPA where transformers supports it (not gemma2: softcapping)
ARCH_IMPL = [(a, i) for a in ARCHS for i in IMPLS if i == "eager" or supports_sdpa(a)]


def _ids(batch: int = 1, seed: int = 1) -> torch.Tensor:
    return torch.randint(5, 300, (batch, SEQ), generator=torch.Generator().manual_seed(seed))


def _hidden(model, ids, mask=None):
    with torch.no_grad():
        out = model(input_ids=ids, attention_mask=mask, output_hidden_states=True)
    return out.hidden_states, out.logits


# --- configuration ---------------------------------------------------------------------------


def test_groups_split_evenly_with_extra_blocks_nearest_the_input():
    assert [len(g) for g in split_into_groups(30, 4)] == [8, 8, 7, 7]
    assert [list(g) for g in split_into_groups(8, 4)] == [[0, 1], [2, 3], [4, 5], [6, 7]]
    assert sum(len(g) for g in split_into_groups(13, 5)) == 13


def test_group_string_first_character_is_the_input_side():
    assert UnmaskConfig.resolve("0011", 32).layers == tuple(range(16, 32))
    assert UnmaskConfig.resolve("1000", 32).layers == tuple(range(0, 8))
    assert UnmaskConfig.resolve("0001", 30).layers == tuple(range(23, 30))
    assert UnmaskConfig.resolve("0000", 30).is_causal
    assert UnmaskConfig.resolve("layers:3,1,3", 8).layers == (1, 3)
    assert UnmaskConfig.resolve([5, 6], 8).groups is None


@pytest.mark.parametrize("bad", ["", "0012", "00a1", "00 11"])
def test_invalid_group_strings_are_rejected(bad):
    with pytest.raises(ValueError, match="unmasking config|must not be empty"):
        UnmaskConfig.resolve(bad, 8)


def test_more_groups_than_layers_is_rejected():
    with pytest.raises(ValueError, match="cannot split 4 layers into 5 groups"):
        UnmaskConfig.resolve("00001", 4)


def test_layer_index_out_of_range_is_rejected():
    with pytest.raises(ValueError, match="out of range"):
        UnmaskConfig.resolve([9], 8)


def test_config_round_trips_through_a_dict():
    cfg = UnmaskConfig.resolve("0110", 12)
    assert UnmaskConfig.from_dict(cfg.to_dict()) == cfg


# --- mechanism, per architecture and attention backend ----------------------------------------


@pytest.mark.parametrize("arch,attn", ARCH_IMPL)
def test_unmasked_blocks_see_right_context_and_masked_blocks_do_not(arch, attn):
    """Changing the last token changes earlier positions only from the first unmasked block on.

    (Earlier positions, not just position 0: gemma2/gemma3 sliding-window blocks only see 4 tokens.)
    """
    model = tiny_token_classifier(arch, num_layers=4, attn=attn)
    unmask(model, "01")  # blocks 2 and 3 bidirectional
    ids = _ids()
    changed = ids.clone()
    changed[0, -1] = (changed[0, -1] + 17) % 300 + 5
    before, _ = _hidden(model, ids)
    after, _ = _hidden(model, changed)
    # hidden_states[k] is the input of block k: blocks 0 and 1 are causal, earlier positions untouched
    for k in (0, 1, 2):
        assert torch.equal(before[k][0, :-1], after[k][0, :-1]), f"block {k - 1} leaked future tokens"
    assert not torch.allclose(before[3][0, :-1], after[3][0, :-1]), "block 2 did not see the right context"


@pytest.mark.parametrize("arch,attn", ARCH_IMPL)
def test_probe_measures_exactly_the_configured_blocks(arch, attn):
    model = tiny_token_classifier(arch, num_layers=4, attn=attn)
    assert check_attention(model).sees_right == ()
    for spec, expected in (("1000", (0,)), ("0011", (2, 3)), ("1111", (0, 1, 2, 3)), ([1, 3], (1, 3))):
        unmask(model, spec)
        probe = check_attention(model)
        assert probe.sees_right == expected
        assert probe.padding_leaks == ()


@pytest.mark.parametrize("arch,attn", ARCH_IMPL)
def test_all_causal_config_is_bit_identical_to_the_untouched_model(arch, attn):
    model = tiny_token_classifier(arch, attn=attn)
    ids = _ids(batch=2)
    mask = torch.ones_like(ids)
    mask[1, -2:] = 0
    _, reference = _hidden(model, ids, mask)
    _, reference_b1 = _hidden(model, ids[:1])
    unmask(model, "1111")
    unmask(model, "0000")  # restores the causal model
    _, restored = _hidden(model, ids, mask)
    _, restored_b1 = _hidden(model, ids[:1])
    assert torch.equal(reference, restored)
    assert torch.equal(reference_b1, restored_b1)
    assert not hasattr(model.config, "lookright_unmask")


@pytest.mark.parametrize("side", ["right", "left"])
@pytest.mark.parametrize("arch,attn", ARCH_IMPL)
def test_padding_never_changes_real_tokens(arch, attn, side):
    """Whatever sits in the padding, real positions of a fully unmasked model get the same logits."""
    model = tiny_token_classifier(arch, attn=attn)
    unmask(model, "1111")
    ids = _ids(batch=2)
    mask = torch.ones_like(ids)
    pad = slice(-3, None) if side == "right" else slice(0, 3)
    real = slice(0, SEQ - 3) if side == "right" else slice(3, None)
    mask[1, pad] = 0
    other = ids.clone()
    other[1, pad] = torch.tensor([7, 8, 9])
    _, a = _hidden(model, ids, mask)
    _, b = _hidden(model, other, mask)
    assert torch.equal(a[1, real], b[1, real])
    if side == "right":  # same positions as the unpadded sentence alone
        _, alone = _hidden(model, ids[1:, real])
        torch.testing.assert_close(a[1, real], alone[0], atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("arch", ["llama", "gemma3_text", "gpt_neox"])
def test_batch_of_one_without_padding_is_really_bidirectional_under_sdpa(arch):
    """The SDPA fast path (mask None + is_causal) is the classic silent fallback."""
    model = tiny_token_classifier(arch, attn="sdpa")
    unmask(model, "1111")
    ids = _ids()
    changed = ids.clone()
    changed[0, -1] = 3
    _, a = _hidden(model, ids)
    _, b = _hidden(model, changed)
    assert not torch.allclose(a[0, 0], b[0, 0])


# --- the self-check fails loudly --------------------------------------------------------------


def test_self_check_catches_a_block_that_silently_stays_causal():
    model = tiny_token_classifier("llama", attn="sdpa")
    unmask(model, "0011")
    structure = find_decoder(model)
    # simulate a backend that ignores the swapped mask: no mask at all + the module flag back on
    structure.attention_modules(3)[0].is_causal = True
    structure.layers[3]._forward_pre_hooks.clear()
    with pytest.raises(UnmaskingError, match=r"blocks \[3\] should be bidirectional but stayed causal"):
        verify_unmasking(model)


def test_self_check_catches_padding_leaks():
    model = tiny_token_classifier("llama", attn="eager")
    unmask(model, "0001")
    layer = find_decoder(model).layers[3]

    def attend_everything(module, args, kwargs):  # what LS-LLaMA/BiLLM do: an all-zero mask
        return args, {**kwargs, "attention_mask": None}

    layer.register_forward_pre_hook(attend_everything, with_kwargs=True)
    with pytest.raises(UnmaskingError, match="let padding tokens change real tokens"):
        verify_unmasking(model)


def test_unmask_rejects_prepared_4d_masks():
    model = tiny_token_classifier("llama")
    unmask(model, "0011")
    ids = _ids(batch=1)
    with pytest.raises(UnmaskingError, match="2-D padding mask"):
        model(input_ids=ids, attention_mask=torch.zeros(1, 1, SEQ, SEQ))


# --- wrappers, save and reload ----------------------------------------------------------------


def test_unmasking_survives_peft_wrapping_and_is_saved_in_the_config(tmp_path):
    from peft import LoraConfig, TaskType, get_peft_model

    from lookright.modeling.heads import ensure_token_classification_class

    model = tiny_token_classifier("qwen3")
    unmask(model, "0101")
    model.save_pretrained(tmp_path)
    cls = ensure_token_classification_class(model.config)
    reloaded = cls.from_pretrained(tmp_path)
    assert reloaded.config.lookright_unmask["layers"] == [1, 3]
    assert check_attention(reloaded).sees_right == ()  # plain transformers load: nothing applied yet
    apply_saved_unmasking(reloaded)
    assert check_attention(reloaded).sees_right == (1, 3)

    peft_model = get_peft_model(
        model, LoraConfig(task_type=TaskType.TOKEN_CLS, r=2, target_modules=["q_proj", "v_proj"], modules_to_save=["score"])
    )
    assert verify_unmasking(peft_model).sees_right == (1, 3)
    assert current_unmasking(peft_model).groups == "0101"
    ids = _ids(batch=1)
    reloaded.eval()
    peft_model.eval()
    with torch.no_grad():  # LoRA B starts at zero: the wrapped model computes what the reloaded one does
        torch.testing.assert_close(peft_model(input_ids=ids).logits, reloaded(input_ids=ids).logits)


def test_unmasking_is_reapplied_not_stacked():
    model = tiny_token_classifier("mistral")
    unmask(model, "1111")
    unmask(model, "0001")
    assert check_attention(model).sees_right == (3,)
    assert sum(len(layer._forward_pre_hooks) for layer in find_decoder(model).layers) == 1
