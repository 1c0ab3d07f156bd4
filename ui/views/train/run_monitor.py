"""Watching one run live: its curves (RunCharts), progress with an ETA, the control
buttons, the sample browser and the log. The rows come from the session's run feed, which
reads the run's new rows at ~5 Hz while it trains and hands each row once, so a run started
anywhere, even from the terminal, shows here. Without a run chosen the monitor follows the
newest one, which the feed also reports. Nothing is read for it while it is hidden."""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from engine.training.config import ONLINE_ALGORITHMS
from ui.charts.run_charts import RunCharts
from ui.run_feed import RunUpdate
from ui.run_phase_text import bar_range, progress_text
from ui.session import ProjectSession
from ui.style import BAD, MUTED, OK, WARN
from ui.views.train.run_controls import RunControls
from ui.views.train.sample_browser import SampleBrowser
from workbench.training.health import warnings_in_log
from workbench.training.progress import recent_runs

FOLLOW_NEWEST = "Newest (live)"


class RunMonitor(QWidget):
    runChanged = Signal(object)  # the run id shown, or None

    def __init__(
        self, session: ProjectSession, queue: QWidget | None = None, parent: QWidget | None = None
    ):
        super().__init__(parent)
        self.session = session
        self.queue = queue
        self.run_id: int | None = None  # the run shown
        self.pinned: int | None = None  # the run asked for; None follows the newest
        self.progress: dict[str, Any] | None = None
        self.watched: int | None = None  # the run subscribed to in the feed
        self._build()
        self.session.feed.pause(self._on_update)  # until shown

    def _build(self) -> None:
        self.runs = QComboBox(minimumContentsLength=18)
        self.runs.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.runs.addItem(FOLLOW_NEWEST, None)
        self.runs.activated.connect(self._run_chosen)
        self.state = QLabel(objectName="runState")
        self.bar = QProgressBar(textVisible=False)
        self.eta = QLabel(objectName="runEta")
        # Run health warnings (workbench/training/health.py): shown, never blocking.
        self.health = QLabel(objectName="runHealth", wordWrap=True, visible=False)
        self.health.setStyleSheet(f"color: {WARN};")
        self.warnings: list[str] = []
        self.controls = RunControls(self.session)
        self.charts = RunCharts(max_columns=2)  # beside the form, three columns are too narrow
        self.samples = SampleBrowser(self.session)
        self.log = QPlainTextEdit(readOnly=True, maximumBlockCount=5000)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.samples, "Samples")
        self.tabs.addTab(self.log, "Log")
        if self.queue is not None:
            self.tabs.addTab(self.queue, "Queue")
        top = QHBoxLayout()
        top.addWidget(QLabel("Run"))
        top.addWidget(self.runs)
        top.addWidget(self.state, 1)
        bar = QHBoxLayout()
        bar.addWidget(self.bar, 1)
        bar.addWidget(self.eta)
        # Charts over samples 3:2 at any height (at 720 high a fixed split left the
        # samples one row); the table's minimum keeps a few rows when space is short.
        splitter = QSplitter(Qt.Orientation.Vertical, childrenCollapsible=False)
        splitter.addWidget(self.charts)
        splitter.addWidget(self.tabs)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([600, 400])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addLayout(bar)
        layout.addWidget(self.health)
        layout.addWidget(self.controls)
        layout.addWidget(splitter, 1)

    # Which run ------------------------------------------------------------------------
    def follow(self, run_id: int | None) -> None:
        """Show `run_id`, or the newest (running) run when None."""
        self.pinned = run_id
        index = self.runs.findData(run_id)
        if index < 0 and run_id is not None:
            self.runs.addItem(f"Run {run_id}", run_id)
            index = self.runs.count() - 1
        self.runs.setCurrentIndex(max(index, 0))
        self._watch()

    @Slot(int)
    def _run_chosen(self, index: int) -> None:
        self.follow(self.runs.itemData(index))

    def reload_runs(self) -> None:
        self.session.runner.call(recent_runs, on_done=self._show_runs)

    def _show_runs(self, runs: list[tuple[int, str, str]]) -> None:
        self.runs.blockSignals(True)
        self.runs.clear()
        self.runs.addItem(FOLLOW_NEWEST, None)
        for run_id, name, status in runs:
            self.runs.addItem(f"{run_id} · {name} ({status})", run_id)
        self.runs.setCurrentIndex(max(self.runs.findData(self.pinned), 0))
        self.runs.blockSignals(False)

    def _watch(self) -> None:
        """Subscribe to the run asked for; without one, to the newest while shown."""
        feed = self.session.feed
        if self.pinned is None and self.isVisible():
            feed.watch_newest(self._newest_is, self._read_failed)
        else:
            feed.unwatch_newest(self._newest_is)
        if self.pinned is not None:
            self._subscribe(self.pinned)

    def _newest_is(self, run_id: int | None) -> None:
        if self.pinned is not None:
            return  # the user chose a run meanwhile
        if run_id is None:
            self._say_state("No runs yet: launch one from the left.", MUTED)
            return
        self._subscribe(run_id)

    def _subscribe(self, run_id: int) -> None:
        """The shown run changes when its first rows arrive (see _on_update)."""
        if run_id == self.watched:
            return
        feed = self.session.feed
        if self.watched is not None:
            feed.unsubscribe(self.watched, self._on_update)
        self.watched = run_id
        feed.subscribe(run_id, self._on_update, self._read_failed)

    def _reset(self, run_id: int | None) -> None:
        self.run_id = run_id
        self.charts.clear()
        self.log.clear()
        self.warnings = []
        self.health.hide()
        self.samples.clear(run_id)
        self.controls.reset()
        self.progress = None
        self.runChanged.emit(run_id)
        self.reload_runs()

    # Updates from the feed -------------------------------------------------------------
    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.session.feed.resume(self._on_update)
        self._watch()

    def hideEvent(self, event) -> None:
        super().hideEvent(event)
        self.session.feed.pause(self._on_update)
        self.session.feed.unwatch_newest(self._newest_is)

    def _read_failed(self, error) -> None:
        from ui.messages import explain

        self._say_state(f"Cannot read the run: {explain(error).what}", BAD)

    def _on_update(self, update: RunUpdate) -> None:
        if update.run_id != self.watched:
            return  # the run followed before
        if update.first or update.run_id != self.run_id:
            self._reset(update.run_id)  # its rows from the beginning
        self._append(update)

    def _append(self, update: RunUpdate) -> None:
        progress = update.progress
        if update.metrics:
            self.charts.append(self.run_id, update.metrics)
        for when, message in update.logs:
            self.log.appendPlainText(
                f"{time.strftime('%H:%M:%S', time.localtime(when))}  {message}"
            )
        self._show_health(warnings_in_log([message for _, message in update.logs]))
        self.samples.set_online(progress["algorithm"] in ONLINE_ALGORITHMS)
        self.samples.set_steps(update.sample_steps, update.sample_rows)
        self._show_progress(progress)

    def _show_health(self, new: list[str]) -> None:
        if not new:
            return
        self.warnings += new
        count = len(self.warnings)
        head = f"⚠ {count} warning{'s' if count > 1 else ''}: " if count > 1 else "⚠ "
        self.health.setText(head + self.warnings[-1])
        self.health.setToolTip("\n\n".join(self.warnings))
        self.health.show()

    def _show_progress(self, progress: dict[str, Any]) -> None:
        first = self.progress is None
        self.progress = progress
        if first:
            self.charts.set_run_label(self.run_id, progress["name"] or f"run {self.run_id}")
        top, value = bar_range(progress)
        self.bar.setRange(0, top)
        self.bar.setValue(value)
        self.eta.setText(progress_text(progress))
        self.controls.show_progress(progress)
        name = progress["name"] or f"run {self.run_id}"
        status = progress["status"]
        if status == "failed":
            self._say_state(f"{name} failed: {progress['error'] or 'see the log'}", BAD)
        elif status == "interrupted":
            self._say_state(f"{name}: {progress['error'] or 'interrupted'}", BAD)
        else:
            color = OK if status == "done" else MUTED
            self._say_state(f"{name} · {progress['algorithm']} · {status}", color)

    def _say_state(self, text: str, color: str) -> None:
        self.state.setText(text)
        self.state.setStyleSheet(f"color: {color};")
