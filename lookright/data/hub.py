"""Hugging Face datasets as a data source: `hf:<dataset>:<split>` wherever a file is accepted.

Users online name a hub dataset (`hf:eriktks/conll2003:train`, label field via `--label-column
ner_tags`); offline they can point at a dataset saved with `save_to_disk` (`hf:/path/to/dir:train`).
Integer class labels are mapped to their names, so the rest of the pipeline sees plain tag strings.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from ..errors import DataError
from .sentence import Sentence

PREFIX = "hf:"


def is_hub_spec(path: str | os.PathLike) -> bool:
    return str(path).startswith(PREFIX)


def parse_spec(spec: str) -> tuple[str, str]:
    """`hf:name:split` -> (name, split); the split defaults to train."""
    body = spec[len(PREFIX) :]
    name, _, split = body.rpartition(":") if ":" in body else (body, "", "train")
    if not name:
        raise DataError(f"expected hf:<dataset>:<split>, got {spec!r}")
    return name, split or "train"


def _load(name: str, split: str):
    try:
        import datasets
    except ImportError as err:
        raise DataError("hf: data needs the datasets package: pip install 'lookright[datasets]'") from err
    if os.path.isdir(name):
        loaded = datasets.load_from_disk(name)
        if isinstance(loaded, datasets.DatasetDict):
            if split not in loaded:
                raise DataError(f"split {split!r} not in {sorted(loaded)}", name)
            loaded = loaded[split]
        return loaded
    try:
        return datasets.load_dataset(name, split=split)
    except Exception as err:  # offline, unknown name or split: say which and why
        raise DataError(f"cannot load hub dataset {name!r} split {split!r}: {err}") from err


def iter_hub(
    spec: str, label_column: int | str | None = "ner_tags", tokens_field: str = "tokens"
) -> Iterator[Sentence]:
    """Sentences of a hub (or saved) dataset with a tokens field and a tag-sequence field."""
    name, split = parse_spec(spec)
    dataset = _load(name, split)
    if tokens_field not in dataset.column_names:
        raise DataError(f"no {tokens_field!r} field; fields are {dataset.column_names}", spec)
    label_field = None
    names = None
    if label_column is not None:
        if isinstance(label_column, int) or str(label_column).lstrip("-").isdigit():
            raise DataError(f"name the tag field with --label-column, one of {dataset.column_names}", spec)
        label_field = str(label_column)
        if label_field not in dataset.column_names:
            raise DataError(f"no {label_field!r} field; fields are {dataset.column_names}", spec)
        feature = dataset.features[label_field]
        inner = getattr(feature, "feature", None)
        names = getattr(inner, "names", None)
    for row_number, row in enumerate(dataset, start=1):
        tokens = [str(t) for t in row[tokens_field]]
        tags = None
        if label_field is not None:
            raw = row[label_field]
            tags = _named(raw, names, spec, row_number, label_field) if names is not None else [str(t) for t in raw]
            if len(tags) != len(tokens):
                raise DataError(f"row {row_number}: {len(tokens)} tokens but {len(tags)} tags", spec, row_number)
        yield Sentence(tokens=tokens, tags=tags, source=spec, line=row_number)


def _named(ids: list[int], names: list[str], spec: str, row_number: int, field: str) -> list[str]:
    """Tag names of ClassLabel ids; -1 (datasets' missing label) would otherwise read as the last name."""
    for k, t in enumerate(ids):
        if not 0 <= t < len(names):
            raise DataError(f"row {row_number}: {field}[{k}] is {t}, not one of the {len(names)} label ids "
                            "(-1 marks a missing label in datasets); fix or drop the row", spec, row_number)
    return [names[t] for t in ids]
