"""Import and export of prompts, run in the background with a progress dialog and Cancel,
ending in a summary or in a clear list of what went wrong."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QWidget

from ui.background import BackgroundTask, TaskControl, TaskError, run_in_background
from ui.messages import show_error, show_info
from ui.progress import TaskProgressDialog
from ui.views.data.import_dialogs import ImportErrorsDialog
from workbench.project import Project


def _import(project_path: Path, file: Path, default_split: str, control: TaskControl):
    from workbench.data.prompt_io import import_prompts

    project = Project.open(project_path)
    try:
        return import_prompts(
            project,
            file,
            default_split=default_split,
            progress=control.progress,
            cancelled=control.cancelled,
        )
    finally:
        project.close()


def _export(project_path: Path, file: Path, split: str | None, control: TaskControl) -> int:
    from workbench.data.prompt_io import export_prompts

    project = Project.open(project_path)
    try:
        return export_prompts(
            project, file, split=split, progress=control.progress, cancelled=control.cancelled
        )
    finally:
        project.close()


class PromptTransfer(QObject):
    imported = Signal(object)  # ImportReport; the prompts table changed

    def __init__(self, parent: QWidget, project_path: Path):
        super().__init__(parent)
        self.widget = parent
        self.project_path = project_path
        self.task: BackgroundTask | None = None
        self.file: Path | None = None
        self.last_dialog: QWidget | None = None  # the summary or error shown last

    def start_import(self, file: str | Path, default_split: str = "train") -> BackgroundTask:
        file = self.file = Path(file)
        self.task = run_in_background(
            lambda control: _import(self.project_path, file, default_split, control)
        )
        TaskProgressDialog(self.widget, "Import prompts", f"Importing {file.name}…", self.task)
        self.task.succeeded.connect(self._import_done)
        self.task.failed.connect(self._import_failed)
        return self.task

    def start_export(self, file: str | Path, split: str | None) -> BackgroundTask:
        file = self.file = Path(file)
        self.task = run_in_background(
            lambda control: _export(self.project_path, file, split, control)
        )
        TaskProgressDialog(self.widget, "Export prompts", f"Writing {file.name}…", self.task)
        self.task.succeeded.connect(self._export_done)
        self.task.failed.connect(self._export_failed)
        return self.task

    @Slot(object)
    def _import_done(self, report) -> None:
        splits = ", ".join(f"{name} {n:,}" for name, n in sorted(report.by_split.items()))
        text = f"Imported {report.imported:,} prompts from {self.file.name} ({splits})."
        notes = "\n".join(report.warnings)
        self.last_dialog = show_info(self.widget, "Import finished", text, notes)
        self.imported.emit(report)

    @Slot(object)
    def _import_failed(self, error: TaskError) -> None:
        from workbench.data.prompt_io import ImportCancelled, ImportFailed

        original = error.original
        if isinstance(original, ImportFailed):
            dialog = ImportErrorsDialog(self.widget, self.file.name, original.errors)
            dialog.open()
            self.last_dialog = dialog
        elif isinstance(original, ImportCancelled):
            self.last_dialog = show_info(
                self.widget, "Import cancelled", "The import was cancelled. Nothing was imported."
            )
        else:
            self.last_dialog = show_error(
                self.widget, "Import failed", error, f"Importing {self.file.name}"
            )

    @Slot(object)
    def _export_done(self, count: int) -> None:
        self.last_dialog = show_info(
            self.widget, "Export finished", f"Exported {count:,} prompts to {self.file}."
        )

    @Slot(object)
    def _export_failed(self, error: TaskError) -> None:
        if self.task is not None and self.task.control.cancelled():
            self.last_dialog = show_info(
                self.widget, "Export cancelled", "The export was cancelled; no file was written."
            )
            return
        self.last_dialog = show_error(
            self.widget, "Export failed", error, f"Exporting to {self.file.name}"
        )
