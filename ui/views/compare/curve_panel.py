"""Each run's pass rate by checkpoint step (workbench/comparing/learning_curve.py) for the
prompts of the open comparison: a curve per run for the chosen rule, and Export PNG."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ui.style import MUTED
from workbench.atomic_write import write_atomically

COLOURS = ("#2f6fde", "#d9730d", "#1c7c3c", "#b3261e", "#6940a5", "#0f7b8a", "#8a6d0f", "#555")
AXIS_PEN = "#9aa1ab"


class CurvePanel(QWidget):
    exportRequested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.data: dict[str, Any] = {"rules": [], "runs": []}
        self.rule = QComboBox()
        self.rule.currentIndexChanged.connect(lambda _i: self._draw())
        self.export_button = QPushButton("Export PNG…")
        self.export_button.clicked.connect(self.exportRequested.emit)
        self.note = QLabel("")
        self.note.setStyleSheet(f"color: {MUTED};")
        self.plot = pg.PlotWidget(background="w")
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.addLegend(offset=(-10, 10))
        for side, label in (("bottom", "checkpoint step"), ("left", "pass rate")):
            axis = self.plot.getPlotItem().getAxis(side)
            axis.setPen(pg.mkPen(AXIS_PEN, width=1))
            axis.setTextPen(pg.mkPen(MUTED))
            axis.setLabel(label, color=MUTED)
        self.plot.setYRange(0, 1)
        top = QHBoxLayout()
        top.addWidget(QLabel("Rule"))
        top.addWidget(self.rule)
        top.addWidget(self.note, 1)
        top.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.plot, 1)

    def set_curves(self, data: dict[str, Any]) -> None:
        self.data = data
        current = self.rule.currentText()
        self.rule.blockSignals(True)
        self.rule.clear()
        self.rule.addItems(data["rules"])
        if current in data["rules"]:
            self.rule.setCurrentText(current)
        self.rule.blockSignals(False)
        self._draw()

    def curve_count(self) -> int:
        return len(self.plot.getPlotItem().listDataItems())

    def _draw(self) -> None:
        plot = self.plot.getPlotItem()
        plot.clear()
        rule = self.rule.currentText()
        runs = self.data["runs"]
        self.note.setText(
            "" if runs else "No run has an evaluated checkpoint on these prompts yet."
        )
        for i, run in enumerate(runs):
            points = [p for p in run["points"] if p["pass_rate"].get(rule) is not None]
            if not points:
                continue
            colour = COLOURS[i % len(COLOURS)]
            plot.plot(
                [p["step"] for p in points],
                [p["pass_rate"][rule] for p in points],
                pen=pg.mkPen(colour, width=2),
                symbol="o",
                symbolSize=7,
                symbolBrush=colour,
                name=run["name"],
            )

    def export_png(self, path: Path) -> None:
        """The chart as shown, written atomically."""
        image = self.plot.grab()
        if image.isNull():
            raise OSError("the chart could not be rendered")

        def write(tmp: Path) -> None:
            if not image.save(str(tmp), "PNG"):
                raise OSError(f"could not write {path}")

        write_atomically(path, write)
