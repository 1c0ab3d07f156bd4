"""docs/architecture.md, "Pitfalls": PySide6 6.12.0 on Python 3.11 corrupts reference counts in
QObject.property(), which pyqtgraph calls on every setData; the process aborts after a
few thousand chart updates. This keeps a curve updated 20,000 times."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QApplication


def test_a_curve_survives_20000_updates(qtbot):
    plot = pg.PlotWidget()
    qtbot.addWidget(plot)
    plot.show()
    curve = plot.plot(pen=pg.mkPen(width=1))
    curve.setDownsampling(auto=True, method="peak")
    curve.setClipToView(True)
    xs = np.arange(256, dtype=float)
    for i in range(20_000):
        curve.setData(xs, np.sin(xs / 20.0 + i * 0.01))
        if i % 2000 == 0:
            QApplication.processEvents()  # paint now and then, as a live chart would
    x, y = curve.getData()
    assert len(x) == 256 and np.isfinite(y).all()
