"""A small disk for the disk-full tests: a tmpfs of a few MiB mounted on a folder (Linux,
as root), filled on demand. Without root the tests that need one are skipped, saying so."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest


def skip_reason() -> str | None:
    if not sys.platform.startswith("linux"):
        return "a small tmpfs disk needs Linux"
    if os.geteuid() != 0:
        return "mounting a small tmpfs disk needs root (run the reliability suite as root)"
    return None


@contextlib.contextmanager
def small_disk(folder: Path, size_mb: int) -> Iterator[Path]:
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    folder.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill(disk: Path, leave_kb: int = 0) -> Path:
    """Take the disk's free space, all of it or all but about ``leave_kb`` KiB."""
    filler = disk / "filler"
    with open(filler, "ab") as handle:
        free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
        want = max(0, free - leave_kb * 1024)
        try:
            while want > 0:
                piece = min(want, 1 << 20)
                handle.write(b"\0" * piece)
                handle.flush()
                want -= piece
        except OSError:
            pass  # full already
    return filler
