"""Small building blocks shared by the views: titles, stat cards, the crash banner."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ui.style import set_muted


def view_header(title: str, subtitle: str = "") -> tuple[QWidget, QLabel, QLabel]:
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 6)
    layout.setSpacing(2)
    title_label = QLabel(title, objectName="viewTitle")
    subtitle_label = QLabel(subtitle, objectName="viewSubtitle")
    subtitle_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    subtitle_label.setWordWrap(True)
    layout.addWidget(title_label)
    layout.addWidget(subtitle_label)
    return box, title_label, subtitle_label


class StatCard(QFrame):
    """A number with its name under it, and an optional detail line."""

    def __init__(self, name: str, parent: QWidget | None = None):
        super().__init__(parent, objectName="card")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 10, 14, 10)
        layout.setSpacing(1)
        self.value = QLabel("–", objectName="statValue")
        self.name = QLabel(name, objectName="statName")
        self.detail = QLabel("")
        set_muted(self.detail)
        for label in (self.value, self.name, self.detail):
            layout.addWidget(label)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set(self, value: int | str, detail: str = "") -> None:
        self.value.setText(f"{value:,}" if isinstance(value, int) else value)
        self.detail.setText(detail)


class Banner(QFrame):
    """A red strip above the views for things that need the user, e.g. a crashed worker."""

    actionClicked = Signal()
    logClicked = Signal()

    def __init__(self, action_text: str, parent: QWidget | None = None):
        super().__init__(parent, objectName="banner")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 6, 6)
        self.text = QLabel(wordWrap=True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.action = QPushButton(action_text)
        self.log = QPushButton("Show log")
        close = QPushButton("Dismiss")
        layout.addWidget(self.text, 1)
        for button in (self.action, self.log, close):
            layout.addWidget(button)
        self.action.clicked.connect(self.actionClicked)
        self.action.clicked.connect(self.hide)
        self.log.clicked.connect(self.logClicked)
        close.clicked.connect(self.hide)
        self.hide()

    def show_message(self, text: str) -> None:
        self.text.setText(text)
        self.show()


def spin(low: int, high: int, value: int, step: int = 1, special: str = "") -> QSpinBox:
    box = QSpinBox()
    box.setRange(low, high)
    box.setSingleStep(step)
    box.setValue(value)
    if special:
        box.setSpecialValueText(special)  # shown instead of the minimum
    return box


def double_spin(
    low: float, high: float, value: float, step: float, decimals: int = 2
) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setDecimals(decimals)
    box.setRange(low, high)
    box.setSingleStep(step)
    box.setValue(value)
    return box
