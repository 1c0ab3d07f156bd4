"""Progress reports and cancellation checks, throttled to about CALLS per file."""

from __future__ import annotations

from collections.abc import Callable

CALLS = 100


class Ticker:
    """`at(done)` reports progress when `done` has moved by a CALLS-th of `total` since
    the last report, and checks `cancelled()` each time; `check()` checks it now."""

    def __init__(
        self,
        progress: Callable[[int, int], None] | None,
        cancelled: Callable[[], bool] | None,
        on_cancel: Callable[[], Exception],
    ):
        self.progress, self.cancelled, self.on_cancel = progress, cancelled, on_cancel
        self.total = 0
        self.next = 0.0

    def check(self) -> None:
        if self.cancelled is not None and self.cancelled():
            raise self.on_cancel()

    def at(self, done: float) -> None:
        if done < self.next:
            return
        self.next = done + max(1.0, self.total / CALLS)
        self.check()
        if self.progress is not None:
            self.progress(min(int(done), self.total), self.total)

    def finish(self) -> None:
        if self.progress is not None:
            self.progress(self.total, self.total)
