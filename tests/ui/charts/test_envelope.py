"""The min/max envelope a long series is drawn through (ui/charts/envelope.py): equal to a
brute-force min/max per bucket while it grows, every peak drawn, gaps kept, raw points
when zoomed in."""

from __future__ import annotations

import numpy as np
import pytest

from ui.charts.chart import MetricChart
from ui.charts.context import ChartContext
from ui.charts.envelope import MAX_BUCKETS, RAW_LIMIT, Envelope, bucket_size
from ui.charts.series import Series


def brute_force(values: np.ndarray, size: int):
    """Per bucket of ``size``: first index of the smallest and of the largest finite value
    (the bucket's first index and +-inf when it has none)."""
    lo_idx, lo_val, hi_idx, hi_val = [], [], [], []
    for start in range(0, values.size, size):
        part = values[start : start + size]
        finite = np.flatnonzero(np.isfinite(part))
        if finite.size == 0:
            lo_idx.append(start), lo_val.append(np.inf), hi_idx.append(start)
            hi_val.append(-np.inf)
            continue
        lo = finite[np.argmin(part[finite])]
        hi = finite[np.argmax(part[finite])]
        lo_idx.append(start + lo), lo_val.append(part[lo])
        hi_idx.append(start + hi), hi_val.append(part[hi])
    return lo_idx, lo_val, hi_idx, hi_val


def random_values(rng: np.random.Generator, size: int) -> np.ndarray:
    values = np.round(rng.normal(size=size), 1)  # rounded: ties between equal extremes
    values[rng.random(size) < 0.05] = np.nan
    if size > 40 and rng.random() < 0.3:
        start = int(rng.integers(0, size - 40))
        values[start : start + int(rng.integers(1, 40))] = np.nan  # a run of gaps
    values[rng.random(size) < 0.002] = np.inf
    return values


def assert_envelope_is_brute_force(envelope: Envelope, values: np.ndarray) -> None:
    lo_idx, lo_val, hi_idx, hi_val = brute_force(values, envelope.size)
    np.testing.assert_array_equal(envelope.lo_idx, lo_idx)
    np.testing.assert_array_equal(envelope.hi_idx, hi_idx)
    np.testing.assert_array_equal(envelope.lo_val, lo_val)
    np.testing.assert_array_equal(envelope.hi_val, hi_val)


@pytest.mark.parametrize("max_buckets", [4, 16, MAX_BUCKETS])
def test_the_envelope_equals_a_brute_force_min_max_per_bucket_while_it_grows(max_buckets):
    rng = np.random.default_rng(max_buckets)
    values = random_values(rng, 60_000)
    envelope = Envelope(max_buckets)
    n = 0
    while n < values.size:
        n = min(values.size, n + int(rng.choice([1, 2, 7, 100, 999, 4_000])))
        envelope.update(values, n)
        assert envelope.n == n
        assert envelope.size == bucket_size(n, max_buckets)  # the smallest power of two
        assert envelope.buckets <= max_buckets
        if rng.random() < 0.1 or n == values.size:
            assert_envelope_is_brute_force(envelope, values[:n])
    indices = envelope.indices()
    assert (np.diff(indices) >= 0).all()  # drawn in index order


def test_a_series_draws_every_bucket_extreme_and_its_smoothed_envelope_follows_the_weight():
    rng = np.random.default_rng(3)
    series = Series(0.6, capacity=16)
    values = random_values(rng, 50_000)
    for start in range(0, values.size, 7_000):
        stop = min(values.size, start + 7_000)
        series.extend(np.arange(start, stop), np.arange(start, stop), values[start:stop])
        idx = series.draw_indices("values")
        size = bucket_size(series.n)
        lo_idx, _, hi_idx, _ = brute_force(series.values[: series.n], size)
        assert set(lo_idx) | set(hi_idx) == set(idx.tolist())
    series.set_weight(0.9)
    idx = series.draw_indices("smoothed")
    lo_idx, _, hi_idx, _ = brute_force(series.smoothed[: series.n], bucket_size(series.n))
    assert set(lo_idx) | set(hi_idx) == set(idx.tolist())
    short = Series()
    short.extend(range(RAW_LIMIT), range(RAW_LIMIT), np.zeros(RAW_LIMIT))
    assert short.draw_indices() is None  # short series are drawn point by point


@pytest.fixture
def chart(qtbot):
    widget = MetricChart(ChartContext(smoothing=0.6), "loss")
    qtbot.addWidget(widget)
    widget.resize(900, 500)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def add(chart: MetricChart, run_id: int, values: np.ndarray, weight: float = 0.6) -> Series:
    series = Series(weight)
    steps = np.arange(values.size, dtype=float)
    series.extend(steps, 1_000.0 + steps, values)
    chart.add_series(run_id, "loss", series)
    return series


