"""The export's destination: refused when it exists (unless overwriting), is not
writable or lacks the room; written as a temporary sibling folder that is renamed into
place, so a failure, a full disk or a cancel leaves nothing under the name."""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from engine.export.formats import ExportError
from engine.fit import format_bytes

# Room kept free beyond the estimate: a filesystem near full is slow and fragile.
SPACE_MARGIN = 1.10


def _existing_parent(path: Path) -> Path:
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    return parent


def check_destination(out_dir: Path, overwrite: bool) -> None:
    """ExportError when ``out_dir`` cannot receive the export."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ExportError(f"{out_dir} is a file, not a folder.", "Choose a folder to export into.")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not overwrite:
        raise ExportError(
            f"{out_dir} already exists and is not empty.",
            "Choose a new folder, or overwrite it (--overwrite, or tick Overwrite).",
        )
    parent = _existing_parent(out_dir)
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ExportError(
            f"Cannot write in {parent}: permission denied.", "Choose a folder you can write to."
        )


def check_free_space(out_dir: Path, needed_bytes: int) -> None:
    parent = _existing_parent(Path(out_dir))
    free = shutil.disk_usage(parent).free
    if free < needed_bytes * SPACE_MARGIN:
        raise ExportError(
            f"The export needs about {format_bytes(needed_bytes)} but only "
            f"{format_bytes(free)} is free on the disk of {parent}.",
            "Free some space or choose a folder on another disk.",
        )


def disk_full_error(out_dir: Path, exc: OSError) -> ExportError:
    return ExportError(
        f"The disk filled up while writing the export to {out_dir} ({exc.strerror}); "
        "nothing was left behind.",
        "Free some space or choose a folder on another disk, then export again.",
    )


@contextmanager
def staged_folder(out_dir: Path, overwrite: bool) -> Iterator[Path]:
    """Yield an empty temporary folder beside ``out_dir``; when the block succeeds it
    becomes ``out_dir`` (an old one is replaced only then). On any failure or cancel the
    temporary folder is removed and ``out_dir`` is as it was."""
    out_dir = Path(out_dir).absolute()
    check_destination(out_dir, overwrite)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{out_dir.name}-", dir=out_dir.parent))
    try:
        yield tmp
        check_destination(out_dir, overwrite)  # something may have appeared meanwhile
        old = None
        if out_dir.exists():
            old = Path(tempfile.mkdtemp(prefix=f".old-{out_dir.name}-", dir=out_dir.parent))
            os.replace(out_dir, old / out_dir.name)
        os.replace(tmp, out_dir)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise disk_full_error(out_dir, exc) from exc
        raise
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
