"""Export a trained directory as plain transformers weights, LoRA merged in.

Serving stacks (TGI-style servers, ONNX exporters, other teams' scripts) want one ordinary
`*ForTokenClassification` directory, not base model + adapter. The merged directory still carries
the unmasking in `config.json` (`lookright_unmask`): `Tagger.load` re-applies it, and plain
transformers users call `lookright.apply_saved_unmasking(model)` after `from_pretrained`.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import replace
from pathlib import Path

from peft import PeftModel

from ..errors import ModelError
from ..outputs import require_writable_dir
from .artifact import ModelCard, load_model_dir, save_model_dir, scoring_precision
from .loading import Precision


def check_export_target(directory: str | os.PathLike, output: str | os.PathLike) -> tuple[Path, Path]:
    """(source, output), resolved; refused before any model loads unless output is new, empty and writable."""
    source, output = Path(directory).resolve(), Path(output).resolve()
    if output == source:
        raise ModelError(f"{output}: export to a new directory, not over the trained one")
    if output.exists() and any(output.iterdir()):
        raise ModelError(f"{output} exists and is not empty")
    require_writable_dir(output)
    return source, output


def export_merged(
    directory: str | os.PathLike, output: str | os.PathLike, precision: Precision | None = None
) -> Path:
    """Write `directory`'s model with LoRA folded into the weights to `output` (a full-weights lookright dir).

    The weights are merged and written in `precision` (default: what `Tagger.load` scores the model in
    here, so the export predicts exactly as its source does).
    """
    source, output = check_export_target(directory, output)
    if precision is None:
        precision = scoring_precision(ModelCard.read(source))
    model, tokenizer, card = load_model_dir(source, precision=precision, merge=True)
    if isinstance(model, PeftModel):
        raise ModelError(f"{source}: LoRA over a 4-bit base cannot be merged; export on a machine without 4-bit")
    record = dict(card.training, exported_from=str(source), merged_from=card.finetune)
    exported = replace(card, finetune="full", training=record)
    path = save_model_dir(model, tokenizer, exported, output)
    for extra in card.labelling_method(source).extra_files:  # e.g. a generative model's demonstration pool
        if (source / extra).is_file():
            shutil.copyfile(source / extra, path / extra)
    return path
