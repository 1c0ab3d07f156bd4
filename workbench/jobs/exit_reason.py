"""Why a worker process ended, from what is known for sure: the signal or exit code its
parent saw, an out-of-memory error or a Python traceback in its log. Nothing is guessed: with
no evidence the answer is that the worker stopped unexpectedly."""

from __future__ import annotations

import re
import signal
from pathlib import Path

UNEXPECTED = "the worker stopped unexpectedly"
LOG_TAIL_BYTES = 64 * 1024
_OOM = re.compile(
    r"out of memory|OutOfMemoryError|MemoryError|Cannot allocate memory", re.IGNORECASE
)
_TRACEBACK = "Traceback (most recent call last):"


def signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def read_log_tail(path: str | Path | None, limit: int = LOG_TAIL_BYTES) -> str:
    if not path:
        return ""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, 2)
            size = handle.tell()
            handle.seek(max(0, size - limit))
            return handle.read().decode("utf-8", "replace")
    except OSError:
        return ""


def explain_exit(returncode: int | None, log_text: str = "") -> str:
    """`returncode` as subprocess reports it (negative: the signal that ended it), or None
    when only the log is known (a worker another window or a terminal started)."""
    parts = []
    if returncode is not None and returncode < 0:
        parts.append(f"killed by {signal_name(-returncode)}")
    elif returncode:
        parts.append(f"exit code {returncode}")
    error = last_error(log_text)
    if error and _OOM.search(error):
        parts.append(f"out of memory (its log: {error})")
    elif error:
        parts.append(f"a Python error (its log: {error})")
    else:
        oom = [line.strip() for line in log_text.splitlines() if _OOM.search(line)]
        if oom:
            parts.append(f"out of memory (its log: {oom[-1][:200]})")
    return "; ".join(parts) if parts else UNEXPECTED


def last_error(log_text: str) -> str | None:
    """The exception line of the last traceback in the log, if any."""
    at = log_text.rfind(_TRACEBACK)
    if at < 0:
        return None
    lines = [line for line in log_text[at:].splitlines()[1:] if line.strip()]
    # The exception line is the first after the traceback's indented frames.
    for line in lines:
        if not line.startswith((" ", "\t")):
            return line.strip()[:300]
    return None
