"""`lookright check-unmask`: which blocks really see right context under a configuration (measured)."""

from __future__ import annotations

from typing import Annotated

import typer

from . import common
from .common import Opt, app


@app.command("check-unmask")
def check_unmask(
    model: Annotated[str | None, Opt("--model", help="HF model dir or .gguf; default: bundled SmolLM2-135M.")] = None,
    unmask: Annotated[str, Opt("--unmask", help="Group string or layers:i,j.")] = "0011",  # DEFAULT_UNMASK (not imported: torch)
    attn_implementation: Annotated[str, Opt("--attn", help="auto, sdpa, eager, flash_attention_2 ...")] = "auto",
) -> None:
    """Apply an unmasking config and print, per block, whether it sees right context (measured)."""
    from ..modeling.loading import load_base
    from ..unmasking import check_attention
    from ..unmasking import unmask as apply

    loaded, _ = load_base(model, ["O"], attn_implementation=attn_implementation)
    apply(loaded, unmask, verify=False)
    measured = check_attention(loaded)
    for i in range(measured.num_layers):
        seen = "bidirectional" if i in measured.sees_right else "causal"
        want = "bidirectional" if i in measured.expected else "causal"
        mark = "[green]ok[/]" if seen == want else "[red]MISMATCH[/]"
        common.out.print(f"block {i:3d}: {seen:13s} {mark}")
    common.out.print(f"padding leaks: {list(measured.padding_leaks) or 'none'}")
    if not measured.ok:
        raise typer.Exit(1)

