"""Which reader a `.json`/`.jsonl`/`.spacy` file needs, from its extension and its first record.

`.spacy` is a spaCy DocBin. A JSON file holding a list is a Label Studio export. In JSON lines,
the first record's keys decide: token objects, `token_start` on spans or Prodigy's `_task_hash`/
`answer` -> Prodigy; `label`/`labels`/`entities` next to `text` -> doccano; anything else
(`{"tokens", "tags"}`, `{"text", "spans"}`) -> lookright's own JSONL reader.
"""

from __future__ import annotations

import os
from pathlib import Path

from ...errors import DataError
from . import doccano, label_studio, prodigy
from .records import first_record

TOOL_FORMATS = ("label-studio", "doccano", "prodigy", "spacy")


def detect_format(path: str | os.PathLike) -> str:
    """`label-studio`, `doccano`, `prodigy`, `spacy` or `jsonl` for a file `auto` hands over."""
    if Path(path).suffix.lower() == ".spacy":
        return "spacy"
    start = first_record(path)
    if start is None:
        return "jsonl"  # unreadable start: the JSONL reader names the line and the problem
    kind, record = start
    if kind == "array":
        if record is None or label_studio.is_task(record):  # unparsable: its reader says where
            return "label-studio"
        keys = ", ".join(sorted(record)) if isinstance(record, dict) else type(record).__name__
        raise DataError(f"a JSON list whose first record ({keys}) is not a Label Studio task; lookright reads "
                        "JSON lists as Label Studio exports (use --format to name another format)", path)
    if prodigy.is_record(record):
        return "prodigy"
    if doccano.is_record(record):
        return "doccano"
    return "jsonl"
