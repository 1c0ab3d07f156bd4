"""One reader for every view that watches training runs (docs/architecture.md,
"Processes": the database is the channel between the UI and the worker).

A view subscribes a receiver to a run; once per tick the feed reads, for all runs watched,
each run's new metric and log rows, its progress and its samples in ONE call on the
session's database thread (never two in flight), keeps one read position per run and hands
every subscriber the same rows: two views of one run cost one read. A subscriber that joins
a run already being read gets the run's history first (a catch-up read), then the live rows
with the others. A receiver paused while its view is hidden costs no read and catches up
when resumed. Views may also watch which run is the newest, and the overview of all runs.

Runs that are running, or wrote rows since the last tick, are read every LIVE_MS; the
others once every IDLE_MS. A run whose step falls behind the rows read was resumed from an
earlier checkpoint (its later rows were deleted): every subscriber starts it over.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, QTimer, Slot

from ui.background import TaskError
from ui.db_runner import DbRunner, callback_alive
from ui.run_feed_reads import (
    CatchUp,
    LogRow,
    MetricRow,
    RunAsk,
    RunRead,
    TickAnswer,
    TickAsk,
    read_tick,
)
from workbench.training.history import METRIC_BATCH

LIVE_MS = 200
IDLE_MS = 1000
OVERVIEW_MS = 1000
# A period counts as elapsed a little early, so timer jitter does not skip a whole tick.
EARLY = 0.9

OnError = Callable[[TaskError], None] | None


@dataclass(frozen=True)
class RunUpdate:
    """What one subscriber gets of one run in one tick: rows it has not had, each once."""

    run_id: int
    metrics: list[MetricRow]
    logs: list[LogRow]
    progress: dict[str, Any]
    sample_steps: list[int]
    sample_rows: int
    first: bool  # these rows start from the run's beginning: drop what is shown of it


OnUpdate = Callable[[RunUpdate], None]


@dataclass(eq=False)
class _Subscriber:
    key: int
    on_update: OnUpdate
    on_error: OnError
    metrics_after: int = 0  # the id of its last row
    metrics_count: int = 0  # rows it has had
    logs_after: int = 0
    logs_count: int = 0
    first: bool = True

    def restart(self) -> None:
        self.metrics_after = self.metrics_count = self.logs_after = self.logs_count = 0
        self.first = True


@dataclass(eq=False)
class _Run:
    run_id: int
    generation: int  # a new one after a restart; answers to an older one are dropped
    subscribers: list[_Subscriber] = field(default_factory=list)
    metrics_after: int = 0  # the feed's read position: the last id read
    metrics_count: int = 0  # rows read from the run's beginning up to it
    logs_after: int = 0
    logs_count: int = 0
    max_step: int = 0
    live: bool = True  # running, or rows came last time; unknown runs count as live
    more: bool = False  # the last read was a full batch: more is waiting
    read_at: float = -math.inf

    def lacks(self, sub: _Subscriber) -> bool:
        return sub.metrics_count != self.metrics_count or sub.logs_count != self.logs_count

    def catch_up(self, sub: _Subscriber) -> CatchUp:
        return CatchUp(
            sub.key,
            sub.metrics_after,
            min(METRIC_BATCH, self.metrics_count - sub.metrics_count),
            sub.logs_after,
            self.logs_count - sub.logs_count,
        )


@dataclass(frozen=True)
class _Asked:
    """A run's state when it was asked for, which its answer is applied against."""

    generation: int
    metrics_count: int
    logs_count: int


@dataclass
class _Watch:
    on_error: OnError
    last: Any = None
    told: bool = False  # `last` has been delivered


