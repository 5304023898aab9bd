"""Printing what a user will copy: commands and paths, on one line, exactly as written.

rich wraps at the console width (80 columns when output is not a terminal, so in CI logs and
captured output) and reads `[...]` as markup, which breaks a command or a path in two or eats
part of it. Lines printed here are never wrapped, styled or highlighted.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence

from rich.console import Console
from rich.text import Text


def print_plain(console: Console, text: str, *, label: str = "", label_style: str = "") -> None:
    """`text` on the console as is: no wrapping at the console width, no markup, no highlighting.

    `label` is printed before it in `label_style` (e.g. a bold red `error: `); only the label is styled.
    """
    line = Text.assemble((label, label_style), text)
    console.print(line, soft_wrap=True, highlight=False)


def command_line(command: Sequence[str]) -> str:
    """A command as a shell line that pastes back to the same arguments (quoted where needed)."""
    return shlex.join(command)


def print_command(console: Console, command: Sequence[str]) -> None:
    """`$ command`, one line, copy-pasteable."""
    print_plain(console, "$ " + command_line(command))
