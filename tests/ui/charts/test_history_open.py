"""Opening a run with a long history: its rows arrive in several reads (as the run feed
hands them over), the charts are made and drawn over ticks, a tick never both makes a
chart and hands points to one, and at the end every curve is what the whole history drawn
at once gives (ui/charts/run_charts.py, docs/architecture.md "Views and charts")."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from tests.ui.charts.conftest import make_charts
from ui.charts import RunCharts
from ui.charts.envelope import RAW_LIMIT

METRICS = ["loss", "grad_norm", "rewards/chosen", "rewards/rejected", "learning_rate"]
STEPS = 6_000  # beyond RAW_LIMIT: the long curves are drawn through their envelope
READ_ROWS = 4_000  # rows per read (the feed's METRIC_BATCH, scaled down)


def history() -> list[tuple]:
    rng = np.random.default_rng(3)
    rows = []
    for step in range(STEPS):
        for m in METRICS:
            value = None if m == "grad_norm" and step % 97 == 0 else float(rng.normal())
            rows.append((step, 1_000.0 + step * 0.5, m, value))
        if step % 20 == 0:
            rows.append((step, 1_000.0 + step * 0.5, "eval_loss", float(rng.normal())))
    return rows


def curves_drawn(charts: RunCharts) -> dict:
    """(chart, run, metric, raw or smooth) -> the (x, y) handed to pyqtgraph."""
    drawn = {}
    for title, chart in charts._charts.items():
        for (run_id, metric), curve in chart.curves.items():
            for kind, item in (("raw", curve.raw), ("smooth", curve.smooth)):
                if item is not None:
                    drawn[title, run_id, metric, kind] = item.getOriginalDataset()
    return drawn


def test_a_tick_that_makes_a_chart_hands_points_to_none(qtbot):
    charts = make_charts(qtbot)
    charts.append(1, [(s, 1_000.0 + s, m, float(s)) for s in range(3) for m in ("loss", "kl")])
    charts.redraw()  # makes the first chart, draws nothing
    assert list(charts._charts) == ["loss"] and charts._charts["loss"].stale()
    charts.redraw()  # draws it, makes nothing
    assert list(charts._charts) == ["loss"] and not charts._charts["loss"].stale()
    charts.redraw()
    assert sorted(charts._charts) == ["KL", "loss"]
    qtbot.waitUntil(lambda: charts.settled(), timeout=3000)


def test_a_history_read_in_slices_ends_with_every_point_drawn(qtbot, monkeypatch):
    rows = history()
    reads = [rows[i : i + READ_ROWS] for i in range(0, len(rows), READ_ROWS)]
    assert len(reads) > 5

    sliced = make_charts(qtbot)
    work: dict[int, set[str]] = defaultdict(set)  # tick -> what it did
    make, refresh = sliced._make_chart, sliced._refresh

    def counted_make(title: str, place: bool = True) -> None:
        work[sliced.redraw_count].add("make")
        make(title, place)

    def counted_refresh(chart) -> int:
        work[sliced.redraw_count].add("draw")
        return refresh(chart)

    monkeypatch.setattr(sliced, "_make_chart", counted_make)
    monkeypatch.setattr(sliced, "_refresh", counted_refresh)

    def read() -> None:  # one read a turn of the event loop, as the feed's answers come
        sliced.append(1, reads.pop(0))
        if reads:
            QTimer.singleShot(1, read)

    QTimer.singleShot(1, read)
    qtbot.waitUntil(lambda: not reads and sliced.settled(), timeout=20_000)
    assert not [tick for tick, did in work.items() if did == {"make", "draw"}]
    assert sum("make" in did for did in work.values()) == len(sliced.chart_names())

    whole = make_charts(qtbot)  # the same history in one go, every chart drawn at once
    whole.append(1, rows)
    whole.redraw(force=True)
    QApplication.processEvents()  # laid out: each plot at its final width
    qtbot.waitUntil(lambda: whole.settled() and sliced.settled(), timeout=5000)

    got, want = curves_drawn(sliced), curves_drawn(whole)
    assert sorted(got) == sorted(want)
    assert len(got) == 2 * len(METRICS) + 1  # raw and smoothed, and eval_loss's markers
    for key, (x, y) in want.items():
        np.testing.assert_array_equal(got[key][0], x, err_msg=str(key))
        if key[-1] == "raw":
            np.testing.assert_array_equal(got[key][1], y, err_msg=str(key))
        else:  # the EMA carried across reads rounds its last bits differently
            np.testing.assert_allclose(got[key][1], y, rtol=1e-12, atol=1e-15, err_msg=str(key))
    for chart in sliced._charts.values():
        for (run_id, metric), curve in chart.curves.items():
            series = curve.series
            assert curve.drawn_points == series.n == sliced.point_count(run_id, metric)
            _, y = curve.raw.getOriginalDataset()
            if series.n <= RAW_LIMIT:  # eval_loss: every point
                np.testing.assert_array_equal(y, series.values[: series.n])
            else:  # the envelope keeps every extreme
                assert np.nanmin(y) == np.nanmin(series.values[: series.n])
                assert np.nanmax(y) == np.nanmax(series.values[: series.n])


@pytest.mark.parametrize("hidden", [False, True], ids=["shown", "hidden-then-shown"])
def test_charts_shown_after_a_history_draw_it_all(qtbot, hidden):
    charts = make_charts(qtbot)
    if hidden:
        charts.hide()
    rows = history()
    for i in range(0, len(rows), READ_ROWS):
        charts.append(1, rows[i : i + READ_ROWS])
    if hidden:
        assert charts.redraw() == 0 and not charts._charts  # nothing made while hidden
        charts.show()
    qtbot.waitUntil(lambda: charts.settled(), timeout=10_000)
    assert charts.chart("loss").curves[(1, "loss")].drawn_points == STEPS
