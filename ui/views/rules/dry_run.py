"""The dry run: sample a few completions per prompt and score them with the DRAFT rules
(a `rules_dry_run` job; nothing is stored), to see before training whether the reward
gives a learning signal."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from engine.rules import RuleSpec
from ui.job_follow import JobFollowing
from ui.poller import JobState
from ui.session import ProjectSession
from ui.style import BAD, MUTED, set_muted, set_primary
from ui.widgets import spin
from workbench.data.models import list_models
from workbench.data.prompts import split_counts
from workbench.project import Project
from workbench.training.checkpoint_names import checkpoint_label

INTRO = (
    "A dry run samples a few completions per prompt with the chosen model and scores them "
    "with the rules as they are in the editor, saved or not. Nothing is stored. It shows the "
    "spread of the reward, how often all samples of a prompt score the same (no signal for "
    "GRPO) and whether the reward follows length."
)


def load_choices(project: Project) -> dict:
    checkpoints = project.db.execute(
        "SELECT c.id, c.step, r.id, r.name, r.algorithm FROM checkpoints c "
        "LEFT JOIN runs r ON r.id = c.run_id "
        "ORDER BY c.id DESC LIMIT 50"
    ).fetchall()
    return {
        "splits": split_counts(project),
        "models": list_models(project),
        "default_model_id": project.setting("default_model_id"),
        "checkpoints": checkpoints,
    }


class DryRunPanel(JobFollowing, QWidget):
    RUNNING_TEXT = "Sampling…"
    JOB_NOUN = "the dry run"

    def __init__(self, session: ProjectSession, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.specs: list[RuleSpec] | None = []
        self.job_id: int | None = None
        self.running = False  # from Run until the job ends (the id comes a moment later)
        self.result_view = None  # DryRunResult, built with the first result (pyqtgraph)
        self._started = 0.0

        self.run_button = QPushButton("Run dry run")
        set_primary(self.run_button)
        self.run_button.clicked.connect(self.run)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.progress = QProgressBar()
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.intro = QLabel(INTRO, wordWrap=True)
        set_muted(self.intro)
        self.intro.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        row = QHBoxLayout()
        row.addWidget(self.run_button)
        row.addWidget(self.cancel_button)
        row.addWidget(self.progress, 1)
        row.addStretch(0)

        self.body = QVBoxLayout()
        self.body.addWidget(self.intro, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 10, 10, 10)
        layout.addLayout(self._controls())
        layout.addLayout(row)
        layout.addWidget(self.status)
        layout.addLayout(self.body, 1)
        session.jobsChanged.connect(self._on_jobs)
        session.workerStatusChanged.connect(self._on_worker)
        self._update_run()

    def _controls(self) -> QGridLayout:
        self.split = QComboBox(minimumContentsLength=10)
        self.limit = spin(1, 1000, 16)
        self.limit.setToolTip("How many prompts of the split to sample (the first ones)")
        self.n = spin(1, 64, 4)
        self.n.setToolTip(
            "Completions per prompt. Group-relative RL compares these: use at "
            "least 2, as many as your training run will"
        )
        self.model = QComboBox(minimumContentsLength=24)
        self.model.setToolTip("The base model, or a checkpoint's adapter on it")
        grid = QGridLayout()
        grid.setHorizontalSpacing(8)
        grid.addWidget(QLabel("Model"), 0, 0)
        grid.addWidget(self.model, 0, 1, 1, 5)
        fields = (("Split", self.split), ("Prompts", self.limit), ("Samples per prompt", self.n))
        for i, (label, widget) in enumerate(fields):
            grid.addWidget(QLabel(label), 1, i * 2)
            grid.addWidget(widget, 1, i * 2 + 1)
        grid.setColumnStretch(1, 2)
        grid.setColumnStretch(3, 1)
        grid.setColumnStretch(5, 1)
        return grid

    # Choices -------------------------------------------------------------------------
    def reload_choices(self) -> None:
        self.session.runner.call(load_choices, on_done=self._show_choices)

    def _show_choices(self, choices: dict) -> None:
        split, target = self.split.currentData(), self.model.currentData()
        self.split.clear()
        for name, count in choices["splits"].items():
            self.split.addItem(f"{name} ({count:,})", name)
        self.split.setCurrentIndex(max(self.split.findData(split or "train"), 0))
        self.model.clear()
        for model in choices["models"]:
            default = "  (default)" if model.id == choices["default_model_id"] else ""
            self.model.addItem(model.name + default, {"model_id": model.id})
        for checkpoint_id, step, run_id, name, algorithm in choices["checkpoints"]:
            self.model.addItem(
                checkpoint_label(checkpoint_id, step, run_id, name, algorithm),
                {"checkpoint_id": checkpoint_id},
            )
        default = {"model_id": choices["default_model_id"]}
        self.model.setCurrentIndex(max(self.model.findData(target or default), 0))
        self._update_run()

    def set_rules(self, specs: list[RuleSpec] | None) -> None:
        """The draft rule set; None while the draft has an error."""
        self.specs = specs
        self._update_run()

    def _update_run(self) -> None:
        enabled = [s for s in self.specs or [] if s.enabled]
        ready = bool(enabled) and self.split.count() > 0 and self.model.count() > 0
        self.run_button.setEnabled(ready and not self.running)
        if self.specs is None:
            why = "Fix the error in the rule form first."
        elif not enabled:
            why = "Enable or add a rule first."
        elif self.split.count() == 0:
            why = "The project has no prompts: import some in the Data view."
        elif self.model.count() == 0:
            why = "The project has no model: add one in the Model view."
        else:
            why = "Sample and score with the rules as they are in the editor"
        self.run_button.setToolTip(why)

    # Running -------------------------------------------------------------------------
    def params(self) -> dict:
        return {
            "rules": [spec.to_dict() for spec in self.specs or []],
            "split": self.split.currentData(),
            "limit": self.limit.value(),
            "n": self.n.value(),
            **(self.model.currentData() or {}),
        }

    @Slot()
    def run(self) -> None:
        if self.running or not self.run_button.isEnabled():
            return
        self._submit("rules_dry_run", self.params())

    def _set_running(self, running: bool) -> None:
        self.running = running
        self.cancel_button.setEnabled(running)
        self.progress.setVisible(running)
        if running:
            self.progress.setRange(0, 0)
        self.run_button.setEnabled(not running)
        if not running:
            self._update_run()

    def _finish(self, job: JobState) -> None:
        self.job_id = None
        self._set_running(False)
        if job.status == "done":
            self.show_result(job.result or {})
            seconds = time.monotonic() - self._started
            self._say(f"Dry run done in {seconds:.0f} s. Nothing was stored.", MUTED)
        elif job.status == "cancelled":
            self._say("Cancelled.", MUTED)
        else:
            self._say(f"The dry run failed: {job.error or 'no reason was recorded'}", BAD)

    def show_result(self, result: dict) -> None:
        if self.result_view is None:
            from ui.views.rules.dry_run_result import DryRunResult

            self.result_view = DryRunResult()
            self.body.removeWidget(self.intro)
            self.intro.hide()
            self.body.addWidget(self.result_view, 1)
        self.result_view.show_result(result)
