"""The Label view: a human compares completions of a prompt, two side by side or N in a
ranking, by keys; every label is stored the moment it is made, and Undo deletes it.

All database work runs on the session's database thread (`workbench.labels.queue`), in
order, so the window stays responsive whatever the worker or a training run does. The
keys are ignored while an answer is being stored, so one key press is one label.
"""

from __future__ import annotations

import functools
import time

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QStackedWidget, QVBoxLayout, QWidget

from ui.messages import explain
from ui.poller import JobState
from ui.session import ProjectSession
from ui.style import BAD, MUTED, say
from ui.views.common.label_keys import add_shortcuts
from ui.views.label.auto_label_dialog import AutoLabelDialog
from ui.views.label.auto_label_job import AutoLabelJob
from ui.views.label.candidate_dialog import CandidateDialog
from ui.views.label.candidate_job import CandidateJob
from ui.views.label.consistency import ConsistencyPanel
from ui.views.label.empty import LabelEmptyState
from ui.views.label.pair_panel import UNDO_KEYS, LabelPairPanel
from ui.views.label.progress import LabelProgressBar
from ui.views.label.rank_panel import LabelRankPanel
from ui.views.label.toolbar import LabelToolbar
from ui.widgets import view_header
from workbench.labels import consistency
from workbench.labels import queue as label_queue
from workbench.labels.auto_label import auto_label_choices
from workbench.labels.candidates import generate_params, generation_choices
from workbench.labels.queue import LabelSession, Made, NothingToUndo, Served, Task

SAID = {"a": "left better", "b": "right better", "tie": "tie", "both_bad": "both bad"}


