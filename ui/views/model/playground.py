"""The playground: type a prompt, pick sampling settings, and see what the model says;
or what a checkpoint says, or two of them side by side with the same settings and seed.

Generate queues a `generate` job; the worker (started on demand) runs it; the poller's
job updates drive the progress bar and, at the end, the completions shown here.
"""

from __future__ import annotations

import html
import time

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from ui.job_follow import JobFollowing
from ui.poller import JobState
from ui.session import ProjectSession
from ui.style import BAD, MUTED, set_muted, set_primary
from ui.views.model.writer_picker import WriterPicker, checkpoint_writers
from ui.widgets import double_spin, spin
from workbench.data.models import ModelRecord
from workbench.project import Project

MAX_SEED = 2**31 - 1
FINISH = {"stop": "ended by the model", "length": "cut at max new tokens"}


def default_sampling(project: Project) -> dict:
    return project.setting("default_sampling", {}) or {}


class Playground(JobFollowing, QGroupBox):
    RUNNING_TEXT = "Generating…"

    def __init__(self, session: ProjectSession, parent: QWidget | None = None):
        super().__init__("Playground", parent)
        self.session = session
        self.model: ModelRecord | None = None
        self.job_id: int | None = None
        self.completions: list[dict] = []
        self.second_completions: list[dict] = []
        self._pending: list[dict] = []  # the side-by-side job, queued after the first
        self._titles: list[str] = []
        self._answering = 0  # which of the chosen writers the running job is for
        self._began = 0.0
        self._started = 0.0
        self.picker = WriterPicker()

        self.model_label = QLabel("No model selected.")
        set_muted(self.model_label)
        self.prompt = QPlainTextEdit(objectName="playgroundPrompt")
        self.prompt.setPlaceholderText(
            "Type a prompt, e.g. What is 7 * 8?   (Ctrl+Enter generates)"
        )
        self.prompt.setFixedHeight(84)
        self.generate_button = QPushButton("Generate")
        set_primary(self.generate_button)
        self.generate_button.setToolTip("Ctrl+Enter")
        self.generate_button.clicked.connect(self.generate)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(
                QKeySequence(keys),
                self,
                self.generate,
                context=Qt.ShortcutContext.WidgetWithChildrenShortcut,
            ).setWhatsThis("Generate in the playground")
        self.progress = QProgressBar()
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.results = QTextBrowser(objectName="playgroundResults")
        self.results.setPlaceholderText("Completions appear here.")
        self.second_results = QTextBrowser(objectName="playgroundResultsSecond")
        self.second_results.hide()

        layout = QVBoxLayout(self)
        layout.addWidget(self.model_label)
        layout.addWidget(self.picker)
        layout.addWidget(self.prompt)
        layout.addLayout(self._settings())
        row = QHBoxLayout()
        row.addWidget(self.generate_button)
        row.addWidget(self.cancel_button)
        row.addWidget(self.progress, 1)
        row.addStretch(0)  # keeps the buttons at their own width while the bar is hidden
        layout.addLayout(row)
        layout.addWidget(self.status)
        answers = QHBoxLayout()
        answers.addWidget(self.results, 1)
        answers.addWidget(self.second_results, 1)
        layout.addLayout(answers, 1)
        session.jobsChanged.connect(self._on_jobs)
        session.workerStatusChanged.connect(self._on_worker)
        session.runner.call(default_sampling, on_done=self.set_sampling)
        self.refresh_writers()

    def refresh_writers(self) -> None:
        """The checkpoints offered (a run may have written some since)."""
        self.session.runner.call(checkpoint_writers, on_done=self.picker.set_writers)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.refresh_writers()

    def _settings(self) -> QGridLayout:
        self.max_tokens = spin(1, 8192, 64)
        self.temperature = double_spin(0.0, 5.0, 1.0, 0.05)
        self.top_p = double_spin(0.01, 1.0, 1.0, 0.05)
        self.top_k = spin(0, 1000, 0, special="off")
        self.seed = spin(0, MAX_SEED, 0)
        self.n = spin(1, 64, 1)
        self.greedy = QCheckBox("Greedy (no sampling)")
        self.greedy.toggled.connect(self._greedy_toggled)
        grid = QGridLayout()
        grid.setHorizontalSpacing(8)
        fields = (
            ("Max new tokens", self.max_tokens),
            ("Temperature", self.temperature),
            ("Top-p", self.top_p),
            ("Top-k", self.top_k),
            ("Seed", self.seed),
            ("Samples", self.n),
        )
        for i, (label, widget) in enumerate(fields):
            grid.addWidget(QLabel(label), i // 2, (i % 2) * 2)
            grid.addWidget(widget, i // 2, (i % 2) * 2 + 1)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        grid.addWidget(self.greedy, 3, 0, 1, 4)
        return grid

    # Settings ------------------------------------------------------------------------
    def set_model(self, model: ModelRecord | None) -> None:
        self.model = model
        self.model_label.setText(
            f"Generates with {model.name}." if model else "No model selected: add one on the left."
        )

    def set_sampling(self, values: dict) -> None:
        self.max_tokens.setValue(int(values.get("max_new_tokens", self.max_tokens.value())))
        self.temperature.setValue(float(values.get("temperature", self.temperature.value())))
        self.top_p.setValue(float(values.get("top_p", self.top_p.value())))
        self.top_k.setValue(int(values.get("top_k", self.top_k.value())))
        self.seed.setValue(int(values.get("seed", self.seed.value())))
        self.greedy.setChecked(not values.get("do_sample", not self.greedy.isChecked()))

    def sampling(self) -> dict:
        return {
            "max_new_tokens": self.max_tokens.value(),
            "temperature": self.temperature.value(),
            "top_p": self.top_p.value(),
            "top_k": self.top_k.value(),
            "do_sample": not self.greedy.isChecked(),
            "seed": self.seed.value(),
        }

    @Slot(bool)
    def _greedy_toggled(self, greedy: bool) -> None:
        for widget in (self.temperature, self.top_p, self.top_k):
            widget.setEnabled(not greedy)

    # Running -------------------------------------------------------------------------
    @Slot()
    def generate(self) -> None:
        text = self.prompt.toPlainText().strip()
        if self.job_id is not None or not self.generate_button.isEnabled():
            return
        if not text:
            self._say("Type a prompt first.", BAD)
            return
        if self.model is None:
            self._say("Add or select a model first.", BAD)
            return
        common = {"texts": [text], "n": self.n.value(), "sampling": self.sampling(), "store": False}
        requests, self._titles = [], []
        for writer in self.picker.chosen():
            if writer is None:
                requests.append({"model_id": self.model.id, **common})
                self._titles.append(self.model.name)
            else:
                base = {} if writer.model_id is None else {"model_id": writer.model_id}
                requests.append({**base, "checkpoint_id": writer.checkpoint_id, **common})
                self._titles.append(writer.label)
        self.second_results.setVisible(len(requests) > 1)
        self.second_completions = []
        self._pending = requests[1:]
        self._answering = 0
        self._began = time.monotonic()
        self._submit("generate", requests[0])

    def _set_running(self, running: bool) -> None:
        self.generate_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.progress.setVisible(running)
        if running:
            self.progress.setRange(0, 0)  # busy until the job reports a total

    def _finish(self, job: JobState) -> None:
        self.job_id = None
        self._set_running(False)
        seconds = time.monotonic() - self._started
        pane = self.second_results if self._answering == 1 else self.results
        title = self._titles[self._answering] if self._titles else ""
        if job.status == "done":
            found = (job.result or {}).get("completions", [])
            if self._answering == 1:
                self.second_completions = found
            else:
                self.completions = found
            shown = completions_html(found)
            pane.setHtml(titled(title, shown) if title else shown)
            if self._pending:  # the first of two: now the second, same settings and seed
                self._answering += 1
                self._submit("generate", self._pending.pop(0))
                return
            if self._answering:
                both = time.monotonic() - self._began
                self._say(f"Both answered, same settings and seed, in {both:.1f} s.", MUTED)
            else:
                self._say(f"{len(found)} completion(s) in {seconds:.1f} s.", MUTED)
        elif job.status == "cancelled":
            self._pending = []
            self._say("Cancelled.", MUTED)
        else:
            self._pending = []
            pane.setHtml(
                f"<p style='color:{BAD}'><b>Generation failed.</b><br>"
                f"{html.escape(job.error or 'No reason was recorded.')}</p>"
            )
            self._say("Generation failed; see the message below and the worker log.", BAD)


def titled(title: str, body: str) -> str:
    return f"<p><b>{html.escape(title)}</b></p>{body}"


def completions_html(completions: list[dict]) -> str:
    parts = []
    for i, c in enumerate(completions, 1):
        finish = FINISH.get(c.get("finish_reason"), c.get("finish_reason") or "")
        meta = f"#{i} · {c.get('num_tokens', '?')} tokens · {finish}"
        parts.append(
            f"<p style='color:{MUTED}; margin:8px 0 2px 0'>{html.escape(meta)}</p>"
            "<table width='100%' cellspacing='0' cellpadding='8' bgcolor='#f1f4f8'>"
            "<tr><td><pre style='white-space:pre-wrap; margin:0'>"
            f"{html.escape(c.get('text', ''))}</pre></td></tr></table>"
        )
    return "".join(parts) or f"<p style='color:{MUTED}'>The model returned nothing.</p>"
