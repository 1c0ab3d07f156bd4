"""Feeds the selected runs' metrics into a RunCharts through the session's run feed.

Selecting a run subscribes to it: the feed hands its whole history, then the rows its
process writes as it trains, whoever started it (this window's worker or `workbench train`
in a terminal), so a window opened mid-run first loads the history and then goes on.
Deselecting a run unsubscribes and takes its curves away. While the view is hidden the
loader is paused: nothing is read for it, and it catches up when shown again.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from ui.charts.run_charts import RunCharts
from ui.run_feed import RunFeed, RunUpdate
from ui.views.runs.table import run_label


@dataclass
class Loaded:
    label: str
    drawn: bool = False  # some of its rows are in the charts


class RunCurveLoader(QObject):
    loaded = Signal(int, int)  # run id, rows added

    def __init__(self, feed: RunFeed, charts: RunCharts, parent: QObject | None = None):
        super().__init__(parent)
        self.feed = feed
        self.charts = charts
        self.runs: dict[int, Loaded] = {}

    def show_runs(self, rows: list[dict]) -> None:
        """Draw exactly these runs (overview rows); new ones load their whole history."""
        wanted = {r["id"]: r for r in rows}
        for run_id in [i for i in self.runs if i not in wanted]:
            del self.runs[run_id]
            self.feed.unsubscribe(run_id, self.on_update)
            self.charts.remove_run(run_id)
        for run_id, row in wanted.items():
            if run_id not in self.runs:
                self.runs[run_id] = Loaded(run_label(row))
                self.charts.set_run_label(run_id, run_label(row))
                # A read that fails is tried again on the feed's next tick.
                self.feed.subscribe(run_id, self.on_update)
        self.update(rows)

    def update(self, rows: list[dict]) -> None:
        """Called with fresh overview rows: a renamed run's legend follows."""
        for row in rows:
            state = self.runs.get(row["id"])
            if state is not None and run_label(row) != state.label:
                state.label = run_label(row)
                self.charts.set_run_label(row["id"], state.label)

    def pause(self) -> None:
        self.feed.pause(self.on_update)

    def resume(self) -> None:
        self.feed.resume(self.on_update)

    def on_update(self, update: RunUpdate) -> None:
        state = self.runs.get(update.run_id)
        if state is None:
            return
        if update.first and state.drawn:  # started over: resumed from an earlier checkpoint
            self.charts.remove_run(update.run_id)
            self.charts.set_run_label(update.run_id, state.label)
        if update.metrics:
            state.drawn = True
            self.charts.append(update.run_id, update.metrics)
            self.loaded.emit(update.run_id, len(update.metrics))
