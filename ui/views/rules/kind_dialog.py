"""Add rule: choose a kind from the registry, each with its title and what it checks."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.rules import REGISTRY
from ui.style import set_muted, set_primary


class RuleKindDialog(QDialog):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Add rule")
        self.setMinimumSize(660, 440)
        self.kinds = QListWidget(objectName="ruleKinds")
        for kind, cls in REGISTRY.items():
            item = QListWidgetItem(cls.title)
            item.setData(Qt.ItemDataRole.UserRole, kind)
            item.setSizeHint(QSize(0, 28))
            self.kinds.addItem(item)
        self.kinds.setFixedWidth(210)
        self.kinds.currentRowChanged.connect(self._show_kind)
        self.kinds.itemDoubleClicked.connect(self.accept)
        self.title = QLabel()
        font = self.title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() + 1)
        self.title.setFont(font)
        self.kind_name = QLabel()
        set_muted(self.kind_name)
        self.description = QLabel(wordWrap=True)
        self.description.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.params = QLabel(wordWrap=True)
        set_muted(self.params)

        details = QVBoxLayout()
        details.addWidget(self.title)
        details.addWidget(self.kind_name)
        details.addSpacing(6)
        details.addWidget(self.description)
        details.addSpacing(6)
        details.addWidget(self.params)
        details.addStretch(1)
        row = QHBoxLayout()
        row.addWidget(self.kinds)
        row.addSpacing(8)
        row.addLayout(details, 1)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText("Add rule")
        set_primary(ok)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("What should the rule check?"))
        layout.addLayout(row, 1)
        layout.addWidget(buttons)
        self.kinds.setCurrentRow(0)

    def kind(self) -> str:
        item = self.kinds.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item else ""

    def select(self, kind: str) -> None:
        self.kinds.setCurrentRow(list(REGISTRY).index(kind))

    @Slot(int)
    def _show_kind(self, row: int) -> None:
        if row < 0:
            return
        cls = list(REGISTRY.values())[row]
        self.title.setText(cls.title)
        self.kind_name.setText(f"kind: {cls.kind}")
        self.description.setText(cls.description)
        names = ", ".join(info.name for info in cls.PARAMS) or "none"
        self.params.setText(f"Settings: {names}")
