"""The project's models: a table, Add model…, Make default, and the two per-model
permissions that let a model run code on this machine."""

from __future__ import annotations

import functools

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ui.session import ProjectSession
from ui.style import WARN
from ui.table_columns import fit_columns
from ui.views.model.add_model_dialog import AddModelDialog
from workbench.data.models import ModelRecord, add_model, list_models
from workbench.project import Project

LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
RISK_TEXT = (
    "⚠ Custom code and pickle weights run Python from the model's files with your "
    "permissions. Allow them only for models from people you trust."
)


def load_models(project: Project) -> tuple[list[ModelRecord], int | None]:
    return list_models(project), project.setting("default_model_id")


def set_permissions(project: Project, model_id: int, trust_code: bool, allow_pickle: bool) -> None:
    project.db.execute(
        "UPDATE models SET trust_remote_code = ?, allow_pickle = ? WHERE id = ?",
        [int(trust_code), int(allow_pickle), model_id],
    )


def set_default(project: Project, model_id: int) -> None:
    project.set_setting("default_model_id", model_id)


class ModelsPanel(QGroupBox):
    modelSelected = Signal(object)  # ModelRecord or None

    def __init__(self, session: ProjectSession, parent: QWidget | None = None):
        super().__init__("Models", parent)
        self.session = session
        self.models: list[ModelRecord] = []
        self.default_id: int | None = None
        self.table = QTableWidget(0, 3, objectName="modelsTable")
        self.table.setHorizontalHeaderLabels(["Name", "Source", "Path"])
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setShowGrid(False)
        fit_columns(self.table, text=(0, 1, 2))
        self.table.setMinimumHeight(128)  # a few models in sight, even on a 720-pixel screen
        self.table.horizontalHeader().setDefaultAlignment(LEFT)
        self.table.itemSelectionChanged.connect(self._selection_changed)

        self.trust = QCheckBox("Allow custom code (trust_remote_code)")
        self.pickle = QCheckBox("Allow pickle weights (.bin, .pt)")
        for box in (self.trust, self.pickle):
            box.setEnabled(False)
            box.clicked.connect(self._permissions_clicked)
        self.risk = QLabel(RISK_TEXT, wordWrap=True)
        self.risk.setStyleSheet(f"color: {WARN};")
        self.risk.hide()

        add = QPushButton("Add model…")
        add.clicked.connect(self._add_clicked)
        self.make_default = QPushButton("Make default")
        self.make_default.setEnabled(False)
        self.make_default.clicked.connect(self._default_clicked)
        buttons = QHBoxLayout()
        buttons.addWidget(add)
        buttons.addWidget(self.make_default)
        buttons.addStretch(1)

        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.trust)
        layout.addWidget(self.pickle)
        layout.addWidget(self.risk)

    def reload(self, select_id: int | None = None) -> None:
        self.session.runner.call(load_models, on_done=functools.partial(self._show, select_id))

    def selected(self) -> ModelRecord | None:
        rows = self.table.selectionModel().selectedRows()
        return self.models[rows[0].row()] if rows else None

    def _show(self, select_id: int | None, result: tuple[list[ModelRecord], int | None]) -> None:
        current = self.selected()
        self.models, self.default_id = result
        want = select_id or (current.id if current else None) or self.default_id
        self.table.setRowCount(len(self.models))
        for row, model in enumerate(self.models):
            name = model.name + ("  (default)" if model.id == self.default_id else "")
            path = "built into the app" if model.source == "demo" else model.path
            for column, text in enumerate((name, model.source, path)):
                item = QTableWidgetItem(text)
                item.setToolTip(model.path)
                self.table.setItem(row, column, item)
        self.table.resizeColumnToContents(0)
        self.table.resizeColumnToContents(1)
        rows = [i for i, m in enumerate(self.models) if m.id == want] or (
            [0] if self.models else []
        )
        if rows:
            self.table.selectRow(rows[0])
        self._selection_changed()

    @Slot()
    def _selection_changed(self) -> None:
        model = self.selected()
        for box, value in (
            (self.trust, model and model.trust_remote_code),
            (self.pickle, model and model.allow_pickle),
        ):
            box.setEnabled(model is not None)
            box.setChecked(bool(value))
        self.make_default.setEnabled(model is not None and model.id != self.default_id)
        self.risk.setVisible(bool(model and (model.trust_remote_code or model.allow_pickle)))
        self.modelSelected.emit(model)

    @Slot()
    def _permissions_clicked(self) -> None:
        model = self.selected()
        if model is None:
            return
        self.risk.setVisible(self.trust.isChecked() or self.pickle.isChecked())
        self.session.runner.call(
            set_permissions,
            model.id,
            self.trust.isChecked(),
            self.pickle.isChecked(),
            on_done=functools.partial(self._reload_after, model.id),
        )

    @Slot()
    def _default_clicked(self) -> None:
        model = self.selected()
        if model is not None:
            self.session.runner.call(
                set_default, model.id, on_done=functools.partial(self._reload_after, model.id)
            )

    def _reload_after(self, model_id: int, _result: object) -> None:
        self.reload(model_id)

    @Slot()
    def _add_clicked(self) -> None:
        dialog = AddModelDialog(self)
        if dialog.exec():
            self.add(**dialog.choice())

    def add(self, **fields) -> None:
        self.session.runner.call(_add_model, fields, on_done=self.reload)


def _add_model(project: Project, fields: dict) -> int:
    return add_model(project, **fields)