class RunFeed(QObject):
    def __init__(self, runner: DbRunner, parent: QObject | None = None):
        super().__init__(parent)
        self.runner = runner
        self._runs: dict[int, _Run] = {}
        self._paused: set[OnUpdate] = set()
        self._newest: dict[Callable[[int | None], None], _Watch] = {}
        self._overview: dict[Callable[[list[dict]], None], _Watch] = {}
        self._overview_at = -math.inf
        self._asked: dict[int, _Asked] | None = None  # the runs of the call in flight
        self._asked_newest = self._asked_overview = False
        self._again = False  # something changed while a call was in flight: tick on return
        self._pending = False  # the answer left rows waiting (a full batch, a catch-up)
        self._keys = 0
        self._closed = False
        self.timer = QTimer(self, interval=LIVE_MS)
        self.timer.timeout.connect(self.tick)
        # A new watcher is served at the next turn of the event loop rather than the next
        # tick; the subscriptions a view makes together then cost one call.
        self._soon = QTimer(self, singleShot=True, interval=0)
        self._soon.timeout.connect(self.tick)

    # Subscriptions -------------------------------------------------------------------
    def subscribe(self, run_id: int, on_update: OnUpdate, on_error: OnError = None) -> None:
        """`on_update(RunUpdate)` with the run's rows from its beginning, then every tick;
        `on_error(TaskError)` when the run cannot be read. Subscribing twice is once."""
        run = self._runs.get(run_id)
        if run is None:
            run = self._runs[run_id] = _Run(run_id, self._next_key())
        if any(sub.on_update == on_update for sub in run.subscribers):
            return
        run.subscribers.append(_Subscriber(self._next_key(), on_update, on_error))
        self._kick()

    def unsubscribe(self, run_id: int, on_update: OnUpdate) -> None:
        """No more updates; the run is no longer read once nobody watches it."""
        run = self._runs.get(run_id)
        if run is None:
            return
        run.subscribers = [sub for sub in run.subscribers if sub.on_update != on_update]
        if not run.subscribers:
            del self._runs[run_id]
        self._update_timer()

    def pause(self, on_update: OnUpdate) -> None:
        """Keep the receiver's subscriptions and positions but read nothing for it (its
        view is hidden)."""
        self._paused.add(on_update)
        self._update_timer()

    def resume(self, on_update: OnUpdate) -> None:
        """Read again for the receiver: it first gets what it missed meanwhile."""
        self._paused.discard(on_update)
        self._kick()

    def watch_newest(self, on_newest: Callable[[int | None], None], on_error: OnError = None):
        """`on_newest(run id or None)` now and whenever the newest run changes: the newest
        running one, else the latest (the run a monitor follows by default)."""
        self._newest.setdefault(on_newest, _Watch(on_error))
        self._kick()

    def unwatch_newest(self, on_newest: Callable[[int | None], None]) -> None:
        self._newest.pop(on_newest, None)
        self._update_timer()

    def watch_runs(self, on_rows: Callable[[list[dict]], None], on_error: OnError = None):
        """`on_rows(workbench.training.history.runs_overview rows)` now and about once a
        second."""
        if on_rows not in self._overview:
            self._overview[on_rows] = _Watch(on_error)
            self._overview_at = -math.inf  # the new watcher wants its rows now
        self._kick()

    def unwatch_runs(self, on_rows: Callable[[list[dict]], None]) -> None:
        self._overview.pop(on_rows, None)
        self._update_timer()

    def close(self) -> None:
        """Stop reading (the project is closing)."""
        self._closed = True
        self.timer.stop()
        self._soon.stop()
        self._runs.clear()
        self._newest.clear()
        self._overview.clear()

    # Ticks ----------------------------------------------------------------------------
    @Slot()
    def tick(self) -> None:
        if self._closed:
            return
        if self._asked is not None:
            self._again = True  # asked again as soon as the call in flight returns
            return
        ask, asked = self._ask(time.monotonic())
        if ask.runs or ask.newest or ask.overview:
            self._asked = asked
            request = self.runner.call(
                read_tick, ask, on_done=self._on_answer, on_error=self._on_failed
            )
            if request is None:  # the project is closing
                self._asked = None
        self._update_timer()

    def _ask(self, now: float) -> tuple[TickAsk, dict[int, _Asked]]:
        asked: dict[int, _Asked] = {}
        runs = []
        for run in self._runs.values():
            active = self._active(run)
            if not active or not self._due(run, active, now):
                continue
            catch_ups = tuple(run.catch_up(sub) for sub in active if run.lacks(sub))
            runs.append(RunAsk(run.run_id, run.metrics_after, run.logs_after, catch_ups))
            asked[run.run_id] = _Asked(run.generation, run.metrics_count, run.logs_count)
            run.read_at = now
        self._asked_newest = bool(self._newest)
        self._asked_overview = bool(self._overview) and _elapsed(
            self._overview_at, OVERVIEW_MS, now
        )
        if self._asked_overview:
            self._overview_at = now
        return TickAsk(tuple(runs), self._asked_newest, self._asked_overview), asked

    def _active(self, run: _Run) -> list[_Subscriber]:
        return [sub for sub in run.subscribers if sub.on_update not in self._paused]

    @staticmethod
    def _due(run: _Run, active: list[_Subscriber], now: float) -> bool:
        waiting = any(sub.first or run.lacks(sub) for sub in active)
        return waiting or run.live or run.more or _elapsed(run.read_at, IDLE_MS, now)

    def _kick(self) -> None:
        self._soon.start()
        self._update_timer()

    def _update_timer(self) -> None:
        active = [run for run in self._runs.values() if self._active(run)]
        if self._closed or not (active or self._newest or self._overview):
            self.timer.stop()
            return
        self.timer.setInterval(LIVE_MS if any(run.live for run in active) else IDLE_MS)
        if not self.timer.isActive():
            self.timer.start()

    # Answers --------------------------------------------------------------------------
    def _on_answer(self, answer: TickAnswer) -> None:
        asked = self._asked or {}
        for run_id, read in answer.runs.items():
            run = self._runs.get(run_id)
            if run is None or run_id not in asked or run.generation != asked[run_id].generation:
                continue  # unsubscribed or started over meanwhile
            if isinstance(read, TaskError):
                self._fail_run(run, read)
            else:
                self._apply(run, asked[run_id], read)
        if self._asked_newest:
            self._tell_newest(answer.newest)
        if self._asked_overview:
            self._tell(self._overview, answer.overview)
        self._finish_tick()

    def _on_failed(self, error: TaskError) -> None:
        for run_id in self._asked or {}:
            if run_id in self._runs:
                self._fail_run(self._runs[run_id], error)
        if self._asked_newest:
            self._tell_newest(error)
        if self._asked_overview:
            self._tell(self._overview, error)
        self._finish_tick()

    def _finish_tick(self) -> None:
        """Go on at once when rows are waiting; a failed read waits for the timer."""
        self._asked = None
        if self._again or self._pending:
            self._again = self._pending = False
            self.tick()
        else:
            self._update_timer()

    def _apply(self, run: _Run, asked: _Asked, read: RunRead) -> None:
        rows = read.rows
        top = max([run.max_step, *(row[0] for row in rows.metrics)])
        short = any(
            not got.metrics and not got.logs for got in read.catch_ups.values()
        )  # a catch-up owed rows found none: some were deleted
        if read.progress["step"] < top or short:
            self._restart(run)
            return
        fed = []  # subscribers that had every row up to the asked position
        for sub in list(run.subscribers):
            if sub.on_update in self._paused or sub not in run.subscribers:
                continue  # paused, or unsubscribed by an earlier receiver's update
            metrics: list[MetricRow] = []
            logs: list[LogRow] = []
            got = read.catch_ups.get(sub.key)
            if got is not None:
                metrics, logs = list(got.metrics), list(got.logs)
                sub.metrics_count += len(got.metrics)
                sub.logs_count += len(got.logs)
                sub.metrics_after, sub.logs_after = got.metrics_last, got.logs_last
            if sub.metrics_count == asked.metrics_count and sub.logs_count == asked.logs_count:
                metrics += rows.metrics
                logs += rows.logs
                fed.append(sub)
            elif got is None:
                continue  # joined after the call was made: served on the next tick
            update = RunUpdate(
                run.run_id,
                metrics,
                logs,
                read.progress,
                read.sample_steps,
                read.sample_rows,
                sub.first,
            )
            sub.first = False
            if callback_alive(sub.on_update):
                sub.on_update(update)
        run.metrics_after, run.logs_after = rows.metrics_last, rows.logs_last
        run.metrics_count += len(rows.metrics)
        run.logs_count += len(rows.logs)
        run.max_step = top
        run.live = read.progress["status"] == "running" or bool(rows.metrics)
        run.more = len(rows.metrics) >= METRIC_BATCH
        for sub in fed:
            sub.metrics_after, sub.metrics_count = run.metrics_after, run.metrics_count
            sub.logs_after, sub.logs_count = run.logs_after, run.logs_count
        self._pending |= run.more or any(run.lacks(sub) for sub in self._active(run))

    def _restart(self, run: _Run) -> None:
        """Read the run again from its beginning, for every subscriber."""
        run.generation = self._next_key()
        run.metrics_after = run.metrics_count = run.logs_after = run.logs_count = 0
        run.max_step = 0
        run.live, run.more = True, False
        for sub in run.subscribers:
            sub.restart()
        self._pending = True

    def _fail_run(self, run: _Run, error: TaskError) -> None:
        for sub in self._active(run):
            if sub.on_error is not None and callback_alive(sub.on_error):
                sub.on_error(error)

    def _tell_newest(self, value: int | None | TaskError) -> None:
        for on_newest, watch in list(self._newest.items()):
            if on_newest not in self._newest:
                continue  # unwatched by an earlier receiver
            if isinstance(value, TaskError):
                _call(watch.on_error, value)
            elif not watch.told or watch.last != value:
                watch.last, watch.told = value, True
                _call(on_newest, value)

    @staticmethod
    def _tell(watches: dict[Callable, _Watch], value: Any) -> None:
        for receiver, watch in list(watches.items()):
            if receiver in watches:
                _call(watch.on_error if isinstance(value, TaskError) else receiver, value)

    def _next_key(self) -> int:
        self._keys += 1
        return self._keys


def _elapsed(since: float, period_ms: int, now: float) -> bool:
    return now - since >= EARLY * period_ms / 1000


def _call(receiver: Callable | None, value: Any) -> None:
    if receiver is not None and callback_alive(receiver):
        receiver(value)
