"""What the run feed reads in one tick, as one call on the database thread: for each run
watched, its metric and log rows after the feed's read position, its progress and samples,
and the rows a late subscriber still lacks (its catch-up); the newest run; the overview of
every run. Plain data in and out, composed of the torch-free queries of workbench/training.

A catch-up never reads past the feed's position without knowing that position's id: it
asks for as many rows as the feed has read beyond the subscriber's last one, and row ids
only grow, so those are exactly the rows the subscriber lacks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ui.background import TaskError
from workbench.project import Project
from workbench.training.history import run_metric_rows, runs_overview
from workbench.training.progress import current_run, logs_since, run_update

MetricRow = tuple[int, float, str, "float | None"]  # step, unix time, metric, value
LogRow = tuple[float, str]  # unix time, message


@dataclass(frozen=True)
class CatchUp:
    """The next `metrics_limit` metric rows after id `metrics_after` and `logs_limit` log
    rows after id `logs_after`, for the subscriber `key`."""

    key: int
    metrics_after: int
    metrics_limit: int
    logs_after: int
    logs_limit: int


@dataclass(frozen=True)
class RunAsk:
    run_id: int
    metrics_after: int
    logs_after: int
    catch_ups: tuple[CatchUp, ...] = ()


@dataclass(frozen=True)
class TickAsk:
    runs: tuple[RunAsk, ...] = ()
    newest: bool = False  # read which run is the newest (running, else latest)
    overview: bool = False  # read every run's row of the Runs table


@dataclass
class Rows:
    metrics: list[MetricRow]
    metrics_last: int  # the id to read on from
    logs: list[LogRow]
    logs_last: int


@dataclass
class RunRead:
    rows: Rows  # after the feed's position
    progress: dict[str, Any]  # workbench.training.progress.run_progress
    sample_steps: list[int]
    sample_rows: int
    catch_ups: dict[int, Rows] = field(default_factory=dict)  # by subscriber key


@dataclass
class TickAnswer:
    runs: dict[int, RunRead | TaskError]
    newest: int | None | TaskError = None
    overview: list[dict[str, Any]] | TaskError | None = None


def read_tick(project: Project, ask: TickAsk) -> TickAnswer:
    """Each part fails alone: a run that cannot be read (e.g. deleted) does not keep the
    other runs, the newest run or the overview from their subscribers."""
    return TickAnswer(
        runs={run.run_id: _guarded(_read_run, project, run) for run in ask.runs},
        newest=_guarded(current_run, project) if ask.newest else None,
        overview=_guarded(runs_overview, project) if ask.overview else None,
    )


def _guarded(fn, *args):
    try:
        return fn(*args)
    except Exception as exc:  # handed to the subscribers of that part
        return TaskError(exc)


def _read_run(project: Project, ask: RunAsk) -> RunRead:
    catch_ups = {c.key: _catch_up(project, ask.run_id, c) for c in ask.catch_ups}
    # Metrics are read before the progress, so a run's step is never behind its rows
    # (a step behind them means a resume deleted some: the feed starts the run over).
    update = run_update(project, ask.run_id, ask.metrics_after, ask.logs_after)
    return RunRead(
        rows=Rows(update["metrics"], update["metrics_last"], update["logs"], update["logs_last"]),
        progress=update["progress"],
        sample_steps=update["sample_steps"],
        sample_rows=update["sample_rows"],
        catch_ups=catch_ups,
    )


def _catch_up(project: Project, run_id: int, ask: CatchUp) -> Rows:
    metrics, metrics_last = [], ask.metrics_after
    if ask.metrics_limit > 0:
        metrics, metrics_last = run_metric_rows(
            project, run_id, ask.metrics_after, ask.metrics_limit
        )
    logs, logs_last = [], ask.logs_after
    if ask.logs_limit > 0:
        logs, logs_last = logs_since(project, run_id, ask.logs_after)
        # Cut at what the feed has read; logs_last then lies beyond, but the subscriber
        # is caught up and takes the feed's position instead.
        logs = logs[: ask.logs_limit]
    return Rows(metrics, metrics_last, logs, logs_last)
