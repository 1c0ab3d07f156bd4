"""The live preview: the project's latest completions, plus one the user types, scored by
the DRAFT rules, so the effect of an edit shows before it is saved. Scoring runs off the
main thread, debounced; a result for an older draft is dropped."""

from __future__ import annotations

import functools
import time

from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from engine.rules import Item, RewardBatch, RuleSpec
from ui.messages import explain
from ui.poller import JobState
from ui.session import ProjectSession
from ui.style import BAD, MUTED, say, set_muted
from ui.views.common.param_editors import monospace_font
from ui.views.rules.score_table import ScoreTable, row_html
from ui.views.rules.scoring import LatestOnly, score_items
from workbench.data.completions import count_completions, list_completions
from workbench.data.prompts import get_prompt
from workbench.project import Project

PREVIEW_ROWS = 30
SCORE_DEBOUNCE_MS = 300
# A generate job that stores what it samples; sampled, so a prompt's two completions differ.
SAMPLE_JOB = {"limit": 8, "n": 2, "sampling": {"do_sample": True}}
SAMPLE_TEXT = "Sample 8 prompts × 2"
NOTICE_STYLE = (
    "QFrame#noCompletions { background: #f4f7fc; border: 1px solid #dbe4f3; border-radius: 6px; }"
)


def load_preview_rows(project: Project, limit: int = PREVIEW_ROWS) -> list[dict]:
    """The latest `limit` completions, newest first, with their prompt and reference."""
    total = count_completions(project)
    records = list_completions(project, limit=limit, offset=max(0, total - limit))
    prompts: dict[int, object] = {}
    rows = []
    for record in reversed(records):
        if record.prompt_id not in prompts:
            prompts[record.prompt_id] = get_prompt(project, record.prompt_id)
        prompt = prompts[record.prompt_id]
        rows.append(
            {
                "id": record.id,
                "prompt": prompt.display_text,
                "text": record.text,
                "reference": prompt.reference,
            }
        )
    return rows


