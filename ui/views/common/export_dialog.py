"""Export a checkpoint: as its LoRA adapter, a merged Hugging Face model, a GGUF file for
llama.cpp, or a GGUF plus Modelfile for Ollama. Reused wherever a checkpoint is shown
(the Runs view, the Compare view): construct it with the checkpoint id.

The request is checked on the database thread first (destination, base model, free
space, whether GGUF can take the architecture), then the ``export_model`` job runs in
the worker with progress and Cancel; a cancelled or failed export leaves nothing.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QUrl, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from engine.export.formats import GGUF_DTYPES, MERGED_DTYPES
from ui.job_follow import JobFollowing
from ui.messages import explain
from ui.poller import JobState
from ui.session import ProjectSession
from ui.style import BAD, MUTED, set_muted, set_primary
from workbench.exporting.request import ExportRequest, check_request

FORMAT_CHOICES = (
    ("adapter", "LoRA adapter (small; loads on its base with peft)"),
    ("merged", "Merged model (a standalone Hugging Face folder)"),
    ("gguf", "GGUF file (llama.cpp, LM Studio)"),
    ("ollama", "Ollama (GGUF + Modelfile)"),
)
DEFAULT_DTYPE = "default"


def _dtypes(fmt: str) -> tuple[str, ...]:
    if fmt == "adapter":
        return ()
    return MERGED_DTYPES if fmt == "merged" else GGUF_DTYPES


def _mib(size: int) -> str:
    return f"{size / 2**20:.1f} MiB"


def _checked(project, request: ExportRequest) -> ExportRequest:
    check_request(project, request)
    return request


class ExportDialog(JobFollowing, QDialog):
    RUNNING_TEXT = "Exporting…"
    JOB_NOUN = "the export"

    def __init__(self, session: ProjectSession, checkpoint_id: int, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.checkpoint_id = checkpoint_id
        self.job_id: int | None = None
        self.out_dir: Path | None = None
        self.setWindowTitle(f"Export checkpoint {checkpoint_id}")
        self.setMinimumWidth(560)

        self.format = QComboBox(objectName="exportFormat")
        for value, text in FORMAT_CHOICES:
            self.format.addItem(text, value)
        self.dtype = QComboBox(objectName="exportDtype")
        self.folder = QLineEdit(objectName="exportFolder")
        self.folder.setText(str(session.path / "exports" / f"checkpoint-{checkpoint_id}"))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(browse)
        self.overwrite = QCheckBox("Overwrite the folder if it exists")
        self.note = QLabel(wordWrap=True)
        set_muted(self.note)
        self.status = QLabel(wordWrap=True)
        self.progress = QProgressBar(visible=False)
        self.export_button = QPushButton("Export", objectName="exportStart")
        set_primary(self.export_button)
        self.export_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel export", enabled=False)
        self.cancel_button.clicked.connect(self.cancel)
        self.open_button = QPushButton("Open folder", visible=False)
        self.open_button.clicked.connect(self._open_folder)
        close = QPushButton("Close")
        close.clicked.connect(self.reject)

        form = QFormLayout()
        form.addRow("Format", self.format)
        form.addRow("Weights", self.dtype)
        form.addRow("Folder", folder_row)
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_button)
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.export_button)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.overwrite)
        layout.addWidget(self.note)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addLayout(buttons)

        self.format.currentIndexChanged.connect(self._format_changed)
        self._format_changed()
        session.jobsChanged.connect(self._on_jobs)
        session.workerStatusChanged.connect(self._on_worker)

    # The request --------------------------------------------------------------------
    def request(self) -> ExportRequest:
        dtype = self.dtype.currentData()
        return ExportRequest(
            checkpoint_id=self.checkpoint_id,
            format=self.format.currentData(),
            out_dir=str(Path(self.folder.text().strip()).expanduser()),
            dtype=None if dtype == DEFAULT_DTYPE else dtype,
            overwrite=self.overwrite.isChecked(),
        )

    @Slot()
    def _format_changed(self, *_args) -> None:
        fmt = self.format.currentData()
        self.dtype.clear()
        choices = _dtypes(fmt)
        self.dtype.setEnabled(bool(choices))
        self.dtype.addItem(
            "f16" if fmt in ("gguf", "ollama") else "as the base model", DEFAULT_DTYPE
        )
        for value in choices:
            self.dtype.addItem(value, value)
        notes = {
            "adapter": "The adapter's weights and config, pointing at its base model, and a "
            "model card with the run's algorithm, data, metrics and evaluations.",
            "merged": "Base + adapter in one folder (safetensors, tokenizer, chat template); "
            "transformers loads it without this app.",
            "gguf": "One .gguf file with the chat template and stop tokens inside; q8_0 "
            "is about half the size of f16.",
            "ollama": "A .gguf file and a Modelfile. Import it from the folder with "
            "“ollama create NAME -f Modelfile” (the exact command is shown when done).",
        }
        self.note.setText(notes[fmt])

    @Slot()
    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export into", self.folder.text())
        if folder:
            self.folder.setText(str(Path(folder) / f"checkpoint-{self.checkpoint_id}"))

    # Running -------------------------------------------------------------------------
    @Slot()
    def start(self) -> None:
        request = self.request()
        self.open_button.hide()
        self._say("Checking…", MUTED)
        self.export_button.setEnabled(False)
        self.session.runner.call(_checked, request, on_done=self._checked, on_error=self._refused)

    def _checked(self, request: ExportRequest) -> None:
        self.out_dir = Path(request.out_dir)
        self._submit("export_model", request.to_params())

    def _refused(self, error) -> None:
        self.export_button.setEnabled(True)
        problem = explain(error)
        self._say(f"{problem.what} {problem.todo}".strip(), BAD)

    def _set_running(self, running: bool) -> None:
        self.progress.setVisible(running)
        if running:
            self.progress.setRange(0, 0)
        self.cancel_button.setEnabled(running)
        self.export_button.setEnabled(not running)
        self.format.setEnabled(not running)
        self.folder.setEnabled(not running)

    def _finish(self, job: JobState) -> None:
        self.job_id = None
        self._set_running(False)
        if job.status == "done":
            result = job.result or {}
            seconds = time.monotonic() - self._started
            text = (
                f"Exported {len(result.get('files', []))} file(s), "
                f"{_mib(result.get('bytes', 0))}, in {seconds:.0f} s to {result.get('out_dir')}."
            )
            if result.get("ollama_command"):
                text += f" Import it into Ollama from that folder: {result['ollama_command']}"
            self._say(text, MUTED)
            self.open_button.show()
        elif job.status == "cancelled":
            self._say("Export cancelled; nothing was written.", MUTED)
        else:
            self._say(f"The export failed: {job.error or 'no reason was recorded'}", BAD)

    @Slot()
    def _open_folder(self) -> None:
        if self.out_dir is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.out_dir)))
