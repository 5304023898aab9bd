"""Tiny randomly initialised decoders of real architectures, for testing mechanics only.

They exercise the exact transformers modelling code of each architecture (mask creation, attention
backends, sliding windows) in milliseconds. They are never used for claims about accuracy.
"""

from __future__ import annotations

import torch
import transformers

COMMON = dict(vocab_size=320, hidden_size=32, intermediate_size=64, num_attention_heads=4, max_position_embeddings=128)

ARCHITECTURES = {
    "llama": (transformers.LlamaConfig, dict(num_key_value_heads=2)),
    "mistral": (transformers.MistralConfig, dict(num_key_value_heads=2, sliding_window=64)),
    "qwen2": (transformers.Qwen2Config, dict(num_key_value_heads=2)),
    "qwen3": (transformers.Qwen3Config, dict(num_key_value_heads=2, head_dim=8)),
    "gemma": (transformers.GemmaConfig, dict(num_key_value_heads=2, head_dim=8)),
    "gemma2": (transformers.Gemma2Config, dict(num_key_value_heads=2, head_dim=8, sliding_window=4)),
    "gemma3_text": (transformers.Gemma3TextConfig, dict(num_key_value_heads=2, head_dim=8, sliding_window=4)),
    "phi3": (transformers.Phi3Config, dict(num_key_value_heads=2, pad_token_id=0)),
    "gpt_neox": (transformers.GPTNeoXConfig, dict(rotary_pct=0.5)),
}


def tiny_config(arch: str, num_layers: int = 4, num_labels: int = 3, attn: str = "sdpa"):
    cls, extra = ARCHITECTURES[arch]
    config = cls(**COMMON, **extra, num_hidden_layers=num_layers, num_labels=num_labels)
    config._attn_implementation = attn
    return config


def supports_sdpa(arch: str) -> bool:
    from lookright.modeling.heads import ensure_token_classification_class

    return bool(ensure_token_classification_class(tiny_config(arch))._supports_sdpa)


def tiny_token_classifier(arch: str, num_layers: int = 4, attn: str = "sdpa", seed: int = 0):
    from lookright.modeling.heads import ensure_token_classification_class

    config = tiny_config(arch, num_layers=num_layers, attn=attn)
    torch.manual_seed(seed)
    cls = ensure_token_classification_class(config)
    model = cls(config)
    model.eval()
    return model
