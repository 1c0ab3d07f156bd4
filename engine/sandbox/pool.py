"""Run many sandbox calls at once from threads (each call has its own child process;
``process.run`` lets at most ``os.cpu_count()`` children run at once in this process)."""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any


def run_many(
    fn: Callable[..., Any], arg_tuples: list[tuple], max_workers: int | None = None
) -> list:
    """``[fn(*args) for args in arg_tuples]``, run in up to ``max_workers`` threads
    (default ``os.cpu_count()``), results in input order. An exception raised by a
    call is re-raised here (after the calls already started have finished)."""
    arg_tuples = list(arg_tuples)
    if not arg_tuples:
        return []
    workers = max(1, min(len(arg_tuples), max_workers or os.cpu_count() or 1))
    if workers == 1:
        return [fn(*args) for args in arg_tuples]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sandbox") as pool:
        futures = [pool.submit(fn, *args) for args in arg_tuples]
        return [f.result() for f in futures]
