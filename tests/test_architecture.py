"""The package's shape: no labelling-method switch outside the methods."""

from __future__ import annotations

import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "lookright"


def test_no_labelling_method_is_switched_on_by_name_outside_the_methods():
    """What differs between methods lives in their `Method` classes (`lookright.methods`)."""
    # `cfg.method == "..."`, `spec.name == "..."`, or a comparison with a method's name ("causal" also
    # names the LM-head task, `Method.task`)
    switch = re.compile(r"""\b(method|name)\s*(==|!=)\s*["']|(==|!=)\s*["'](unmask|repeat|generative|encoder)["']""")
    offenders = [
        f"{path.relative_to(PACKAGE.parent)}:{number}: {line.strip()}"
        for path in sorted(PACKAGE.rglob("*.py")) if "methods" not in path.relative_to(PACKAGE).parts
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if switch.search(line)
    ]
    assert offenders == []
