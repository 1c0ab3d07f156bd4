"""Rater consistency: how often the rater agreed with themselves on re-shown pairs, and
the share of pairs to re-show (a project setting; 0 turns it off)."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from ui.style import set_muted
from workbench.labels.consistency import Agreement

SAVE_DELAY_MS = 400
HELP = (
    "A share of the pairs you already labelled comes back with the sides swapped; your "
    "second answer is kept apart (it never counts twice in training) and compared with "
    "the first."
)


def agreement_text(agreement: Agreement) -> str:
    if not agreement.total:
        return "Your agreement: no pair re-shown yet"
    return (
        f"Your agreement: {agreement.percent:.0f}% of {agreement.total:,} re-shown "
        f"pair{'s' if agreement.total != 1 else ''}"
    )


class ConsistencyPanel(QWidget):
    shareChanged = Signal(float)  # 0 to 1, after the user stops typing

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.readout = QLabel(agreement_text(Agreement(0, 0)), objectName="agreement")
        self.readout.setToolTip(HELP)
        self.share = QSpinBox(suffix=" %", specialValueText="off", toolTip=HELP)
        self.share.setRange(0, 100)
        self.share.setValue(5)
        label = QLabel("Re-show")
        after = QLabel("of labelled pairs")
        for text in (label, after):
            set_muted(text)
        self.share.setFixedWidth(72)
        self._timer = QTimer(self, singleShot=True, interval=SAVE_DELAY_MS)
        self._timer.timeout.connect(lambda: self.shareChanged.emit(self.share.value() / 100))
        self.share.valueChanged.connect(lambda _value: self._timer.start())
        row = QHBoxLayout()
        row.addStretch(1)
        for widget in (label, self.share, after):
            row.addWidget(widget)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.readout, 0, Qt.AlignmentFlag.AlignRight)
        layout.addLayout(row)

    def set_share(self, share: float) -> None:
        self.share.blockSignals(True)
        self.share.setValue(round(share * 100))
        self.share.blockSignals(False)

    def show_agreement(self, agreement: Agreement) -> None:
        self.readout.setText(agreement_text(agreement))
