"""`lookright export --quantize int8`: a merged model that scores in int8, only if it labels like fp32.

The directory holds the merged fp32 weights, the int8 smoothing scales and, in its card, how it was
quantized and its measured parity with fp32 on validation data; `Tagger.load` re-quantizes it
identically. The export refuses when strict F1 drops by more than `max_f1_drop` points.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..errors import ModelError
from ..modeling.artifact import ModelCard
from ..modeling.export import check_export_target, export_merged
from ..modeling.int8 import save_scales
from ..modeling.loading import Precision
from ..outputs import write_text_atomic
from .gold import read_gold
from .parity import MAX_F1_DROP, ParityReport, compare_taggers
from .token_tagger import TokenTagger

PARITY_FILE = "int8_parity.json"


def parity_data(directory: str | os.PathLike, data: str | os.PathLike | None) -> str:
    """The labelled file the gate scores: `data`, else the validation file the model was trained with."""
    if data is not None:
        return str(data)
    recorded = ModelCard.read(directory).training.get("config", {}).get("validation")
    if recorded and Path(recorded).is_file():
        return str(recorded)
    raise ModelError(
        f"{directory}: an int8 export is checked against fp32 on labelled data, and the model's validation file "
        f"({recorded or 'none recorded'}) is not there: pass --data FILE"
    )


def export_int8(
    directory: str | os.PathLike,
    output: str | os.PathLike,
    *,
    data: str | os.PathLike | None = None,
    max_f1_drop: float = MAX_F1_DROP,
    allow_f1_drop: bool = False,
    label_column: int | str | None = None,
) -> tuple[Path, ParityReport]:
    """Quantize, measure parity with fp32 on `data`, and write the int8 model directory (or refuse)."""
    check_export_target(directory, output)  # before the two model loads and the parity run
    source = parity_data(directory, data)
    gold = read_gold(source, directory, label_column=label_column)  # a bad file fails before any model loads
    reference = TokenTagger.load(directory, precision="fp32", quantize="none")  # int8 is for token classifiers
    candidate = TokenTagger.load(directory, precision="fp32", quantize="none")
    scales = candidate.quantize_int8()
    parity, _ = compare_taggers(reference, candidate, gold.sentences, gold.tags, names=("fp32", "int8"))
    if parity.f1_drop_points > max_f1_drop and not allow_f1_drop:
        raise ModelError(
            f"int8 loses {parity.f1_drop_points:.2f} strict F1 points against fp32 on {source} "
            f"({100 * parity.candidate_strict_f1:.2f} vs {100 * parity.reference_strict_f1:.2f}; the limit is "
            f"{max_f1_drop}); nothing was written. Score in bf16 or fp32 instead, or pass --allow-f1-drop"
        )
    path = export_merged(directory, output, Precision.choose("fp32", "none"))  # the weights int8 was built from
    save_scales(scales, path)
    card = ModelCard.read(path)
    card.quantization = {**candidate.int8.to_dict(), "parity": {**parity.to_dict(), "data": source}}
    card.write(path)
    write_text_atomic(path / PARITY_FILE, json.dumps({**parity.to_dict(), "data": source}, indent=2) + "\n")
    return path, parity
