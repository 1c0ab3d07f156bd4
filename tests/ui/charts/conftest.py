"""The chart tests' widget: RunCharts shown at 1000x700, three charts a row."""

from __future__ import annotations

import pytest

from ui.charts import RunCharts


def make_charts(qtbot) -> RunCharts:
    widget = RunCharts(max_columns=3)
    qtbot.addWidget(widget)
    widget.resize(1000, 700)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


@pytest.fixture
def charts(qtbot) -> RunCharts:
    return make_charts(qtbot)
