"""Run one job per item on a thread pool, at most ``concurrency`` at a time, in order of
submission, with the caller's progress and stop callbacks kept on the calling thread.

The callbacks stay on the calling thread because the worker's own callbacks touch its
database connection, which belongs to that thread. ``should_stop`` is a poll function,
so while items are in flight it is polled every ``POLL_S``; a stop request sets
``stop``, which the jobs check before each request and which cuts their backoff waits
short. Items never started, or whose job raised ``Stopped``, come back as ``stopped()``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TypeVar

from engine.judge.base import ProgressFn, StopFn
from engine.judge.endpoint_http import Stopped

POLL_S = 0.1

Item = TypeVar("Item")
Result = TypeVar("Result")


def run_items(
    job: Callable[[Item], Result],
    items: Sequence[Item],
    stopped: Callable[[], Result],
    *,
    concurrency: int,
    stop: threading.Event,
    progress: ProgressFn | None = None,
    should_stop: StopFn | None = None,
) -> list[Result]:
    """``job(item)`` for every item, results in item order. Progress counts the items
    judged (successfully or not); stopped items are not counted."""
    results: list[Result | None] = [None] * len(items)
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="judge") as pool:
        try:
            _drive(pool, job, items, results, concurrency, stop, progress, should_stop)
        finally:
            stop.set()  # a failing callback must not leave jobs retrying behind it
    return [stopped() if result is None else result for result in results]


def _drive(
    pool: ThreadPoolExecutor,
    job: Callable,
    items: Sequence,
    results: list,
    concurrency: int,
    stop: threading.Event,
    progress: ProgressFn | None,
    should_stop: StopFn | None,
) -> None:
    pending: dict[Future, int] = {}
    next_index, done = 0, 0
    while True:
        if should_stop is not None and not stop.is_set() and should_stop():
            stop.set()
        while not stop.is_set() and next_index < len(items) and len(pending) < concurrency:
            pending[pool.submit(job, items[next_index])] = next_index
            next_index += 1
        if not pending:
            return
        finished, _ = wait(
            pending, timeout=POLL_S if should_stop else None, return_when=FIRST_COMPLETED
        )
        for future in finished:
            index = pending.pop(future)
            try:
                results[index] = future.result()
            except Stopped:
                continue
            done += 1
            if progress is not None:
                progress(done, len(items))
