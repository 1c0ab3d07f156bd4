"""A run's first batch: every chart gets its place at once (a slot), the charts are made a
few per tick, and a chart made later moves none of those already drawn (ui/charts/card.py)."""

from __future__ import annotations

from collections import Counter

import pytest
from PySide6.QtWidgets import QApplication

from ui.charts import RunCharts
from ui.charts.card import ChartSlot
from ui.charts.run_charts import CHARTS_MADE_PER_TICK

SEVEN = ["loss", "kl", "entropy", "grad_norm", "learning_rate", "memory/x", "epoch"]
TWELVE = [*SEVEN, "reward", "reward_std", "rewards/accuracies", "logps/chosen", "clip_ratio"]


def rows_for(metrics, steps):
    return [(s, 1_000.0 + s, m, float(s)) for s in steps for m in metrics]


def cells(charts: RunCharts) -> list:
    grid = charts._grid
    return [grid.itemAt(i).widget() for i in range(grid.count())]


def test_the_first_batch_gives_every_chart_its_place_at_once(charts):
    charts.append(1, rows_for(SEVEN, range(3)))
    placed = cells(charts)
    assert len(placed) == 7 and all(isinstance(w, ChartSlot) for w in placed)
    assert [w.title for w in placed] == charts.chart_names()  # in display order
    assert charts._empty.isHidden()


def test_each_tick_makes_at_most_its_share_of_charts(charts, qtbot, monkeypatch):
    made_at: list[int] = []  # the redraw (tick) each chart was made in
    make = charts._make_chart

    def counted(title: str, place: bool = True) -> None:
        made_at.append(charts.redraw_count)
        make(title, place)

    monkeypatch.setattr(charts, "_make_chart", counted)
    charts.append(1, rows_for(TWELVE, range(3)))
    qtbot.waitUntil(lambda: not charts._pending, timeout=5000)
    assert len(made_at) == len(charts.chart_names()) == 12
    assert max(Counter(made_at).values()) <= CHARTS_MADE_PER_TICK
    # each takes its slot's place in the next turn of the event loop
    qtbot.waitUntil(lambda: not any(isinstance(w, ChartSlot) for w in cells(charts)))
    assert sorted(w.title for w in cells(charts)) == sorted(charts.chart_names())


@pytest.mark.parametrize("metrics", [SEVEN, TWELVE], ids=["fits", "scrolls"])
def test_a_chart_made_later_moves_none_of_those_drawn(charts, qtbot, metrics):
    charts.append(1, rows_for(metrics, range(3)))
    charts.redraw()  # the first chart made
    first = charts._charts["loss"]
    qtbot.waitUntil(first.isVisible)
    QApplication.processEvents()  # laid out
    where = first.geometry()
    slots = {w.title: w.geometry() for w in cells(charts) if isinstance(w, ChartSlot)}
    qtbot.waitUntil(lambda: not charts._slots, timeout=5000)  # every chart made and placed
    QApplication.processEvents()
    assert first.geometry() == where
    assert {title: charts._charts[title].geometry() for title in slots} == slots


def test_settled_waits_for_every_chart_made_placed_and_drawn(charts, qtbot):
    """What the screenshot script waits for before a shot of a run's charts."""
    charts.append(1, rows_for(TWELVE, range(3)))
    assert not charts.settled()  # twelve slots, no chart made yet
    qtbot.waitUntil(charts.settled, timeout=5000)
    assert not any(isinstance(w, ChartSlot) for w in cells(charts))
    assert sorted(charts._charts) == sorted(charts.chart_names())
    assert not any(chart.stale() for chart in charts._charts.values())
    charts.append(1, rows_for(["loss"], [3]))  # a new point waits for the next tick
    assert not charts.settled()
    qtbot.waitUntil(charts.settled, timeout=5000)
