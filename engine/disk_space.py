"""Free disk space: checked before large writes, and a full disk named as such.

A full disk shows up as many different errors (OSError ENOSPC, SQLite's "database or
disk is full" or "disk I/O error", torch's "[enforce fail at inline_container.cc...]
file write failed"); each becomes one ``DiskFullError`` that says how much space is
left where and what to do. Standard library only: the GUI and the CLI import it.
"""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

from engine.errors import EngineError

# Below this much free space a write of a database row or a small file is likely to
# fail, so an I/O error there is taken for a full disk.
LOW_SPACE_MB = 64
_FULL_ERRNOS = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
_FULL_TEXTS = (
    "database or disk is full",
    "no space left on device",
    "disk quota exceeded",
)
# Errors of writing that name no cause: taken for a full disk only when space is low.
_IO_TEXTS = ("disk i/o error", "iostream error", "unexpected pos", "write failed")


class DiskFullError(EngineError):
    """Too little free space to go on; the message names the place and what is left."""


def free_mb(path: str | Path) -> int:
    """Free megabytes (MiB) on the file system holding ``path`` (or its nearest parent)."""
    place = Path(path).absolute()
    while not place.exists() and place != place.parent:
        place = place.parent
    return shutil.disk_usage(place).free // (1024 * 1024)


def disk_full_error(path: str | Path) -> DiskFullError:
    """The one message of a full disk: how much is free where, and what to do."""
    return DiskFullError(f"only {free_mb(path)} MB free on {path}; free space and resume")


def require_free(path: str | Path, need_mb: float) -> None:
    """DiskFullError unless at least ``need_mb`` MiB are free where ``path`` is."""
    if free_mb(path) < need_mb:
        raise disk_full_error(path)


def _chain(exc: BaseException) -> list[BaseException]:
    found: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in found:
        found.append(current)
        current = current.__cause__ or current.__context__
    return found


def is_disk_full(exc: BaseException, path: str | Path | None = None) -> bool:
    """Whether ``exc`` (or an error it was raised from) means the disk is full. An I/O
    error that names no cause counts only when ``path``'s disk is nearly full."""
    for error in _chain(exc):
        if isinstance(error, DiskFullError):
            return True
        if isinstance(error, OSError) and error.errno in _FULL_ERRNOS:
            return True
        text = str(error).lower()
        if any(t in text for t in _FULL_TEXTS):
            return True
        if path is not None and _io_failure(error, text) and free_mb(path) < LOW_SPACE_MB:
            return True
    return False


def _io_failure(error: BaseException, text: str) -> bool:
    """An error of writing that names no cause: SQLite's "disk I/O error", EIO, or one of
    the ways torch's C++ writer reports a short write ("basic_ios::clear: iostream
    error", "unexpected pos 704 vs 598")."""
    if isinstance(error, OSError):
        return error.errno == errno.EIO
    return any(t in text for t in _IO_TEXTS)


def as_disk_full(exc: BaseException, path: str | Path) -> DiskFullError | None:
    """The DiskFullError to report instead of ``exc``, or None when the disk is not full."""
    for error in _chain(exc):
        if isinstance(error, DiskFullError):
            return error
    return disk_full_error(path) if is_disk_full(exc, path) else None
