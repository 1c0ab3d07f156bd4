"""Dialogs around importing and exporting prompts: choosing a file and a split, and the
list of bad lines when an import is refused."""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ui.style import BAD, set_muted, set_primary

FILE_FILTER = (
    "Prompt files (*.jsonl *.json *.csv *.parquet);;JSON Lines (*.jsonl *.json);;"
    "CSV (*.csv);;Parquet (*.parquet);;All files (*)"
)
SUFFIXES = (".jsonl", ".csv", ".parquet")
_WHERE = re.compile(r"^(line|row) \d+:\s*")


class _FileDialog(QDialog):
    """A file field with Browse…, a split choice, and OK/Cancel."""

    def __init__(
        self, parent: QWidget, title: str, ok_text: str, splits: list[str], all_splits: bool
    ):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(560)
        self.path = QLineEdit()
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        file_row = QHBoxLayout()
        file_row.addWidget(self.path, 1)
        file_row.addWidget(browse)
        self.split = QComboBox(editable=not all_splits)
        if all_splits:
            self.split.addItem("All splits", None)
        for name in splits:
            self.split.addItem(name, name)
        self.form = QFormLayout()
        self.form.addRow("File", file_row)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.ok = buttons.addButton(ok_text, QDialogButtonBox.ButtonRole.AcceptRole)
        set_primary(self.ok)
        self.ok.setEnabled(False)
        self.path.textChanged.connect(lambda text: self.ok.setEnabled(bool(text.strip())))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.hint = QLabel(wordWrap=True)
        set_muted(self.hint)
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addWidget(self.hint)
        layout.addWidget(buttons)

    def _browse(self) -> None:
        raise NotImplementedError


class ImportDialog(_FileDialog):
    def __init__(self, parent: QWidget, splits: list[str]):
        names = list(dict.fromkeys(["train", "eval", *splits]))
        super().__init__(parent, "Import prompts", "Import", names, all_splits=False)
        self.form.addRow("Rows without a split go to", self.split)
        self.hint.setText(
            "JSONL, CSV or Parquet. Columns: prompt (or text, question), or messages for "
            "chats (TRL's standard and conversational formats); optional split, reference "
            "(or answer, solution, ground_truth), tags. A chat that ends with the "
            "assistant's answer, or a completion column (TRL's SFT formats), gives the "
            "reference. Every row is checked first: if any is bad, nothing is imported."
        )

    def default_split(self) -> str:
        return self.split.currentText().strip() or "train"

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import prompts", "", FILE_FILTER)
        if path:
            self.path.setText(path)


class ExportDialog(_FileDialog):
    def __init__(self, parent: QWidget, splits: list[str], default_dir: Path):
        super().__init__(parent, "Export prompts", "Export", splits, all_splits=True)
        self.default_dir = default_dir
        self.form.addRow("Prompts", self.split)
        self.hint.setText("The format follows the file's suffix: .jsonl, .csv or .parquet.")

    def split_filter(self) -> str | None:
        return self.split.currentData()

    def _browse(self) -> None:
        start = str(self.default_dir / "prompts.jsonl")
        path, _ = QFileDialog.getSaveFileName(self, "Export prompts", start, FILE_FILTER)
        if path:
            self.path.setText(path)

    def accept(self) -> None:
        if Path(self.path.text().strip()).suffix.lower() not in SUFFIXES:
            self.hint.setText(
                f"<span style='color:{BAD}'>Name the file with .jsonl, .csv or .parquet at the "
                "end: the suffix picks the format.</span>"
            )
            return
        super().accept()


class ImportErrorsDialog(QDialog):
    """Every bad line of a refused import, line by line, and the promise that nothing changed."""

    def __init__(self, parent: QWidget, file_name: str, errors: list):
        super().__init__(parent)
        self.setObjectName("importErrors")
        self.setWindowTitle("Import failed: nothing was imported")
        self.resize(720, 440)
        self.errors = errors
        n = len(errors)
        self.headline = headline = QLabel(
            f"<b>{file_name}: {n} problem{'s' if n != 1 else ''} found. Nothing was imported.</b>"
            "<br>Fix these lines in the file and import it again; the project is unchanged."
        )
        headline.setWordWrap(True)
        self.table = QTableWidget(n, 2)
        self.table.setHorizontalHeaderLabels(["Line", "Problem"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setDefaultAlignment(
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        )
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.setShowGrid(False)
        self.table.setWordWrap(True)
        for i, error in enumerate(errors):
            line = QTableWidgetItem("whole file" if error.line == 0 else str(error.line))
            line.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.table.setItem(i, 0, line)
            self.table.setItem(i, 1, QTableWidgetItem(_WHERE.sub("", error.message)))
        self.table.resizeColumnToContents(0)
        self.table.resizeRowsToContents()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        copy = buttons.addButton("Copy list", QDialogButtonBox.ButtonRole.ActionRole)
        copy.clicked.connect(self._copy)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(headline)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)

    def _copy(self) -> None:
        QGuiApplication.clipboard().setText("\n".join(e.message for e in self.errors))