def test_the_peak_of_one_spike_among_a_million_points_is_drawn(chart):
    rng = np.random.default_rng(5)
    values = rng.normal(0.5, 0.01, size=1_000_000)
    values[654_321] = 9.0
    values[123_457] = -7.0
    add(chart, 1, values)
    chart.refresh()
    chart.grab()
    item = chart.curves[(1, "loss")].raw
    x, y = item.getData()  # what pyqtgraph paints
    assert len(x) <= 2 * MAX_BUCKETS
    assert y.max() == 9.0 and x[np.argmax(y)] == 654_321
    assert y.min() == -7.0 and x[np.argmin(y)] == 123_457
    assert item.opts["autoDownsample"] is False and item.opts["clipToView"] is False
    assert item.opts["connect"] == "all"  # no gaps: the fast path
    view = chart.getPlotItem().vb.viewRange()[1]
    assert view[0] <= -7.0 and view[1] >= 9.0  # auto-range saw the extremes
    # the hover read-out reads the raw series
    assert "9</b>" in chart.show_readout_at(654_321)


def test_gaps_stay_gaps_in_a_long_series(chart):
    values = np.sin(np.arange(200_000) / 500.0)
    values[50_000:60_000] = np.nan  # many whole buckets of NaN
    add(chart, 1, values, weight=0.0)
    chart.refresh()
    item = chart.curves[(1, "loss")].raw
    x, y = item.getOriginalDataset()
    assert item.opts["connect"] == "finite"
    gap = np.isnan(y)
    assert gap.any() and (x[gap] >= 50_000).all() and (x[gap] < 60_000).all()
    assert np.isfinite(y[(x < 50_000) | (x >= 60_000)]).all()


@pytest.mark.parametrize("mode", ["step", "time"])
def test_zooming_in_shows_the_raw_points_and_zooming_out_the_envelope(chart, qtbot, mode):
    chart.context.set_x_mode(mode)
    chart.context.note_first_time(1, 1_000.0)  # time mode's x: seconds since then, = steps
    values = np.cos(np.arange(100_000) / 300.0)
    series = add(chart, 1, values)
    chart.refresh()
    raw, smooth = chart.curves[(1, "loss")].raw, chart.curves[(1, "loss")].smooth
    assert len(raw.getOriginalDataset()[0]) <= 2 * MAX_BUCKETS
    vb = chart.getPlotItem().vb
    vb.setXRange(40_000, 41_000, padding=0)
    x, y = raw.getOriginalDataset()
    shown = (x >= 40_000) & (x <= 41_000)
    np.testing.assert_array_equal(x[shown], np.arange(40_000, 41_001))  # every point
    np.testing.assert_array_equal(y[shown], values[40_000:41_001])
    xs, ys = smooth.getOriginalDataset()
    np.testing.assert_array_equal(
        ys[(xs >= 40_000) & (xs <= 41_000)], series.smoothed[40_000:41_001]
    )
    # a live point while zoomed keeps the zoomed view's detail
    series.extend([100_000], [101_000.0], [0.0])
    chart.refresh()
    x, _ = raw.getOriginalDataset()
    assert np.array_equal(x[(x >= 40_000) & (x <= 41_000)], np.arange(40_000, 41_001))
    vb.enableAutoRange()
    qtbot.waitUntil(lambda: raw.getOriginalDataset()[0][0] == 0, timeout=2000)
    x, _ = raw.getOriginalDataset()
    assert x[-1] == 100_000 and len(x) <= 2 * MAX_BUCKETS


@pytest.mark.parametrize("max_buckets", [1, 64, 512])
def test_fewer_buckets_asked_for_are_the_brute_force_of_larger_buckets(max_buckets):
    rng = np.random.default_rng(max_buckets)
    values = random_values(rng, 37_123)  # the last bucket partial
    envelope = Envelope()
    envelope.update(values, values.size)
    indices = envelope.indices(max_buckets)
    size = bucket_size(values.size, max_buckets)  # what an envelope of that many would use
    assert size > envelope.size
    lo_idx, _, hi_idx, _ = brute_force(values, size)
    expected = np.stack([np.minimum(lo_idx, hi_idx), np.maximum(lo_idx, hi_idx)], 1).ravel()
    np.testing.assert_array_equal(indices, expected)
    assert indices.size <= 2 * max_buckets
    np.testing.assert_array_equal(envelope.indices(), envelope.indices(MAX_BUCKETS))


def test_a_narrow_chart_draws_fewer_points_and_more_when_widened(chart, qtbot):
    chart.resize(400, 300)
    qtbot.waitUntil(lambda: chart.getPlotItem().vb.width() < 400)
    values = np.sin(np.arange(300_000) / 900.0)
    add(chart, 1, values)
    chart.refresh()
    item = chart.curves[(1, "loss")].raw
    width = chart.getPlotItem().vb.width()
    drawn = len(item.getOriginalDataset()[0])
    assert width <= drawn / 2 < 4 * width  # at least one bucket per pixel column
    chart.resize(1800, 500)
    qtbot.waitUntil(lambda: len(item.getOriginalDataset()[0]) > drawn, timeout=2000)
    assert len(item.getOriginalDataset()[0]) <= 2 * MAX_BUCKETS
