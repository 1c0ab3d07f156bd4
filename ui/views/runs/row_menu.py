"""The Runs table's context menu on a run's row: Rename…, Tags…, Note…, Open folder,
Export model…, Compare with base, Resume, Delete…. Edits go through
workbench/training/run_edits.py on the database thread, as `workbench runs PROJECT
rename|tag|note|delete` does; the dialogs are opened, never exec'd, so the window goes on
drawing (and a test can fill them in)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QPoint, Qt, QUrl, Signal, Slot
from PySide6.QtGui import QAction, QDesktopServices
from PySide6.QtWidgets import QInputDialog, QMenu, QMessageBox, QTableView, QWidget

from ui.cell_text import copy_action
from ui.messages import explain
from ui.session import ProjectSession
from ui.views.runs.table import RUN_ID_ROLE, RunsTableModel
from workbench.training import run_edits
from workbench.training.runs import LIVE, RESUMABLE


def base_choice(project, model_id: int | None):
    """The Compare view's entrant for a run's base model (None there: the default one)."""
    from workbench.comparing.choices import EntrantChoice
    from workbench.data.models import default_model

    if model_id is None or model_id == default_model(project).id:
        return EntrantChoice()
    return EntrantChoice(model_id=model_id)


class RunRowMenu(QObject):
    """``changed`` is emitted after an edit or a deletion, so the table is read again;
    ``said`` carries a line for the view's status (text, is it a problem)."""

    changed = Signal()
    said = Signal(str, bool)

    def __init__(self, table: QTableView, model: RunsTableModel, session: ProjectSession):
        super().__init__(table)
        self.table, self.model, self.session = table, model, session
        self.dialog: QWidget | None = None  # the dialog open now (tests fill it in)
        self.menu: QMenu | None = None
        table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        table.customContextMenuRequested.connect(self._show)

    @Slot(QPoint)
    def _show(self, pos: QPoint) -> None:
        run_id = self.table.indexAt(pos).data(RUN_ID_ROLE)
        if run_id is None:
            return
        self.menu_for(run_id).popup(self.table.viewport().mapToGlobal(pos))

    def menu_for(self, run_id: int) -> QMenu:
        row = self.model.row_of(run_id) or {}
        live = row.get("status") in LIVE
        checkpoint = row.get("last_checkpoint_id")
        menu = QMenu(self.table)
        entries: list[tuple[str, Callable[[], None], bool, str]] = [
            ("Rename…", lambda: self.ask_rename(run_id), True, ""),
            ("Tags…", lambda: self.ask_tags(run_id), True, "Comma-separated, e.g. baseline, lr"),
            ("Note…", lambda: self.ask_note(run_id), True, ""),
            ("Open folder", lambda: self.open_folder(run_id), True, "Checkpoints, dataset.json"),
            (
                "Export model…",
                lambda: self.export(checkpoint),
                checkpoint is not None,
                "Its latest checkpoint as an adapter, merged model, GGUF or Ollama"
                if checkpoint is not None
                else "It has no checkpoint yet",
            ),
            (
                "Compare with base",
                lambda: self.compare_with_base(run_id, checkpoint, row.get("model_id")),
                checkpoint is not None,
                "Its latest checkpoint against its base model, in the Compare view",
            ),
            (
                "Resume",
                lambda: self.resume(run_id),
                row.get("status") in RESUMABLE,
                "From its last intact checkpoint (workbench train --resume)",
            ),
        ]
        for text, slot, enabled, tip in entries:
            self._add(menu, text, slot, enabled, tip)
        menu.addAction(copy_action(self.table))
        menu.addSeparator()
        self._add(
            menu,
            "Delete…",
            lambda: self.ask_delete(run_id),
            not live,
            "A running or paused run cannot be deleted: stop it first" if live else "",
        )
        self.menu = menu
        return menu

    @staticmethod
    def _add(menu: QMenu, text: str, slot, enabled: bool, tip: str) -> QAction:
        action = menu.addAction(text, slot)
        action.setEnabled(enabled)
        action.setToolTip(tip)
        return action

    # Edits ---------------------------------------------------------------------------
    def _input(self, title: str, label: str, text: str, on_ok, multiline=False) -> None:
        dialog = QInputDialog(self.table.window())
        dialog.setWindowTitle(title)
        dialog.setLabelText(label)
        if multiline:
            dialog.setOption(QInputDialog.InputDialogOption.UsePlainTextEditForTextInput)
        dialog.setTextValue(text)
        dialog.textValueSelected.connect(on_ok)
        self.dialog = dialog
        dialog.open()

    def ask_rename(self, run_id: int) -> None:
        row = self.model.row_of(run_id) or {}
        self._input(
            f"Rename run {run_id}",
            "Name",
            row.get("name") or "",
            lambda name: self._edit(run_edits.rename, run_id, name, said=f"Run {run_id} renamed."),
        )

    def ask_tags(self, run_id: int) -> None:
        row = self.model.row_of(run_id) or {}
        self._input(
            f"Tags of run {run_id}",
            "Tags, separated by commas",
            ", ".join(row.get("tags") or []),
            lambda text: self._edit(
                run_edits.set_tags, run_id, text.split(","), said=f"Run {run_id}'s tags saved."
            ),
        )

    def ask_note(self, run_id: int) -> None:
        row = self.model.row_of(run_id) or {}
        self._input(
            f"Note on run {run_id}",
            "What to remember about this run (empty: no note)",
            row.get("note") or "",
            lambda text: self._edit(
                run_edits.set_note, run_id, text, said=f"Run {run_id}'s note saved."
            ),
            multiline=True,
        )

    def _edit(self, fn, run_id: int, value: Any, *, said: str) -> None:
        self.session.runner.call(
            fn,
            run_id,
            value,
            on_done=lambda _result: self._done(said),
            on_error=lambda error: self.said.emit(explain(error).what, True),
        )

    def _done(self, text: str) -> None:
        self.said.emit(text, False)
        self.changed.emit()

    # Elsewhere -----------------------------------------------------------------------
    def open_folder(self, run_id: int) -> None:
        folder = self.session.path / "runs" / str(run_id)
        if not folder.is_dir():
            self.said.emit(f"Run {run_id} has no folder yet ({folder}).", True)
            return
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    def export(self, checkpoint_id: int | None) -> None:
        from ui.views.common.export_dialog import ExportDialog

        if checkpoint_id is not None:
            self.dialog = ExportDialog(self.session, int(checkpoint_id), self.table.window())
            self.dialog.open()

    def compare_with_base(self, run_id: int, checkpoint_id: int | None, model_id) -> None:
        """The Compare view with the run's base as the baseline and its latest checkpoint
        checked; the user picks the prompts and presses Compare."""
        window = self.table.window()
        compare = window.show_view("Compare") if hasattr(window, "show_view") else None
        if compare is None or checkpoint_id is None:
            return
        # The view reloads its entrants when shown; this read is queued after that one, so
        # its answer comes once the entrants are there.
        self.session.runner.call(
            base_choice,
            model_id,
            on_done=lambda base: self._pick(compare, base, int(checkpoint_id)),
            on_error=lambda error: self.said.emit(explain(error).what, True),
        )

    def _pick(self, compare, base, checkpoint_id: int) -> None:
        from workbench.comparing.choices import EntrantChoice

        choices = [option.choice for option in compare.setup.options]
        wanted = EntrantChoice(checkpoint_id=checkpoint_id)
        if base not in choices or wanted not in choices:
            self.said.emit("The Compare view does not list this run's checkpoint.", True)
            return
        compare.setup.pick(choices.index(base), [choices.index(wanted)])

    def resume(self, run_id: int) -> None:
        self.session.submit_job(
            "train",
            {"resume_run_id": run_id},
            on_submitted=lambda _job: self._done(f"Run {run_id} resumes from its last checkpoint."),
            on_error=lambda error: self.said.emit(explain(error).what, True),
        )

    # Deleting ------------------------------------------------------------------------
    def ask_delete(self, run_id: int) -> None:
        self.session.runner.call(
            run_edits.plan_deletion,
            run_id,
            on_done=self._confirm_delete,
            on_error=lambda error: self.said.emit(explain(error).what, True),
        )

    def _confirm_delete(self, deletion: run_edits.Deletion) -> None:
        if deletion.blockers:
            self.said.emit(" ".join(deletion.blockers), True)
            return
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            f"Delete run {deletion.run_id}?",
            f"This removes {deletion.text()} It cannot be undone.",
            QMessageBox.StandardButton.Cancel,
            self.table.window(),
        )
        delete = box.addButton("Delete", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.buttonClicked.connect(lambda button: button is delete and self._delete(deletion.run_id))
        self.dialog = box
        box.open()

    def _delete(self, run_id: int) -> None:
        self.session.runner.call(
            run_edits.delete_run,
            run_id,
            on_done=lambda deletion: self._done(f"Deleted run {deletion.run_id}."),
            on_error=lambda error: self.said.emit(explain(error).what, True),
        )
