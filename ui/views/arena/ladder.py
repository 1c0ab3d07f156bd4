"""The ratings ladder: one row per entrant, best at the top, its Bradley-Terry rating as
a dot and its 95% bootstrap interval as a bar; a dashed line marks the baseline's 1000.
Entrants whose bars overlap are not told apart by the votes so far."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize

from ui.style import ACCENT, MUTED
from workbench.arena.ratings import BASE_RATING, RatingTable

AXIS_PEN = "#9aa1ab"


class Ladder(pg.PlotWidget):
    def __init__(self, parent=None):
        super().__init__(parent, background="w")
        self.setMenuEnabled(False)
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        self.setMinimumHeight(180)
        plot = self.getPlotItem()
        for side, label in (("bottom", "rating (baseline = 1000)"), ("left", "")):
            axis = plot.getAxis(side)
            axis.setPen(pg.mkPen(AXIS_PEN, width=1))
            axis.setTextPen(pg.mkPen(MUTED))
            if label:
                axis.setLabel(label, color=MUTED)
            axis.enableAutoSIPrefix(False)
        plot.showGrid(x=True, y=False, alpha=0.15)
        self.rows: list[str] = []

    def sizeHint(self) -> QSize:
        # pyqtgraph asks for 640x480, which made the Arena's ratings take the room its
        # answers need; a few rows and the axis read well at the minimum height.
        return QSize(400, self.minimumHeight())

    def show_table(self, table: RatingTable, labels: dict[str, str]) -> None:
        plot = self.getPlotItem()
        plot.clear()
        rows = table.ratings[::-1]  # the best at the top: the highest y
        self.rows = [labels.get(r.model, r.model) for r in rows]
        plot.getAxis("left").setTicks([list(enumerate(self.rows))])
        if not rows:
            return
        y = np.arange(len(rows), dtype=float)
        x = np.array([r.rating for r in rows])
        low = np.array([r.rating if r.ci_low is None else r.ci_low for r in rows])
        high = np.array([r.rating if r.ci_high is None else r.ci_high for r in rows])
        plot.addItem(
            pg.ErrorBarItem(
                x=x, y=y, left=x - low, right=high - x, beam=0.2, pen=pg.mkPen(ACCENT, width=2)
            )
        )
        plot.addItem(pg.ScatterPlotItem(x=x, y=y, size=10, brush=pg.mkBrush(ACCENT), pen=None))
        plot.addItem(
            pg.InfiniteLine(
                BASE_RATING, angle=90, pen=pg.mkPen(MUTED, width=1, style=pg.QtCore.Qt.DashLine)
            )
        )
        span = max(float(high.max() - low.min()), 50.0)
        plot.setXRange(float(low.min()) - 0.1 * span, float(high.max()) + 0.1 * span)
        plot.setYRange(-0.6, len(rows) - 0.4)
