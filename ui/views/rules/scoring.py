"""Scoring draft rules off the main thread (sandboxed kinds start processes and may take
seconds), one batch at a time, keeping only the newest request: a result that comes back
for an older draft is dropped."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from engine.rules import Item, RewardBatch, RuleSpec, make_reward_fn
from ui.background import run_in_background


def score_items(specs: Sequence[RuleSpec], items: Sequence[Item]) -> RewardBatch:
    """Every enabled rule of `specs` over `items`, combined with weights and gates."""
    reward_fn = make_reward_fn(list(specs))
    return reward_fn(
        [item.prompt or "" for item in items],
        [item.completion for item in items],
        [item.reference for item in items],
    )


class LatestOnly(QObject):
    """`request(fn)` runs `fn()` on a background thread. While one runs, a new request
    waits; a newer one replaces it. `finished`/`failed` are emitted only for the newest
    request, so what the user sees always matches what they last asked for."""

    finished = Signal(int, object)  # generation, result
    failed = Signal(int, object)  # generation, TaskError
    busyChanged = Signal(bool)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.generation = 0
        self._pending: tuple[int, Callable[[], Any]] | None = None
        self._running: int | None = None
        self._task = None

    @property
    def busy(self) -> bool:
        return self._running is not None

    def request(self, fn: Callable[[], Any]) -> int:
        self.generation += 1
        self._pending = (self.generation, fn)
        if self._running is None:
            self._start_next()
            self.busyChanged.emit(True)
        return self.generation

    def _start_next(self) -> None:
        generation, fn = self._pending
        self._pending = None
        self._running = generation
        self._task = run_in_background(lambda _control: fn())
        self._task.succeeded.connect(self._succeeded)
        self._task.failed.connect(self._failed)

    @Slot(object)
    def _succeeded(self, result: object) -> None:
        self._done(self.finished, result)

    @Slot(object)
    def _failed(self, error: object) -> None:
        self._done(self.failed, error)

    def _done(self, signal, payload: object) -> None:
        generation = self._running
        self._running, self._task = None, None
        if self._pending is not None:
            self._start_next()
        else:
            self.busyChanged.emit(False)
        if generation == self.generation:
            signal.emit(generation, payload)
