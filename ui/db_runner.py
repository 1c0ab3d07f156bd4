"""Short database calls of one project, run in order on one background thread that owns
its own connection, so the main thread never waits on SQLite (a busy timeout can last
seconds while a worker writes)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, Signal, Slot

from ui.background import TaskError
from workbench.project import Project

Callback = Callable[[Any], None]


def _owner(callback: Callable) -> object | None:
    while isinstance(callback, functools.partial):
        callback = callback.func
    return getattr(callback, "__self__", None)


def callback_alive(callback: Callable | None) -> bool:
    """False for a bound slot of a Qt object that has been deleted since the call was made."""
    owner = _owner(callback) if callback else None
    return callback is not None and (not isinstance(owner, QObject) or shiboken6.isValid(owner))


class DbRunner(QObject):
    """`call(fn, *args, on_done=, on_error=)` runs `fn(project, *args)` on the database
    thread; the callback runs on the main thread. Errors without an `on_error` go to the
    `failed` signal, so nothing fails silently."""

    failed = Signal(object)  # TaskError
    _finished = Signal(int, bool, object)

    def __init__(self, project_path: str | Path, parent: QObject | None = None):
        super().__init__(parent)
        self.path = Path(project_path)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="workbench-db")
        self._project: Project | None = None  # touched only on the database thread
        self._callbacks: dict[int, tuple[Callback | None, Callback | None]] = {}
        self._next_id = 0
        self._closed = False
        self._finished.connect(self._deliver)

    def call(
        self,
        fn: Callable[..., Any],
        *args: Any,
        on_done: Callback | None = None,
        on_error: Callback | None = None,
    ) -> int | None:
        if self._closed:
            return None  # a view of a project being closed; nobody waits for the answer
        self._next_id += 1
        self._callbacks[self._next_id] = (on_done, on_error)
        self._executor.submit(self._run, self._next_id, fn, args)
        return self._next_id

    def pending(self) -> int:
        return len(self._callbacks)

    def _run(self, request_id: int, fn: Callable[..., Any], args: tuple) -> None:
        try:
            if self._project is None:
                self._project = Project.open(self.path)
            result = fn(self._project, *args)
        except BaseException as exc:  # reported on the main thread
            self._finished.emit(request_id, False, TaskError(exc))
        else:
            self._finished.emit(request_id, True, result)

    @Slot(int, bool, object)
    def _deliver(self, request_id: int, ok: bool, payload: object) -> None:
        on_done, on_error = self._callbacks.pop(request_id, (None, None))
        if self._closed:
            return
        if ok:
            if callback_alive(on_done):
                on_done(payload)
        elif on_error is None:
            self.failed.emit(payload)
        elif callback_alive(on_error):
            on_error(payload)

    def close(self) -> None:
        """Finish queued calls (dropping their callbacks) and close the connection."""
        if self._closed:
            return
        self._closed = True
        self._callbacks.clear()
        self._executor.submit(self._close_db)
        self._executor.shutdown(wait=True)

    def _close_db(self) -> None:
        if self._project is not None:
            self._project.close()
            self._project = None
