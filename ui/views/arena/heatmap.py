"""A matrix of the arena as a coloured table: row entrant against column entrant (columns
numbered as the rows are). The
win-fraction matrix goes from red (the row always lost) through white (even) to green
(the row always won); the battle-count matrix from white to blue. A pair that never met
is blank. A table rather than an image, so each cell can say its number and its pair."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

LOSS, EVEN, WIN = QColor("#e06666"), QColor("#ffffff"), QColor("#57bb8a")
FEW, MANY = QColor("#ffffff"), QColor("#4a86e8")


def blend(low: QColor, high: QColor, share: float) -> QColor:
    share = min(1.0, max(0.0, share))
    return QColor(
        round(low.red() + (high.red() - low.red()) * share),
        round(low.green() + (high.green() - low.green()) * share),
        round(low.blue() + (high.blue() - low.blue()) * share),
    )


def win_colour(fraction: float) -> QColor:
    if fraction < 0.5:
        return blend(LOSS, EVEN, fraction * 2)
    return blend(EVEN, WIN, (fraction - 0.5) * 2)


class Heatmap(QTableWidget):
    def __init__(self, kind: str, parent=None):
        super().__init__(parent)
        self.kind = kind  # "win" | "count"
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)

    def show_matrix(self, names: Sequence[str], matrix: Sequence[Sequence[float | None]]) -> None:
        self.clear()
        self.setRowCount(len(names))
        self.setColumnCount(len(names))
        # Numbered columns: k names across would not fit; row i is column i.
        self.setHorizontalHeaderLabels([str(i + 1) for i in range(len(names))])
        self.setVerticalHeaderLabels([f"{i + 1}  {name}" for i, name in enumerate(names)])
        for i, name in enumerate(names):
            self.horizontalHeaderItem(i).setToolTip(name)
        most = max((v or 0 for row in matrix for v in row), default=0) or 1
        for i, row in enumerate(matrix):
            for j, value in enumerate(row):
                if i == j or value is None or (self.kind == "count" and value == 0):
                    continue
                if self.kind == "win":
                    item = QTableWidgetItem(f"{value:.0%}")
                    item.setBackground(win_colour(float(value)))
                    tip = f"{names[i]} beat {names[j]} in {value:.0%} of their battles (ties half)"
                else:
                    item = QTableWidgetItem(str(int(value)))
                    item.setBackground(blend(FEW, MANY, float(value) / most))
                    tip = f"{names[i]} and {names[j]} met {int(value)} time(s)"
                item.setForeground(QColor("#1d2430"))
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                item.setToolTip(tip)
                self.setItem(i, j, item)
