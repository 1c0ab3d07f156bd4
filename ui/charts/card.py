"""The card a chart sits on (a white rounded frame, its title, its legend line, the plot)
and the placeholder that holds a chart's place in the grid until the chart is made.

A run's first batch names a dozen charts at once, and making one costs ~15 ms, so
RunCharts makes them a few per tick (run_charts.py). Each waits as a `ChartSlot` at its
final place in the grid, with the same size hints as the chart, so a chart that replaces
its slot moves none of the charts already drawn: only the new one is painted in that
tick, not the whole grid again.
"""

from __future__ import annotations

import html

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget

TEXT = "#3a404a"
PLOT_MIN_SIZE = (240, 170)
# The size a plot asks for: pyqtgraph's own default, fixed here because pyqtgraph's hint
# changes once a plot is shown, and a slot must ask for what its chart will.
PLOT_SIZE_HINT = (600, 480)


def frame_style(frame: QFrame) -> None:
    """The white rounded card a chart (or its placeholder) sits on."""
    frame.setObjectName("metricChart")
    frame.setStyleSheet(
        "QFrame#metricChart { background: white; border: 1px solid #dfe2e8; border-radius: 6px; }"
    )


def header_label(title: str) -> QLabel:
    header = QLabel(f"<b>{html.escape(title)}</b>")
    header.setObjectName("chartHeader")
    header.setStyleSheet(
        f"QLabel#chartHeader {{ color: {TEXT}; font-size: 9pt;"
        " border: none; background: transparent; }"
    )
    return header


def legend_label() -> QLabel:
    legend = QLabel()
    legend.setObjectName("chartLegend")
    legend.setTextFormat(Qt.TextFormat.RichText)
    legend.setWordWrap(True)
    legend.setStyleSheet(
        f"QLabel#chartLegend {{ color: {TEXT}; font-size: 8pt;"
        " border: none; background: transparent; }"
    )
    return legend


def card_layout(frame: QFrame, header: QLabel, legend: QLabel, body) -> None:
    box = QVBoxLayout(frame)
    box.setContentsMargins(4, 4, 4, 4)
    box.setSpacing(0)
    box.addWidget(header)
    box.addWidget(legend)
    box.addWidget(body, 1)


class _EmptyPlot(QWidget):
    def sizeHint(self) -> QSize:
        return QSize(*PLOT_SIZE_HINT)


class ChartSlot(QFrame):
    """A chart's place while it waits to be made: the card with its title, no plot."""

    def __init__(self, title: str):
        super().__init__()
        self.title = title
        frame_style(self)
        legend = legend_label()
        legend.setText("&nbsp;")  # one line, as the chart's legend takes
        body = _EmptyPlot()
        body.setMinimumSize(*PLOT_MIN_SIZE)
        card_layout(self, header_label(title), legend, body)
