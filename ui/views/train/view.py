"""The Train view: configure a run on the left (algorithm and its settings, LoRA, the
labels and the dataset they give, or for an online algorithm the prompts and the reward,
the memory fit, presets), launch it as a job; on the right the queue of runs and the
monitor of the running or chosen run."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from engine.algorithms.registry import spec
from engine.training.config import ONLINE_ALGORITHMS
from ui.messages import explain
from ui.session import ProjectSession
from ui.style import BAD, MUTED, OK, set_primary
from ui.views.common.fit_panel import FitPanel
from ui.views.train.dataset_counts import DataSelection, DatasetCounts
from ui.views.train.fit import fit_shape
from ui.views.train.form import TrainForm
from ui.views.train.presets import PresetBar
from ui.views.train.prompt_counts import PromptCounts
from ui.views.train.queue import TrainQueue
from ui.views.train.reward_selection import RewardSelection
from ui.views.train.run_monitor import RunMonitor
from ui.views.train.start_point import StartPoint
from ui.views.train.sweep_dialog import SweepDialog
from ui.widgets import view_header
from workbench.data.models import default_model
from workbench.training.config import RunConfig, project_defaults, with_defaults
from workbench.training.sweeps import queue_sweep

PRECISION_DTYPES = {"fp32": "float32", "bf16": "bfloat16", "fp16": "float16"}


def scrolled(widget: QWidget) -> QScrollArea:
    area = QScrollArea(widgetResizable=True, frameShape=QScrollArea.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    area.setWidget(widget)
    return area


class TrainView(QWidget):
    def __init__(self, session: ProjectSession, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.job_id: int | None = None
        self.form = TrainForm()
        self.data = DataSelection()
        self.start = StartPoint(session)
        self.counts = DatasetCounts(session)
        self.reward = RewardSelection(session)
        self.prompt_counts = PromptCounts()
        self.fit = FitPanel(session)
        self.fit_note = QLabel(wordWrap=True, objectName="fitShape")
        self.fit_note.setProperty("muted", True)
        self.presets = PresetBar(session, self.config, self.set_config)
        self.queue = TrainQueue(session)
        self.monitor = RunMonitor(session, self.queue)
        self.launch_button = QPushButton("Launch run")
        set_primary(self.launch_button)
        self.launch_button.clicked.connect(self.launch)
        self.sweep_button = QPushButton("Sweep…", objectName="sweepButton")
        self.sweep_button.setToolTip(
            "Queue a grid of runs over one or two settings (e.g. beta × learning rate, or "
            "seeds) as one sweep; the Runs view's Sweeps tab compares them"
        )
        self.sweep_button.clicked.connect(self.open_sweep)
        self.problem = QLabel(objectName="launchProblem", wordWrap=True)
        self._changed_timer = QTimer(self, singleShot=True, interval=150)
        self._changed_timer.timeout.connect(self._refresh_dependents)
        self._layout()
        self.form.changed.connect(self._changed)
        self.data.changed.connect(self._changed)
        self.reward.changed.connect(self._changed)
        self.start.changed.connect(self._changed)
        self.presets.message.connect(self._message)
        self.queue.runSelected.connect(self.monitor.follow)
        self.queue.countChanged.connect(self._queue_count)
        session.runner.call(project_defaults, on_done=self._defaults)
        session.runner.call(default_model, on_done=self.fit.set_model, on_error=self.fit._failed)
        self._changed()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.start.refresh()  # runs elsewhere may have written checkpoints since
        self.reward.refresh()  # and rules, judges and reward models may have changed

    def _layout(self) -> None:
        data_page = QWidget()
        data_layout = QVBoxLayout(data_page)
        data_layout.addWidget(self.start)
        data_layout.addWidget(self.data)
        data_layout.addWidget(self.reward)
        data_layout.addWidget(self.counts)
        data_layout.addWidget(self.prompt_counts)
        data_layout.addStretch(1)
        memory_page = QWidget()
        memory_layout = QVBoxLayout(memory_page)
        memory_layout.addWidget(self.fit)
        memory_layout.addWidget(self.fit_note)
        memory_layout.addStretch(1)
        self.tabs = QTabWidget()
        self.tabs.addTab(scrolled(self.form), "Settings")
        self.tabs.addTab(scrolled(data_page), "Data")
        self.tabs.addTab(scrolled(memory_page), "Memory")
        launch = QHBoxLayout()
        launch.addWidget(self.problem, 1)
        launch.addWidget(self.sweep_button)
        launch.addWidget(self.launch_button)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 6, 0)
        left_layout.addWidget(self.tabs, 1)
        left_layout.addWidget(self.presets)
        left_layout.addLayout(launch)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(6, 0, 0, 0)
        right_layout.addWidget(self.monitor, 1)
        splitter = QSplitter(Qt.Orientation.Horizontal, childrenCollapsible=False)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setSizes([370, 790])
        splitter.setStretchFactor(1, 1)
        header, _, _ = view_header(
            "Train", "Align the model on your labels; watch and steer the run as it trains."
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 16)
        layout.addWidget(header)
        layout.addWidget(splitter, 1)

    # The config ------------------------------------------------------------------------
    def online(self) -> bool:
        return self.form.current_algorithm() in ONLINE_ALGORITHMS

    def config(self) -> dict[str, Any]:
        """The run config dictionary the form shows (may be invalid): an online run's
        reward keys, or an offline run's label selection."""
        what = self.reward.values() if self.online() else {}
        return {**self.start.values(), **self.data.values(), **what, **self.form.config()}

    def set_config(self, config: dict[str, Any]) -> None:
        self.form.set_config(config)
        self.data.set_values(config)
        self.reward.set_values(config)
        self.start.set_values(config)
        self._changed()

    def _defaults(self, defaults: dict[str, Any]) -> None:
        if not defaults:
            return
        self.form.set_defaults(defaults)
        run_keys = with_defaults({"algorithm": self.form.current_algorithm()}, defaults)
        self.data.set_values(run_keys)
        self.reward.set_values(run_keys)
        self.start.set_values(run_keys)
        self._changed()

    def validate(self) -> RunConfig | None:
        """The config, or None with the problem shown next to Launch (disabled)."""
        try:
            config = RunConfig.from_dict(self.config())
        except (ValueError, TypeError) as error:
            self._say(str(error), BAD)
            self.launch_button.setEnabled(False)
            return None
        problem = self.reward.problem() if self.online() else None
        if problem:
            self._say(problem, BAD)
            self.launch_button.setEnabled(False)
            return None
        self.launch_button.setEnabled(True)
        if self.problem.property("kind") == "invalid":
            self._say("", MUTED)
        return config

    @Slot()
    def _changed(self) -> None:
        online = self.online()
        self.data.set_online(online)
        self.reward.setVisible(online)
        self.prompt_counts.setVisible(online)
        self.counts.setVisible(not online)
        if self.validate() is None:
            self.problem.setProperty("kind", "invalid")
        self._changed_timer.start()

    @Slot()
    def _refresh_dependents(self) -> None:
        config = self.config()
        prompts = self.reward.prompt_counts()
        if self.online():
            self.prompt_counts.show_counts(prompts, config.get("eval_prompts"), run=config)
        else:
            trains_on = spec(config["algorithm"]).data
            self.counts.refresh(
                self.data.values(),
                seed=config.get("seed", 0),
                demonstrations=config.get("sft_source") if trains_on == "demonstrations" else None,
                run=config,
            )
        fit = self.fit
        batch, seq_len, line = fit_shape(config, prompts and prompts["longest"])
        self.fit_note.setText(line)
        for box, value in (
            (fit.rank, config["lora"].get("r")),
            (fit.batch, batch),
            (fit.seq_len, seq_len),
        ):
            if isinstance(value, int):
                box.setValue(value)
        fit.training.setChecked(True)
        fit.set_checkpointing(config.get("gradient_checkpointing", "auto"))
        # The weights are held in base_dtype where it is set; else the autocast's dtype.
        base_dtype = config.get("base_dtype", "auto")
        dtype = (
            base_dtype if base_dtype != "auto" else PRECISION_DTYPES.get(config.get("precision"))
        )
        if dtype and fit.dtype.findData(dtype) >= 0:
            fit.dtype.setCurrentIndex(fit.dtype.findData(dtype))

    # Launch ----------------------------------------------------------------------------
    def launch(self) -> None:
        config = self.validate()
        if config is None:
            return
        self.launch_button.setEnabled(False)
        self._say("Queuing the run…", MUTED)
        self.session.submit_job(
            "train", {"config": config.to_dict()}, self._launched, self._launch_failed
        )

    def open_sweep(self) -> None:
        config = self.validate()
        if config is None:
            return
        dialog = SweepDialog(config.to_dict(), self)
        if dialog.exec() != SweepDialog.DialogCode.Accepted:
            return
        self._say("Queuing the sweep…", MUTED)
        self.session.runner.call(
            queue_sweep,
            config.to_dict(),
            dialog.grid(),
            {},
            on_done=self._sweep_queued,
            on_error=self._launch_failed,
        )

    def _sweep_queued(self, queued: tuple[int, list[int]]) -> None:
        sweep_id, job_ids = queued
        self._say(f"Sweep {sweep_id}: {len(job_ids)} runs queued.", OK)
        self.queue.reload()
        self.monitor.follow(None)

    def _launched(self, job_id: int) -> None:
        self.job_id = job_id
        self.launch_button.setEnabled(True)
        self._say(f"Queued as job {job_id}.", OK)
        self.queue.reload()
        self.monitor.follow(None)

    def _launch_failed(self, error) -> None:
        self.launch_button.setEnabled(True)
        self._say(f"Could not queue the run: {explain(error).what}", BAD)

    @Slot(int)
    def _queue_count(self, count: int) -> None:
        tabs = self.monitor.tabs
        tabs.setTabText(tabs.indexOf(self.queue), f"Queue ({count})" if count else "Queue")

    @Slot(str, bool)
    def _message(self, text: str, problem: bool) -> None:
        self._say(text, BAD if problem else OK)

    def _say(self, text: str, color: str) -> None:
        self.problem.setProperty("kind", "")
        self.problem.setText(text)
        self.problem.setStyleSheet(f"color: {color};")
