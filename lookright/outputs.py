"""Check that an output path can be written before the slow work whose result would go there.

Loading a model takes 20-30 s and training hours; finding out afterwards that `--output` sits under a
file, in a read-only place or on a directory of that name loses all of it to a traceback. These
checks create nothing the user would have to clean up and never touch an existing file's contents.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import LookrightError


def _nearest_existing(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path(".")


def _require_creatable(target: Path, directory: Path, flag: str) -> None:
    """`directory` exists and takes new files, or can be created (its nearest existing ancestor takes them)."""
    existing = _nearest_existing(directory)
    if not existing.is_dir():
        raise LookrightError(f"{target}: cannot write {flag} there: {existing} is a file, not a directory")
    try:  # the real test (permissions, read-only mounts, root): a file made and removed at once
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as exc:
        raise LookrightError(f"{target}: cannot write {flag} there: {existing} is not writable ({exc.strerror})") from None


def require_writable_file(path: str | os.PathLike, flag: str = "--output") -> Path:
    """`path` can be opened for writing (its missing parent folders will be created)."""
    path = Path(path)
    if path.is_dir():
        raise LookrightError(f"{path}: {flag} is a directory; give a file name")
    if path.exists():
        try:  # append mode opens for writing without changing a byte of what is there
            with path.open("ab"):
                pass
        except OSError as exc:
            raise LookrightError(f"{path}: cannot write {flag} ({exc.strerror})") from None
        return path
    _require_creatable(path, path.parent, flag)
    return path


def require_writable_dir(path: str | os.PathLike, flag: str = "--output") -> Path:
    """`path` is, or can be created as, a directory that takes new files."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise LookrightError(f"{path}: {flag} must be a directory, and this is a file")
    _require_creatable(path, path, flag)
    return path
