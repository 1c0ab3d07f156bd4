"""Watching one run live: its curves (RunCharts), progress with an ETA, the control
buttons, the sample browser and the log. A timer polls the run's new rows at ~5 Hz through
the session's database thread (one call per tick, never two in flight) and appends only
rows it has not seen, so a run started anywhere, even from the terminal, shows here."""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal, Slot
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
from ui.session import ProjectSession
from ui.style import BAD, MUTED, OK
from ui.views.train.run_controls import RunControls
from ui.views.train.sample_browser import SampleBrowser
from workbench.training import queries as train_queries

LIVE_MS = 200
IDLE_MS = 1000
FOLLOW_NEWEST = "Newest (live)"


def duration_text(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def progress_text(p: dict[str, Any]) -> str:
    parts = [f"Step {p['step']} / {p['max_steps'] or '?'}"]
    if p["status"] == "running":
        if p.get("job_message") == "paused":
            parts.append("paused")
        elif p.get("rate"):
            parts.append(f"{p['rate']:.2f} steps/s")
        if p.get("eta_s") is not None and p.get("job_message") != "paused":
            parts.append(f"about {duration_text(p['eta_s'])} left")
    else:
        parts.append(p["status"])
        if p.get("started_at") and p.get("ended_at"):
            parts.append(f"took {duration_text(p['ended_at'] - p['started_at'])}")
    return " · ".join(parts)


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
        self._metrics_last = self._logs_last = 0
        self._asked: tuple | None = None  # the arguments of the call in flight
        self._build()
        self.timer = QTimer(self, interval=LIVE_MS)
        self.timer.timeout.connect(self.poll)

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
        splitter = QSplitter(Qt.Orientation.Vertical, childrenCollapsible=False)
        splitter.addWidget(self.charts)
        splitter.addWidget(self.tabs)
        splitter.setSizes([440, 200])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addLayout(bar)
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
        self.poll()

    @Slot(int)
    def _run_chosen(self, index: int) -> None:
        self.follow(self.runs.itemData(index))

    def reload_runs(self) -> None:
        self.session.runner.call(train_queries.recent_runs, on_done=self._show_runs)

    def _show_runs(self, runs: list[tuple[int, str, str]]) -> None:
        self.runs.blockSignals(True)
        self.runs.clear()
        self.runs.addItem(FOLLOW_NEWEST, None)
        for run_id, name, status in runs:
            self.runs.addItem(f"{run_id} · {name} ({status})", run_id)
        self.runs.setCurrentIndex(max(self.runs.findData(self.pinned), 0))
        self.runs.blockSignals(False)

    def _reset(self, run_id: int | None) -> None:
        self.run_id = run_id
        self._metrics_last = self._logs_last = 0
        self.charts.clear()
        self.log.clear()
        self.samples.clear(run_id)
        self.controls.reset()
        self.progress = None
        self.runChanged.emit(run_id)
        self.reload_runs()

    # Polling --------------------------------------------------------------------------
    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.timer.start()
        self.poll()

    def hideEvent(self, event) -> None:
        super().hideEvent(event)
        self.timer.stop()

    @Slot()
    def poll(self) -> None:
        if self._asked is not None:
            return  # the last poll has not answered yet
        self._asked = (self.pinned, self._metrics_last, self._logs_last)
        self.session.runner.call(
            train_queries.run_update, *self._asked, on_done=self._apply, on_error=self._poll_failed
        )

    def _poll_failed(self, error) -> None:
        from ui.messages import explain

        self._asked = None
        self._say_state(f"Cannot read the run: {explain(error).what}", BAD)

    def _apply(self, update: dict[str, Any] | None) -> None:
        pinned, metrics_after, logs_after = self._asked
        self._asked = None
        if pinned != self.pinned:
            return  # the user chose another run meanwhile
        if update is None:
            self._say_state("No runs yet: launch one from the left.", MUTED)
            return
        if update["run_id"] != self.run_id:
            self._reset(update["run_id"])
            if metrics_after or logs_after:
                return  # rows after the old run's ids; ask again from the start
        self._append(update)

    def _append(self, update: dict[str, Any]) -> None:
        progress = update["progress"]
        if update["metrics"]:
            self.charts.append(self.run_id, update["metrics"])
        self._metrics_last = update["metrics_last"]
        for when, message in update["logs"]:
            self.log.appendPlainText(
                f"{time.strftime('%H:%M:%S', time.localtime(when))}  {message}"
            )
        self._logs_last = update["logs_last"]
        self.samples.set_online(progress["algorithm"] in ONLINE_ALGORITHMS)
        self.samples.set_steps(update["sample_steps"], update["sample_rows"])
        self._show_progress(progress)
        live = progress["status"] == "running" or update["metrics"]
        self.timer.setInterval(LIVE_MS if live else IDLE_MS)

    def _show_progress(self, progress: dict[str, Any]) -> None:
        first = self.progress is None
        self.progress = progress
        if first:
            self.charts.set_run_label(self.run_id, progress["name"] or f"run {self.run_id}")
        self.bar.setRange(0, max(progress["max_steps"] or 0, 1))
        self.bar.setValue(min(progress["step"], progress["max_steps"] or 0))
        self.eta.setText(progress_text(progress))
        self.controls.show_progress(progress)
        name = progress["name"] or f"run {self.run_id}"
        status = progress["status"]
        if status == "failed":
            self._say_state(f"{name} failed: {progress['error'] or 'see the log'}", BAD)
        else:
            color = OK if status == "done" else MUTED
            self._say_state(f"{name} · {progress['algorithm']} · {status}", color)

    def _say_state(self, text: str, color: str) -> None:
        self.state.setText(text)
        self.state.setStyleSheet(f"color: {color};")
