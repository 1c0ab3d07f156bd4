"""The reward histogram of a dry run: pyqtgraph bars drawn with 1-pixel pens and no
antialiasing; one bar per value when a reward takes few values (pass/fail rules), else
equal bins."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg

from ui.style import ACCENT, MUTED

MAX_DISTINCT = 12
BINS = 20
SINGLE_WIDTH, SINGLE_MARGIN = 0.15, 0.6  # one value only: a slim bar in a unit-wide view
TICK_ROOM = 0.08  # the smallest gap between labelled bars, as a share of the range
AXIS_PEN = "#9aa1ab"
BAR_EDGE = "#1f56b8"


def histogram_bins(values: Sequence[float]) -> tuple[np.ndarray, np.ndarray, float, bool]:
    """(bar centres, counts, bar width, one bar per distinct value)."""
    data = np.asarray(values, dtype=float)
    data = data[np.isfinite(data)]
    if data.size == 0:
        return np.array([]), np.array([]), 1.0, True
    distinct = np.unique(data)
    if distinct.size <= MAX_DISTINCT:
        counts = np.array([(data == v).sum() for v in distinct])
        if distinct.size == 1:
            return distinct, counts, SINGLE_WIDTH, True
        span = float(distinct[-1] - distinct[0])
        gap = float(np.min(np.diff(distinct)))
        return distinct, counts, max(0.8 * gap, span / 40), True
    counts, edges = np.histogram(data, bins=BINS)
    return (edges[:-1] + edges[1:]) / 2, counts, float(edges[1] - edges[0]) * 0.9, False


def tick_room(centers: np.ndarray) -> bool:
    """Whether a label under every bar stays readable (bars not too close)."""
    span = float(centers[-1] - centers[0])
    return float(np.min(np.diff(centers))) >= span * TICK_ROOM


class RewardHistogram(pg.PlotWidget):
    def __init__(self, parent=None):
        super().__init__(parent, background="w")
        self.setAntialiasing(False)
        self.setMenuEnabled(False)
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        self.setMinimumHeight(170)
        plot = self.getPlotItem()
        for side, label in (("bottom", "reward"), ("left", "completions")):
            axis = plot.getAxis(side)
            axis.setPen(pg.mkPen(AXIS_PEN, width=1))
            axis.setTextPen(pg.mkPen(MUTED))
            axis.setLabel(label, color=MUTED)
            axis.enableAutoSIPrefix(False)  # rewards are plain numbers, never "x0.001"
        self.bars: pg.BarGraphItem | None = None
        self.counts = np.array([])

    def set_rewards(self, rewards: Sequence[float]) -> None:
        plot = self.getPlotItem()
        if self.bars is not None:
            plot.removeItem(self.bars)
        centers, counts, width, discrete = histogram_bins(rewards)
        self.counts = counts
        fill = pg.mkColor(ACCENT)
        fill.setAlpha(170)
        self.bars = pg.BarGraphItem(
            x=centers,
            height=counts,
            width=width,
            pen=pg.mkPen(BAR_EDGE, width=1),
            brush=pg.mkBrush(fill),
        )
        plot.addItem(self.bars)
        bottom = plot.getAxis("bottom")
        labelled = discrete and (centers.size < 2 or tick_room(centers))
        bottom.setTicks([[(float(c), f"{c:.3g}") for c in centers]] if labelled else None)
        if counts.size:
            plot.setYRange(0, float(counts.max()) * 1.1, padding=0)
            margin = max(width, SINGLE_MARGIN if centers.size == 1 else 0.0)
            plot.setXRange(float(centers[0]) - margin, float(centers[-1]) + margin, padding=0.05)
