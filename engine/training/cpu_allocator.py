"""Give the memory of freed tensors back to the operating system during CPU training.

torch's CPU tensors come from the C library's malloc. glibc serves an allocation above its
mmap threshold with its own mapping, returned at once when freed, but it raises that
threshold to the size of every such block freed (up to 32 MiB), so after the first
activations of a step are freed, the next ones of a few MiB come from its heap, where
they stay allocated to the process after they are freed. Measured on a 0.5 B model
(tests/benchmarks/bench_memory.py, sequence 512, batch 2): 1.8 GiB of freed blocks kept
at a step's peak beside 0.5 GiB of live tensors. A fixed threshold keeps every large
block in its own mapping; smaller ones stay on the heap, which is trimmed above
``TRIM_BYTES``. A user who chose an allocator (jemalloc or tcmalloc preloaded) or glibc's
malloc tunables keeps that choice.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

# mallopt's parameter numbers (glibc's malloc.h).
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
# Blocks from 256 KiB up (a 2 x 512-token activation of a 0.5 B model is 1-40 MiB) get
# their own mapping; the page faults that costs are measured in bench_memory's s/step.
MMAP_BYTES = 256 * 1024
TRIM_BYTES = 16 * 1024 * 1024
# After the run: where glibc's own adjustment ends for large blocks (its 64-bit maximum
# mmap threshold, trim at twice it), so the worker's later jobs (a small model's run, made
# 1.7x slower by the fixed thresholds) allocate from the heap again.
AFTER_MMAP_BYTES = 32 * 1024 * 1024
AFTER_TRIM_BYTES = 2 * AFTER_MMAP_BYTES
_USER_CHOICE_ENVS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_ARENA_MAX")
_applied = False


def _user_chose_allocator(environ: os._Environ[str] | dict[str, str]) -> bool:
    preload = environ.get("LD_PRELOAD", "")
    tunables = environ.get("GLIBC_TUNABLES", "")
    return (
        "jemalloc" in preload
        or "tcmalloc" in preload
        or "glibc.malloc" in tunables
        or any(name in environ for name in _USER_CHOICE_ENVS)
    )


def _mallopt():
    """glibc's mallopt, or None (another platform, a user's allocator, musl)."""
    if not sys.platform.startswith("linux") or _user_chose_allocator(os.environ):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl or another C library: nothing to tune
        return None
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return mallopt


def return_freed_memory_to_os() -> bool:
    """Set glibc's mmap and trim thresholds for this process; True when set (Linux with
    glibc and no allocator chosen by the user), False otherwise."""
    global _applied
    if _applied:
        return True
    mallopt = _mallopt()
    if mallopt is None:
        return False
    _applied = bool(mallopt(M_MMAP_THRESHOLD, MMAP_BYTES)) and bool(
        mallopt(M_TRIM_THRESHOLD, TRIM_BYTES)
    )
    return _applied


def keep_freed_memory_again() -> None:
    """Undo return_freed_memory_to_os for the jobs that follow in this process."""
    global _applied
    mallopt = _mallopt() if _applied else None
    if mallopt is not None:
        mallopt(M_MMAP_THRESHOLD, AFTER_MMAP_BYTES)
        mallopt(M_TRIM_THRESHOLD, AFTER_TRIM_BYTES)
    _applied = False


@contextmanager
def freed_memory_returned() -> Iterator[None]:
    """The thresholds for the length of one run."""
    return_freed_memory_to_os()
    try:
        yield
    finally:
        keep_freed_memory_again()
