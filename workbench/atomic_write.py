"""Writing a file so that readers see the old one or the new one, never half of one."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from engine.disk_space import LOW_SPACE_MB, disk_full_error, is_disk_full, require_free


def write_atomically(path: Path, write: Callable[[Path], object]) -> None:
    """``write(tmp)`` fills a temporary file beside ``path``, which then replaces ``path``;
    on any failure the temporary file is removed and ``path`` is left as it was. A disk
    nearly full before the write, or full during it, raises DiskFullError."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    require_free(path.parent, LOW_SPACE_MB)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, Exception) and is_disk_full(exc, path.parent):
            raise disk_full_error(path.parent) from exc
        raise
