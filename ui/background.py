"""Work off the Qt main thread: one-shot tasks with progress and cancel, and results
delivered back on the main thread.

Results travel by a signal of a QObject that lives on the main thread, connected to its
own bound slot, so the slot runs on the main thread whatever thread emitted it
(docs/architecture.md, "Pitfalls": a lambda connected to a worker thread's signal runs in that thread).
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

# Progress signals are throttled so a fast import does not flood the event loop.
PROGRESS_INTERVAL_S = 0.05

# Tasks keep themselves alive until they finish, wherever the caller's reference goes.
_RUNNING: set[BackgroundTask] = set()


class TaskError(Exception):
    """Wraps an exception raised on a background thread, keeping its traceback text."""

    def __init__(self, exc: BaseException):
        super().__init__(str(exc))
        self.original = exc
        self.traceback_text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))


class TaskControl:
    """What the function running in the background sees: report progress, ask if cancelled."""

    def __init__(self, task: BackgroundTask):
        self._task = task
        self._cancel = threading.Event()
        self._last = 0.0

    def progress(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done >= total or now - self._last >= PROGRESS_INTERVAL_S:
            self._last = now
            self._task._progressed.emit(int(done), int(total))

    def cancelled(self) -> bool:
        return self._cancel.is_set()


class BackgroundTask(QObject):
    """Runs `fn(control)` on a Python thread; `succeeded(result)` or `failed(TaskError)` follow
    on the main thread. Connect receivers to bound slots; they are disconnected when deleted."""

    progressed = Signal(int, int)
    succeeded = Signal(object)
    failed = Signal(object)
    _progressed = Signal(int, int)
    _finished = Signal(bool, object)

    def __init__(self, fn: Callable[[TaskControl], Any]):
        super().__init__()
        self._fn = fn
        self.control = TaskControl(self)
        self.running = False
        self._progressed.connect(self._relay_progress)
        self._finished.connect(self._deliver)

    def start(self) -> BackgroundTask:
        _RUNNING.add(self)
        self.running = True
        threading.Thread(target=self._run, name="workbench-task", daemon=True).start()
        return self

    def cancel(self) -> None:
        self.control._cancel.set()

    def _run(self) -> None:
        try:
            result = self._fn(self.control)
        except BaseException as exc:  # every failure must reach the user
            self._finished.emit(False, TaskError(exc))
        else:
            self._finished.emit(True, result)

    @Slot(int, int)
    def _relay_progress(self, done: int, total: int) -> None:
        if self.running:
            self.progressed.emit(done, total)

    @Slot(bool, object)
    def _deliver(self, ok: bool, payload: object) -> None:
        self.running = False
        _RUNNING.discard(self)
        (self.succeeded if ok else self.failed).emit(payload)


def run_in_background(fn: Callable[[TaskControl], Any]) -> BackgroundTask:
    """Start `fn` now; connect to the returned task's signals before control returns to Qt."""
    return BackgroundTask(fn).start()
