"""Feeds the selected runs' metrics into a RunCharts from the database, incrementally.

Each run remembers the id of the last metric row it has drawn and asks only for rows
after it, so a running run's curves grow as its process writes them, whoever started it
(this window's worker or `workbench train` in a terminal), and a window opened mid-run
first loads the history and then goes on. One request per run at a time; an answer for
a run that has since been deselected (or reloaded) is dropped by its generation number.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from ui.charts.run_charts import RunCharts
from ui.db_runner import DbRunner
from ui.views.runs.table import run_label
from workbench.training.history import METRIC_BATCH, run_metric_rows


@dataclass
class Loaded:
    generation: int
    after_id: int = 0
    max_step: int = 0
    busy: bool = False
    complete: bool = False  # everything the run will ever write has been drawn
    label: str = ""


class RunCurveLoader(QObject):
    loaded = Signal(int, int)  # run id, rows added

    def __init__(self, runner: DbRunner, charts: RunCharts, parent: QObject | None = None):
        super().__init__(parent)
        self.runner = runner
        self.charts = charts
        self.runs: dict[int, Loaded] = {}
        self._generation = 0

    def show_runs(self, rows: list[dict]) -> None:
        """Draw exactly these runs (overview rows); new ones load their whole history."""
        wanted = {r["id"]: r for r in rows}
        for run_id in [i for i in self.runs if i not in wanted]:
            del self.runs[run_id]
            self.charts.remove_run(run_id)
        for run_id, row in wanted.items():
            if run_id not in self.runs:
                self._start(run_id, row)
        self.update(rows)

    def _start(self, run_id: int, row: dict) -> None:
        self._generation += 1
        self.runs[run_id] = Loaded(self._generation, label=run_label(row))
        self.charts.set_run_label(run_id, run_label(row))

    def update(self, rows: list[dict]) -> None:
        """Called with fresh overview rows: fetch what running runs wrote since."""
        for row in rows:
            state = self.runs.get(row["id"])
            if state is None:
                continue
            if row["step"] < state.max_step:  # resumed from an earlier checkpoint
                self.charts.remove_run(row["id"])
                self._start(row["id"], row)
                state = self.runs[row["id"]]
            if row["status"] == "running":
                state.complete = False  # e.g. a stopped run resumed
            if run_label(row) != state.label:  # renamed
                state.label = run_label(row)
                self.charts.set_run_label(row["id"], state.label)
            if not state.busy and not state.complete:
                self._fetch(row["id"], state, finished=row["status"] != "running")

    def _fetch(self, run_id: int, state: Loaded, finished: bool) -> None:
        state.busy = True
        done = functools.partial(self._on_rows, run_id, state.generation, finished)
        self.runner.call(
            run_metric_rows,
            run_id,
            state.after_id,
            on_done=done,
            on_error=functools.partial(self._on_error, run_id, state.generation),
        )

    def _on_rows(self, run_id: int, generation: int, finished: bool, result) -> None:
        state = self.runs.get(run_id)
        if state is None or state.generation != generation:
            return
        rows, last_id = result
        state.busy, state.after_id = False, last_id
        if rows:
            state.max_step = max(state.max_step, max(r[0] for r in rows))
            self.charts.append(run_id, rows)
            self.loaded.emit(run_id, len(rows))
        if len(rows) >= METRIC_BATCH:
            self._fetch(run_id, state, finished)  # more history waiting: go on now
        elif finished:
            state.complete = True  # rows of an ended run were written before it ended

    def _on_error(self, run_id: int, generation: int, _error) -> None:
        state = self.runs.get(run_id)
        if state is not None and state.generation == generation:
            state.busy = False  # tried again on the next refresh
