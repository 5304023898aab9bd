"""Check that an output path can be written before the slow work whose result would go there.

Loading a model takes 20-30 s and training hours; finding out afterwards that `--output` sits under a
file, in a read-only place or on a directory of that name loses all of it to a traceback. These
checks create nothing the user would have to clean up and never touch an existing file's contents.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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


def write_text_atomic(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> Path:
    """Replace `path` with `text` whole or not at all.

    A model card, run record or report is rewritten over a good one (the card again after scoring):
    written in place, a full disk or a kill mid-write would leave half a JSON file and an unloadable
    model. The text goes to a temporary file beside it, which then replaces it in one rename.
    """
    path = Path(path)
    try:
        mode = path.stat().st_mode & 0o777
    except OSError:
        mode = 0o666 & ~_umask()  # as open() would create it, not mkstemp's 0o600
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding=encoding) as file:
            file.write(text)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def _umask() -> int:
    """The process's umask, read without setting it (os.umask can only swap, racing other threads)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
_DISK_FULL_WORDS = ("no space left on device", "disk quota exceeded")
NEARLY_FULL_BYTES = 64 * 2**20


def free_bytes(path: str | os.PathLike) -> int:
    """Free space on the file system that holds `path` (or would, once created)."""
    return shutil.disk_usage(_nearest_existing(Path(path))).free


def is_disk_full(error: BaseException, path: str | os.PathLike) -> bool:
    """Whether `error` is a write that failed for lack of space under `path`.

    The errno alone misses most of them: safetensors raises its own error type with the OS message in
    its text, and torch.save a bare RuntimeError ("unexpected pos ...") that only the free space left
    on the disk explains.
    """
    seen: BaseException | None = error
    visited: set[int] = set()
    while seen is not None and id(seen) not in visited:  # the error and what it was raised from
        visited.add(id(seen))
        if isinstance(seen, OSError) and seen.errno in DISK_FULL_ERRNOS:
            return True
        if any(words in str(seen).lower() for words in _DISK_FULL_WORDS):
            return True
        seen = seen.__cause__ or seen.__context__
    try:
        return isinstance(error, RuntimeError) and free_bytes(path) < NEARLY_FULL_BYTES
    except OSError:
        return False


@contextmanager
def disk_full_explained(path: str | os.PathLike, kept: Callable[[], str]) -> Iterator[None]:
    """Turn a write that ran out of space under `path` into one error that says so and what was kept.

    A full disk otherwise surfaces as whatever the writing library raises (see `is_disk_full`), deep in
    a traceback, and the user cannot tell whether hours of training are lost.
    """
    try:
        yield
    except Exception as error:
        if not is_disk_full(error, path):
            raise
        where = getattr(error, "filename", None) or path
        try:
            free = f"{free_bytes(path) / 2**20:,.0f} MiB free there now"
        except OSError:
            free = "free space unknown"
        raise LookrightError(
            f"{where}: the disk is full ({free}; {type(error).__name__}: {error}). {kept()}"
        ) from error