class RulePreview(QWidget):
    def __init__(self, session: ProjectSession, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.rows: list[dict] = []
        self.rows_loaded = False
        self.specs: list[RuleSpec] | None = []
        self.items: list[Item] = []
        self.adhoc_rows = 0
        self.batch: RewardBatch | None = None
        self.sample_job: int | None = None
        self._requested: dict[int, tuple[list[Item], int]] = {}
        self._started = 0.0
        self.scorer = LatestOnly(self)
        self.scorer.finished.connect(self._scored)
        self.scorer.failed.connect(self._score_failed)
        self._timer = QTimer(self, singleShot=True, interval=SCORE_DEBOUNCE_MS)
        self._timer.timeout.connect(self.score_now)

        self.status = QLabel("")
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setWordWrap(True)
        self.table = ScoreTable()
        self.table.itemSelectionChanged.connect(self._show_details)
        self.details = QTextBrowser(objectName="previewDetails")
        self.details.setPlaceholderText("Select a row to read it in full, with every reason.")
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.table)
        splitter.addWidget(self.details)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)
        splitter.setSizes([300, 170])

        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 10, 10, 10)
        layout.addLayout(self._adhoc_inputs())
        layout.addWidget(self.status)
        layout.addWidget(self._notice())
        layout.addWidget(splitter, 1)
        session.jobsChanged.connect(self._on_jobs)

    def _adhoc_inputs(self) -> QGridLayout:
        self.adhoc_text = QPlainTextEdit(objectName="adhocCompletion")
        self.adhoc_text.setFont(monospace_font())
        self.adhoc_text.setPlaceholderText("Type a completion to score, e.g. The answer is 5.")
        self.adhoc_text.setFixedHeight(self.adhoc_text.fontMetrics().lineSpacing() * 2 + 16)
        self.adhoc_text.setTabChangesFocus(True)
        self.adhoc_reference = QLineEdit(objectName="adhocReference")
        self.adhoc_reference.setPlaceholderText("Its reference answer, e.g. 5")
        self.adhoc_text.textChanged.connect(self.schedule)
        self.adhoc_reference.textChanged.connect(self.schedule)
        grid = QGridLayout()
        grid.setHorizontalSpacing(8)
        grid.addWidget(QLabel("Try a completion"), 0, 0, Qt.AlignmentFlag.AlignTop)
        grid.addWidget(self.adhoc_text, 0, 1)
        grid.addWidget(QLabel("Reference"), 1, 0)
        grid.addWidget(self.adhoc_reference, 1, 1)
        grid.setColumnStretch(1, 1)
        return grid

    def _notice(self) -> QFrame:
        """Shown while the project has no stored completions: how to get some."""
        self.notice = QFrame(objectName="noCompletions")
        self.notice.setStyleSheet(NOTICE_STYLE)
        title = QLabel("<b>No stored completions yet.</b> Sample some, or run in a terminal:")
        title.setWordWrap(True)
        self.command = QLineEdit(objectName="generateCommand", readOnly=True)
        self.command.setFont(monospace_font())
        self.command.setToolTip("Select and copy. The playground's completions are not stored.")
        hint = QLabel("The row you type above is scored meanwhile.")
        set_muted(hint)
        self.sample_button = QPushButton(SAMPLE_TEXT)
        self.sample_button.setToolTip(
            "Queue a generate job with the default model; what it samples is stored and shows here"
        )
        self.sample_button.clicked.connect(self.sample_completions)
        text = QVBoxLayout()
        text.setSpacing(4)
        for widget in (title, self.command, hint):
            text.addWidget(widget)
        layout = QHBoxLayout(self.notice)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.addLayout(text, 1)
        layout.addWidget(self.sample_button, 0, Qt.AlignmentFlag.AlignTop)
        self.notice.hide()
        return self.notice

    # Inputs --------------------------------------------------------------------------
    def set_rules(self, specs: list[RuleSpec] | None) -> None:
        """The draft rule set; None while the draft has an error."""
        self.specs = specs
        self.schedule()

    def reload_rows(self) -> None:
        self.session.runner.call(load_preview_rows, on_done=self._rows_loaded)

    def _rows_loaded(self, rows: list[dict]) -> None:
        self.rows, self.rows_loaded = rows, True
        self.command.setText(f'workbench generate "{self.session.path}" --limit 8 --n 2 --sample')
        self.command.setCursorPosition(0)
        self.notice.setVisible(not rows)
        self.schedule()

    def adhoc_item(self) -> Item | None:
        text = self.adhoc_text.toPlainText()
        if not text.strip():
            return None
        return Item(text, self.adhoc_reference.text().strip() or None, None)

    # Scoring -------------------------------------------------------------------------
    @Slot()
    def schedule(self) -> None:
        self._timer.start()

    @Slot()
    def score_now(self) -> None:
        self._timer.stop()
        self.table.setEnabled(self.specs is not None)  # grey: the scores are of an older draft
        if self.specs is None:
            self._say("The draft has an error: fix it to update the scores.", BAD)
            return
        adhoc = self.adhoc_item()
        stored = [Item(r["text"], r["reference"], r["prompt"]) for r in self.rows]
        items = ([adhoc] if adhoc else []) + stored
        if not items:
            self.table.setRowCount(0)
            self._say("Type a completion above to see how the rules score it.", MUTED)
            return
        self._started = time.monotonic()
        generation = self.scorer.request(functools.partial(score_items, list(self.specs), items))
        self._requested = {generation: (items, 1 if adhoc else 0)}
        self._say("Scoring with the draft rules…", MUTED)

    @Slot(int, object)
    def _scored(self, generation: int, batch: RewardBatch) -> None:
        request = self._requested.pop(generation, None)
        if request is None:
            return
        (self.items, self.adhoc_rows), self.batch = request, batch
        self.table.fill(self.items, batch, self.adhoc_rows)
        self._show_details()
        if not batch.per_rule:
            self._say("No enabled rule: enable or add one to see scores.", MUTED)
            return
        seconds = time.monotonic() - self._started
        count = f"{len(self.items)} completion{'s' if len(self.items) != 1 else ''}"
        self._say(
            f"Scored {count} with the rules as edited in {seconds:.1f} s; select a row for "
            "the full reasons.",
            MUTED,
        )

    @Slot(int, object)
    def _score_failed(self, generation: int, error) -> None:
        if self._requested.pop(generation, None) is not None:
            problem = explain(error, "Scoring")
            self._say(f"{problem.what} {problem.todo}".strip(), BAD)

    @Slot()
    def _show_details(self) -> None:
        row = self.table.currentRow()
        if self.batch is None or not 0 <= row < len(self.items):
            self.details.clear()
            return
        self.details.setHtml(row_html(self.items[row], self.batch, row))

    def _say(self, text: str, color: str) -> None:
        say(self.status, text, color)

    # Sampling completions when there are none ----------------------------------------
    @Slot()
    def sample_completions(self) -> None:
        self.sample_button.setEnabled(False)
        self.sample_button.setText("Sampling…")
        self.session.submit_job(
            "generate", dict(SAMPLE_JOB), self._sample_queued, self._sample_failed
        )

    def _sample_queued(self, job_id: int) -> None:
        self.sample_job = job_id

    def _sample_failed(self, error) -> None:
        self._sample_ended(f"Could not sample: {explain(error).what}")

    @Slot(object)
    def _on_jobs(self, jobs: dict[int, JobState]) -> None:
        job = jobs.get(self.sample_job) if self.sample_job is not None else None
        if job is None or job.active:
            return
        self.sample_job = None
        if job.status == "done":
            self._sample_ended("")
            self.reload_rows()
        else:
            self._sample_ended(f"Sampling {job.status}: {job.error or 'see the worker log'}")

    def _sample_ended(self, problem: str) -> None:
        self.sample_button.setEnabled(True)
        self.sample_button.setText(SAMPLE_TEXT)
        if problem:
            self._say(problem, BAD)
