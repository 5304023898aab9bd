"""`lookright export`: a plain transformers directory, LoRA merged in (optionally scoring in int8)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..console import print_plain
from . import common
from .common import ModelDir, Opt, app


@app.command()
def export(
    model: ModelDir,
    output: Annotated[Path, Opt("--output", help="New directory for the exported model.")],
    merge: Annotated[bool, Opt("--merge/--no-merge", help="Fold LoRA into the base weights (the only mode).")] = True,
    quantize: Annotated[
        str, Opt("--quantize", help="none, or int8: the model scores in int8 once reloaded, if it labels like fp32 on --data.")
    ] = "none",
    data: Annotated[
        str | None, Opt("--data", help="int8: labelled file of the parity check (default: the model's validation file).")
    ] = None,
    max_f1_drop: Annotated[float, Opt("--max-f1-drop", help="int8: most strict F1 points it may lose against fp32.")] = 0.3,
    allow_f1_drop: Annotated[bool, Opt("--allow-f1-drop", help="int8: export even when it loses more than --max-f1-drop.")] = False,
) -> None:
    """Write a plain transformers token-classification directory (LoRA merged, unmasking in its config)."""
    if not merge:
        raise typer.BadParameter("only --merge export exists; the trained directory already is the unmerged form")
    if quantize not in ("none", "int8"):
        raise typer.BadParameter("--quantize takes none or int8")
    if quantize == "int8":
        from ..inference.int8_export import export_int8

        path, parity = export_int8(model, output, data=data, max_f1_drop=max_f1_drop, allow_f1_drop=allow_f1_drop)
        parity.render(common.out)
    else:
        from ..modeling.export import export_merged

        path = export_merged(model, output)
    print_plain(common.out, f"exported to {path} (reload: Tagger.load, or from_pretrained + lookright.apply_saved_unmasking)")