class LabelView(QWidget):
    viewRequested = Signal(str)

    def __init__(self, session: ProjectSession, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.labels = LabelSession()  # touched only through session.runner (see label_queue)
        self.task: Task | None = None
        self.busy = False
        self.choices: dict | None = None
        self._shown_at = 0.0
        self.toolbar = LabelToolbar()
        self.job = CandidateJob(session)
        self.auto_job = AutoLabelJob(session)
        self.pair = LabelPairPanel()
        self.rank = LabelRankPanel()
        self.empty = LabelEmptyState()
        self.loading = QLabel("Loading…")
        self.progress = LabelProgressBar()
        self.consistency = ConsistencyPanel()
        self.status = QLabel("", wordWrap=True)
        self._layout()
        self._connect()
        self.refresh_choices()
        session.runner.call(consistency.recheck_share, on_done=self.consistency.set_share)
        self.reload()

    def _layout(self) -> None:
        header, _, _ = view_header(
            "Label",
            "Compare completions of a prompt: which is better, by keys. Each label "
            "is stored at once; the sides are drawn at random.",
        )
        self.stack = QStackedWidget()
        for page in (self.loading, self.pair, self.rank, self.empty):
            self.stack.addWidget(page)
        footer = QHBoxLayout()
        footer.addWidget(self.progress, 1)
        footer.addWidget(self.consistency)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 16)
        layout.addWidget(header)
        layout.addWidget(self.toolbar)
        layout.addWidget(self.job)
        layout.addWidget(self.auto_job)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.status)
        layout.addLayout(footer)

    def _connect(self) -> None:
        self.toolbar.changed.connect(self.reload)
        self.toolbar.generateRequested.connect(self.ask_generate)
        self.toolbar.autoLabelRequested.connect(self.ask_auto_label)
        self.pair.answered.connect(self.answer)
        self.rank.ranked.connect(self.submit_ranking)
        self.rank.allBad.connect(self.submit_all_bad)
        for panel in (self.pair, self.rank):
            panel.skipped.connect(self.skip)
            panel.undoRequested.connect(self.undo)
        self.empty.generateRequested.connect(self.ask_generate)
        self.empty.unskipRequested.connect(self.unskip)
        self.empty.dataRequested.connect(lambda: self.viewRequested.emit("Data"))
        self.empty.undoRequested.connect(self.undo)
        add_shortcuts(self, UNDO_KEYS, self.undo, "Undo the last label")
        self.consistency.shareChanged.connect(self.set_share)
        self.job.finished.connect(self._generated)
        self.auto_job.finished.connect(self._generated)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.refresh_choices()  # a run may have written checkpoints since
        if self.task is None and not self.busy:
            self.reload()  # candidates may have come from elsewhere (e.g. the command line)
        elif self.task is not None:
            self._panel().setFocus()

    # Loading ---------------------------------------------------------------------------
    def refresh_choices(self) -> None:
        self.session.runner.call(generation_choices, on_done=self._fill_choices)

    def _fill_choices(self, choices: dict) -> None:
        self.choices = choices
        self.toolbar.set_choices(choices)

    @Slot()
    def reload(self) -> None:
        """Serve a fresh task for the current mode and filters (the shown one is dropped)."""
        self.busy = True
        self.task = None
        self._call(
            label_queue.serve,
            self.labels,
            self.toolbar.filters(),
            self.toolbar.mode(),
            self.toolbar.size(),
            on_done=self._served,
        )

    def _served(self, served: Served) -> None:
        self.busy = False
        self._show_progress(served.progress)
        if served.task is None:
            self.task = None
            self.empty.show_for(served.progress, self.toolbar.scope_text())
            self.stack.setCurrentWidget(self.empty)
        else:
            self._show_task(served.task)

    def _show_task(self, task: Task) -> None:
        self.task = task
        panel = self.rank if task.mode == "rank" else self.pair
        panel.show_task(task)
        self.stack.setCurrentWidget(panel)
        self._shown_at = time.monotonic()
        panel.setFocus()  # a new task starts with the keys labelling, not in the note

    def _panel(self) -> LabelPairPanel | LabelRankPanel:
        return self.rank if self.stack.currentWidget() is self.rank else self.pair

    def _show_progress(self, progress) -> None:
        self.progress.show_progress(progress)
        self.consistency.show_agreement(progress.agreement)

    # Answers ---------------------------------------------------------------------------
    def _ready(self) -> bool:
        return self.task is not None and not self.busy and self.isVisible()

    def _seconds(self) -> float:
        return time.monotonic() - self._shown_at

    @Slot(str)
    def answer(self, outcome: str) -> None:
        if not self._ready() or self.task.mode != "pair":
            return
        self.busy = True
        note = self.pair.note.take()
        self.session.runner.call(
            label_queue.record_pair,
            self.labels,
            self.task,
            outcome,
            self._seconds(),
            note,
            on_done=functools.partial(self._stored, SAID[outcome]),
            on_error=functools.partial(self._not_stored, self.pair.note, note),
        )

    @Slot(list)
    def submit_ranking(self, ranking: list[int]) -> None:
        if not self._ready() or self.task.mode != "rank":
            return
        self.busy = True
        note = self.rank.note.take()
        self.session.runner.call(
            label_queue.record_ranking,
            self.labels,
            self.task,
            ranking,
            self._seconds(),
            note,
            on_done=functools.partial(self._stored, "ranking"),
            on_error=functools.partial(self._not_stored, self.rank.note, note),
        )

    def submit_all_bad(self) -> None:
        if not self._ready() or self.task.mode != "rank":
            return
        self.busy = True
        note = self.rank.note.take()
        self.session.runner.call(
            label_queue.record_all_bad,
            self.labels,
            self.task,
            self._seconds(),
            note,
            on_done=functools.partial(self._stored, "all bad"),
            on_error=functools.partial(self._not_stored, self.rank.note, note),
        )

    def _stored(self, what: str, made: Made) -> None:  # then the next task
        self._say(f"Stored: {what} ({made.seconds:.1f} s). Undo with Ctrl+Z or U.", MUTED)
        self.reload()

    def _not_stored(self, field, note: str, error) -> None:
        field.setText(note)  # the task stays; the note is there for the next try
        self._failed(error)

    @Slot()
    def skip(self) -> None:
        if not self._ready():
            return
        self.busy = True
        self._say("Skipped for this sitting; it comes back once the rest is done.", MUTED)
        self._call(label_queue.skip, self.labels, self.task, on_done=self._reload_after)

    @Slot()
    def unskip(self) -> None:
        self._call(label_queue.unskip, self.labels, on_done=self._reload_after)

    def _reload_after(self, _result) -> None:
        self.reload()

    @Slot()
    def undo(self) -> None:
        if self.busy or not self.isVisible():
            return
        self.busy = True
        self._call(label_queue.undo, self.labels, on_done=self._undone)

    def _undone(self, made: Made) -> None:
        self.busy = False
        task = made.task
        if made.kind == "skip":
            self._say("Undone: the skipped task is back.", MUTED)
        else:
            self._say("Undone: that label is deleted. Label it again, or skip it.", MUTED)
        self.toolbar.show_mode(task.mode)
        self._show_task(task)
        self._call(
            label_queue.progress, self.labels, self.toolbar.filters(), on_done=self._show_progress
        )

    # Settings and candidates -----------------------------------------------------------
    @Slot(float)
    def set_share(self, share: float) -> None:
        text = (
            f"{share:.0%} of labelled pairs will be shown again."
            if share
            else "Labelled pairs are no longer shown again."
        )
        self._call(
            consistency.set_recheck_share, share, on_done=lambda _share: self._say(text, MUTED)
        )

    @Slot()
    def ask_generate(self) -> None:
        if self.choices is None or self.job.running:
            self._say(
                "A generation is already running; wait for it or cancel it."
                if self.job.running
                else "Still loading the models; try again.",
                BAD,
            )
            return
        n = self.toolbar.size() if self.toolbar.mode() == "rank" else 2
        dialog = CandidateDialog(self, self.choices, n, self.toolbar.filters().split)
        if dialog.exec():
            self.generate(dialog.request())

    def generate(self, request) -> None:
        self._call(generate_params, request, on_done=self.job.start)

    def ask_auto_label(self) -> None:
        if self.auto_job.running:
            self._say("A labelling job is already running; wait for it or cancel it.", BAD)
            return
        self._call(auto_label_choices, on_done=self._open_auto_label)

    def _open_auto_label(self, choices: dict) -> None:
        dialog = AutoLabelDialog(self, choices, self.toolbar.filters().split)
        if dialog.exec():
            self.auto_job.start_labelling(dialog.request())

    def _generated(self, job: JobState) -> None:
        if job.status != "done":
            return
        if self.task is None and not self.busy:
            self.reload()
        else:  # the rater is reading a task: keep it, update the counts
            self._call(
                label_queue.progress,
                self.labels,
                self.toolbar.filters(),
                on_done=self._show_progress,
            )

    # Plumbing --------------------------------------------------------------------------
    def _call(self, fn, *args, on_done) -> None:
        self.session.runner.call(fn, *args, on_done=on_done, on_error=self._failed)

    def _failed(self, error) -> None:
        self.busy = False
        original = getattr(error, "original", error)
        if isinstance(original, NothingToUndo):
            self._say(str(original), MUTED)
        else:
            self._say(explain(error).what, BAD)
        if self.task is None and self.stack.currentWidget() is self.loading:
            self.loading.setText("Could not load the next task; see the message below.")

    def _say(self, text: str, color: str) -> None:
        say(self.status, text, color)
