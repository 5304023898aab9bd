"""Check a model directory's files before handing them to transformers, peft or safetensors.

Those libraries report a truncated `*.safetensors`, a half-written `config.json` or a damaged
tokenizer with a long traceback, or a JSON error that does not say which file it was about. A model
directory is copied, synced and restored by hand, so a damaged file is a normal event: it gets one
`ModelError` line that names the file, says what is wrong with it and what to do.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import ModelError

RESTORE = "retrain or restore it"
WEIGHTS_FILE = "model.safetensors"
WEIGHTS_INDEX = "model.safetensors.index.json"  # sharded weights: the index names the shards
TOKENIZER_FILE = "tokenizer.json"  # every fast tokenizer saves it; lookright requires a fast tokenizer
TOKENIZER_JSON = ("tokenizer_config.json", "special_tokens_map.json", "added_tokens.json", "vocab.json")


def read_json_file(path: str | os.PathLike, hint: str = RESTORE) -> dict[str, Any]:
    """The JSON object in `path`; missing, empty, non-UTF-8, invalid JSON or not an object is a ModelError."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{path}: missing; {hint}")
    data = path.read_bytes()
    if not data.strip():
        raise ModelError(f"{path}: empty file; {hint}")
    try:
        value = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ModelError(f"{path}: not a UTF-8 JSON file (byte 0x{data[exc.start]:02x} at offset {exc.start}); {hint}") from None
    except json.JSONDecodeError as exc:
        raise ModelError(
            f"{path}: truncated or corrupt JSON ({exc.msg}: line {exc.lineno}, column {exc.colno}); {hint}"
        ) from None
    if not isinstance(value, dict):
        raise ModelError(f"{path}: expected a JSON object, found a JSON {type(value).__name__}; {hint}")
    return value


def check_safetensors(path: str | os.PathLike, hint: str = RESTORE) -> None:
    """Open `path`'s header: safetensors checks that the header parses and the file covers every tensor
    it declares, which catches empty, truncated and garbled-header files without reading the weights."""
    from safetensors import SafetensorError, safe_open

    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{path}: missing; {hint}")
    try:
        with safe_open(str(path), framework="pt") as handle:
            handle.keys()
    except (SafetensorError, OSError) as exc:
        raise ModelError(f"{path}: truncated or corrupt safetensors file ({exc}); {hint}") from None


def check_weights(directory: str | os.PathLike, hint: str = RESTORE) -> None:
    """The full weights of an HF directory (one `model.safetensors` or the shards its index names)."""
    directory = Path(directory)
    index = directory / WEIGHTS_INDEX
    if index.is_file():
        weight_map = read_json_file(index, hint).get("weight_map")
        if not isinstance(weight_map, dict) or not weight_map:
            raise ModelError(f"{index}: no weight_map naming the shards; {hint}")
        for shard in sorted(set(weight_map.values())):
            check_safetensors(directory / str(shard), hint)
    elif (directory / WEIGHTS_FILE).is_file() or not any(directory.glob("*.bin")):
        check_safetensors(directory / WEIGHTS_FILE, hint)


def check_tokenizer_files(directory: str | os.PathLike, hint: str = RESTORE) -> None:
    """`tokenizer.json` must be there (lookright needs a fast tokenizer); its companions, when present, must parse."""
    directory = Path(directory)
    read_json_file(directory / TOKENIZER_FILE, hint)
    for name in TOKENIZER_JSON:
        if (directory / name).exists():
            read_json_file(directory / name, hint)


def check_hf_directory(directory: str | os.PathLike, hint: str = RESTORE) -> None:
    """A plain HF model directory about to be loaded: its config, weights and (fast) tokenizer."""
    read_json_file(Path(directory) / "config.json", hint)
    check_weights(directory, hint)


LOAD_ERRORS: tuple[type[BaseException], ...] = (OSError, RuntimeError)  # + SafetensorError, added below


@contextlib.contextmanager
def loading(
    path: str | os.PathLike, what: str, hint: str = RESTORE, errors: tuple[type[BaseException], ...] = LOAD_ERRORS
) -> Iterator[None]:
    """Turn a library's failure to read `path` into one line naming it. The checks above run first; this
    is for damage they cannot see (a valid header whose tensors do not fit the config, a tokenizer.json
    that parses but is not a tokenizer). Out-of-memory and lookright's own errors pass through."""
    import torch
    from safetensors import SafetensorError

    try:
        yield
    except (ModelError, torch.OutOfMemoryError):
        raise
    except (*errors, SafetensorError) as exc:
        text = str(exc).strip()
        detail = text.splitlines()[0] if text else type(exc).__name__
        raise ModelError(f"{path}: cannot load the {what} ({type(exc).__name__}: {detail}); {hint}") from exc
