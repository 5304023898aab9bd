from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

if os.environ.get("PYTEST_XDIST_WORKER"):
    # `make test` runs one worker per core (pytest-xdist); each worker and the processes it starts
    # then compute on one thread, instead of every worker contending for all the cores.
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("MKL_NUM_THREADS", "1")

REPO = Path(__file__).resolve().parents[1]
# Real data is never committed (licences): tests read it from ../shared/data or $LOOKRIGHT_DATA.
DATA = Path(os.environ.get("LOOKRIGHT_DATA", REPO.parent / "shared" / "data"))


def _dataset(name: str) -> Path:
    path = DATA / name
    if not path.is_dir():
        pytest.fail(f"{path} is missing: set LOOKRIGHT_DATA to the folder holding conll2003/ and conll2000/")
    return path


@pytest.fixture(scope="session")
def conll2003() -> Path:
    return _dataset("conll2003")


@pytest.fixture(scope="session")
def conll2000() -> Path:
    return _dataset("conll2000")


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A tiny random Llama with the default model's real tokenizer: fast mechanics tests, no claims."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from lookright.modeling.loading import load_tokenizer
    from lookright.modeling.resolve import resolve_model

    tokenizer = load_tokenizer(resolve_model(None))
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=4,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=2048,
        pad_token_id=tokenizer.pad_token_id, tie_word_embeddings=True,
    )
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("tiny-llama")
    LlamaForCausalLM(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def tiny_train_config(tiny_model_dir, conll2003):
    """Settings of the session's tiny training run: a factory (output dir, overrides) -> TrainConfig."""
    from lookright.training import TrainConfig

    def make(output, **overrides) -> TrainConfig:
        settings = dict(
            train=str(conll2003 / "train.txt"), validation=str(conll2003 / "validation.txt"),
            output=str(output), model=str(tiny_model_dir), label_column=3, max_train_sentences=64,
            max_validation_sentences=24, max_steps=6, eval_every=3, batch_size=8, learning_rate=5e-3,
            method="unmask", unmask="0011",
        )
        settings.update(overrides)
        return TrainConfig(**settings)

    return make


@pytest.fixture(scope="session")
def trained_run(tiny_train_config, tmp_path_factory):
    """A lookright model directory (LoRA, unmask 0011) trained for a few steps on real CoNLL-2003 NER.

    Mechanics only: the tiny random model learns almost nothing, so tests compare behaviours, not F1.
    """
    from lookright.training import train

    return train(tiny_train_config(tmp_path_factory.mktemp("trained-tiny")))


@pytest.fixture(scope="session")
def trained_dir(trained_run) -> Path:
    return trained_run.output
