"""Under the selected cell: which answer is better, this model's or the baseline's. A
click stores a preference label (workbench/comparing/preferences.py) that the next DPO
run trains on; with sampled seeds, the first seed's pair is the one judged."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from ui.style import MUTED

BUTTONS = (
    ("other", "This one better"),
    ("baseline", "Baseline better"),
    ("tie", "Tie"),
    ("both_bad", "Both bad"),
)


class PreferenceBar(QWidget):
    preferred = Signal(int, int, str)  # baseline completion, other completion, preferred

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.pair: tuple[int, int] | None = None
        self.hint = QLabel("Your preference:")
        self.hint.setStyleSheet(f"color: {MUTED};")
        self.buttons: dict[str, QPushButton] = {}
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.hint)
        for key, text in BUTTONS:
            button = QPushButton(text)
            button.clicked.connect(lambda _checked=False, k=key: self._clicked(k))
            layout.addWidget(button)
            self.buttons[key] = button
        layout.addStretch(1)
        self.set_cell(None, None)

    def set_cell(self, row: dict[str, Any] | None, position: int | None) -> None:
        """The pair under the selected cell: the baseline's answer and this entrant's, of
        the same seed; none for the baseline's own column or a cell without answers."""
        self.pair = None
        if row is not None and position:
            baseline = {a["seed"]: a for a in row["entrants"][0]["answers"]}
            for answer in row["entrants"][position]["answers"]:
                other = baseline.get(answer["seed"])
                if other is not None and other["completion_id"] != answer["completion_id"]:
                    self.pair = (other["completion_id"], answer["completion_id"])
                    break
        for button in self.buttons.values():
            button.setEnabled(self.pair is not None)

    def _clicked(self, key: str) -> None:
        if self.pair is not None:
            self.preferred.emit(*self.pair, key)
