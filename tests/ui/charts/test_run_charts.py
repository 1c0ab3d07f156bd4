"""RunCharts: charts per metric group, buffers, EMA, gaps, x modes, log scale, overlays,
exports, the redraw timer and many updates (docs/architecture.md, "Views and charts" and "Pitfalls")."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from ui.charts import RunCharts
from ui.charts.groups import chart_sort_key, chart_title
from ui.charts.series import Series, ema, ema_reference


def rows_for(metrics, steps, t0=1_000.0, dt=0.5, value=lambda m, s: float(s)):
    return [(s, t0 + s * dt, m, value(m, s)) for s in steps for m in metrics]


def drawn_length(charts, title, run_id, metric, smooth=False):
    """Points of the series the drawn curve stands for (a long one is drawn as its envelope)."""
    curve = charts.chart(title).curves[(run_id, metric)]
    item = curve.smooth if smooth else curve.raw
    x, _ = item.getOriginalDataset()
    return 0 if x is None else curve.drawn_points


def test_metric_groups():
    cases = {
        "loss": "loss",
        "eval_loss": "loss",
        "nll_loss": "loss",
        "eval_nll_loss": "loss",
        "reward": "reward",
        "reward_std": "reward spread",
        "rewards/format/mean": "reward",
        "rewards/chosen": "reward",
        "eval_rewards/rejected": "reward",
        "rewards/margins": "margins & accuracies",
        "rewards/accuracies": "margins & accuracies",
        "accuracy": "margins & accuracies",
        "frac_reward_zero_std": "reward spread",
        "eval_rewards/margins": "margins & accuracies",
        # Online RL (TRL's names): the reward and its parts together, eval ones as markers.
        "eval_reward": "reward",
        "eval_rewards/answer/mean": "reward",
        "rewards/answer/std": "reward spread",
        "rewards/answer/failures": "rule failures",
        "objective/scores": "reward",
        "objective/kl_coef": "KL",
        "objective/kl": "KL",
        "clip_ratio/low_mean": "clip ratio",
        "val/explained_variance": "value head",
        "loss/value": "loss",
        "eval_completions/mean_length": "completion length",
        "train/generation_seconds": "throughput",
        "train/generation_share": "throughput",
        "online_dpo/tie_fraction": "margins & accuracies",
        "logps/chosen": "log-probs",
        "kl": "KL",
        "policy/approxkl": "KL",
        "clip_ratio/region_mean": "clip ratio",
        "policy/clipfrac": "clip ratio",
        "entropy": "entropy",
        "completions/mean_length": "completion length",
        "grad_norm": "gradient norm",
        "learning_rate": "learning rate",
        "train/examples_per_second": "throughput",
        "train/step_seconds": "throughput",
        "memory/peak_gb": "memory",
        "logits/chosen": "logits",
        "epoch": "epoch",
    }
    for metric, title in cases.items():
        assert chart_title(metric) == title, metric
    ordered = sorted(["epoch", "memory", "loss", "KL", "logits", "reward"], key=chart_sort_key)
    assert ordered == ["loss", "reward", "KL", "memory", "epoch", "logits"]


def test_appending_creates_charts_in_order(charts, qtbot):
    assert charts.chart_names() == []
    with qtbot.waitSignal(charts.pointsAdded, timeout=1000):
        charts.append(1, rows_for(["grad_norm", "memory/peak_gb", "learning_rate"], range(3)))
    assert charts.chart_names() == ["gradient norm", "learning rate", "memory"]
    charts.append(1, rows_for(["loss", "eval_loss", "rewards/margins", "epoch"], range(3)))
    assert charts.chart_names() == [
        "loss",
        "margins & accuracies",
        "gradient norm",
        "learning rate",
        "memory",
        "epoch",
    ]
    # laid out row by row, three columns
    grid = charts._grid
    positions = [
        grid.getItemPosition(grid.indexOf(charts.chart(t)))[:2] for t in charts.chart_names()
    ]
    assert positions == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]
    # eval_loss shares the loss chart, drawn with markers and no smoothed curve
    loss = charts.chart("loss")
    assert set(loss.curves) == {(1, "loss"), (1, "eval_loss")}
    assert loss.curves[(1, "eval_loss")].raw.opts["symbol"] == "o"
    assert loss.curves[(1, "eval_loss")].smooth is None
    # docs/architecture.md, "Views and charts" settings survive PlotItem.addItem (which applies the plot's own)
    for item in loss.getPlotItem().listDataItems():
        assert item.opts["autoDownsample"] and item.opts["downsampleMethod"] == "peak"
        assert item.opts["clipToView"] and item.opts["antialias"] is False
        assert item.opts["pen"].width() <= 1


def test_point_count(charts):
    charts.append(7, rows_for(["loss", "kl"], range(10)))
    charts.append(7, rows_for(["loss"], range(10, 15)))
    assert charts.point_count(7, "loss") == 15
    assert charts.point_count(7, "kl") == 10
    assert charts.point_count(7, "entropy") == 0
    assert charts.point_count(99, "loss") == 0


@pytest.mark.parametrize("weight", [0.0, 0.3, 0.6, 0.9, 0.99])
def test_ema_equals_reference(weight):
    rng = np.random.default_rng(0)
    values = rng.normal(3.0, 2.0, size=3000)
    values[rng.random(3000) < 0.05] = np.nan
    expected = np.array(ema_reference(values.tolist(), weight))
    whole, _, _ = ema(values, weight)
    np.testing.assert_allclose(whole, expected, rtol=1e-12, atol=1e-12, equal_nan=True)
    # incrementally, in uneven batches, as the poller delivers them
    series = Series(weight, capacity=4)
    for start, stop in ((0, 1), (1, 17), (17, 700), (700, 3000)):
        series.extend(np.arange(start, stop), np.arange(start, stop), values[start:stop])
    np.testing.assert_allclose(
        series.smoothed[: series.n], expected, rtol=1e-12, atol=1e-12, equal_nan=True
    )
    assert series.capacity >= 3000  # grew by doubling


def test_widget_smoothing_matches_reference_and_changes(charts, qtbot):
    values = [1.0, 4.0, None, 2.0, 8.0, 5.0, float("nan"), 3.0]
    charts.set_smoothing(0.6)
    charts.append(1, [(i, 100.0 + i, "loss", v) for i, v in enumerate(values)])
    series = charts._series[1]["loss"]
    np.testing.assert_allclose(
        series.smoothed[: series.n], ema_reference(values, 0.6), equal_nan=True
    )
    charts.set_smoothing(0.9)
    assert charts.smooth_slider.value() == 90
    np.testing.assert_allclose(
        series.smoothed[: series.n], ema_reference(values, 0.9), equal_nan=True
    )
    charts.set_smoothing(5)  # clamped
    assert charts.smoothing() == 0.99
    charts.smooth_slider.setValue(0)  # the toolbar drives the same setting
    assert charts.smoothing() == 0.0
    charts.redraw()
    assert not charts.chart("loss").curves[(1, "loss")].smooth.isVisible()


def test_a_constant_metric_smooths_to_itself():
    series = Series(0.6)
    series.extend(range(500), range(500), [3.2] * 500)
    assert (series.smoothed[:500] == 3.2).all()


def test_nan_values_are_gaps(charts):
    values = [1.0, 2.0, None, float("nan"), 5.0, 6.0]
    charts.append(1, [(i, 10.0 + i, "grad_norm", v) for i, v in enumerate(values)])
    charts.redraw()
    curve = charts.chart("gradient norm").curves[(1, "grad_norm")]
    assert curve.raw.opts["connect"] == "finite"
    _, y = curve.raw.getOriginalDataset()
    assert len(y) == 6 and np.isnan(y[2]) and np.isnan(y[3])
    _, smooth = curve.smooth.getOriginalDataset()
    assert np.isnan(smooth[2]) and np.isfinite(smooth[4])
    assert charts.point_count(1, "grad_norm") == 6
    # all-NaN series neither
    charts.append(2, [(i, 0.0, "grad_norm", None) for i in range(5)])
    charts.redraw()
    assert charts.point_count(2, "grad_norm") == 5


def test_x_mode_time(charts):
    charts.append(1, [(10, 500.0, "loss", 1.0), (20, 502.5, "loss", 0.9)])
    charts.append(1, [(30, 510.0, "loss", 0.8), (30, 510.0, "kl", 0.1)])
    charts.append(2, [(1, 9_000.0, "loss", 2.0), (2, 9_004.0, "loss", 1.0)])
    charts.set_x_mode("time")
    assert charts.x_combo.currentData() == "time"
    charts.redraw()
    loss = charts.chart("loss")
    x1, _ = loss.curves[(1, "loss")].raw.getOriginalDataset()
    x2, _ = loss.curves[(2, "loss")].raw.getOriginalDataset()
    np.testing.assert_allclose(x1, [0.0, 2.5, 10.0])  # seconds since the run's first point
    np.testing.assert_allclose(x2, [0.0, 4.0])
    kl_x, _ = charts.chart("KL").curves[(1, "kl")].raw.getOriginalDataset()
    np.testing.assert_allclose(kl_x, [10.0])  # the run's first point, not the metric's
    assert "step 20" in loss.show_readout_at(2.4)
    charts.x_combo.setCurrentIndex(0)
    assert charts.x_mode() == "step"
    charts.redraw()
    x1, _ = loss.curves[(1, "loss")].raw.getOriginalDataset()
    np.testing.assert_allclose(x1, [10, 20, 30])
    with pytest.raises(ValueError):
        charts.set_x_mode("epoch")


def test_log_scale_with_zero_and_negative_values(charts, qtbot):
    charts.append(
        1, [(i, float(i), "loss", v) for i, v in enumerate([1.0, 0.0, -2.0, None, 0.5, 1e-9, 3.0])]
    )
    charts.set_log_scale(True)
    assert charts.log_check.isChecked()
    charts.redraw()
    charts.append(1, [(7, 7.0, "loss", -1.0), (7, 7.0, "kl", 0.0)])  # new chart in log mode
    charts.redraw()
    charts.grab()  # paints every curve in log mode
    assert charts.chart("KL").getPlotItem().ctrl.logYCheck.isChecked()
    charts.chart("loss").show_readout_at(2)
    charts.log_check.setChecked(False)
    charts.redraw()
    charts.grab()
    assert not charts.chart("loss").getPlotItem().ctrl.logYCheck.isChecked()


def test_two_runs_overlay(charts):
    charts.append(1, rows_for(["loss", "eval_loss"], range(20)))
    charts.append(2, rows_for(["loss"], range(30)))
    charts.set_run_label(1, "DPO β=0.1")
    charts.set_run_label(2, "ORPO")
    charts.redraw()
    loss = charts.chart("loss")
    # loss: raw + smoothed per run; eval_loss: markers only
    items = [i for i in loss.getPlotItem().listDataItems()]
    assert len(items) == 5
    assert charts.chart_names() == ["loss"]
    pens = {key: c.smooth.opts["pen"].color().name() for key, c in loss.curves.items() if c.smooth}
    assert pens[(1, "loss")] != pens[(2, "loss")]
    assert "DPO β=0.1" in loss.legend.text() and "ORPO" in loss.legend.text()
    text = loss.show_readout_at(10)
    assert "DPO β=0.1 · loss" in text and "ORPO · loss" in text and "eval_loss" in text
    charts.remove_run(1)
    assert set(loss.curves) == {(2, "loss")}
    assert len(loss.getPlotItem().listDataItems()) == 2
    assert "DPO" not in loss.legend.text()
    charts.remove_run(2)
    assert charts.chart_names() == []
    charts.append(3, rows_for(["kl"], range(3)))
    charts.clear()
    assert charts.chart_names() == [] and charts.point_count(3, "kl") == 0


def test_export_csv_round_trip(charts, tmp_path):
    rows1 = [
        (s, 1_700_000_000.25 + s, m, (None if s == 3 else s / 7))
        for s in range(10)
        for m in ("loss", "rewards/chosen")
    ]
    rows2 = [(s, 1_700_000_500.5 + s, "loss", -s * 1e-8) for s in range(5)]
    charts.append(1, rows1)
    charts.append(2, rows2)
    path = tmp_path / "metrics.csv"
    assert charts.export_csv(path) == 25
    with path.open(newline="") as fh:
        read = list(csv.DictReader(fh))
    assert len(read) == 25
    got = {
        (
            int(r["run_id"]),
            int(r["step"]),
            float(r["time"]),
            r["metric"],
            None if r["value"] == "" else float(r["value"]),
        )
        for r in read
    }
    expected = {(1, *r) for r in rows1} | {(2, *r) for r in rows2}
    assert got == expected


def test_export_png(charts, tmp_path):
    charts.append(1, rows_for(["loss", "grad_norm", "learning_rate"], range(50)))
    charts.redraw()
    one = tmp_path / "loss.png"
    charts.export_png(one, "loss")
    image = QImage(str(one))
    chart = charts.chart("loss")
    ratio = chart.devicePixelRatioF()
    assert one.stat().st_size > 1000
    assert (image.width(), image.height()) == (
        round(chart.width() * ratio),
        round(chart.height() * ratio),
    )
    grid = tmp_path / "all.png"
    charts.export_png(grid)
    image = QImage(str(grid))
    assert image.width() >= 3 * chart.width() and not image.isNull()
    with pytest.raises(KeyError):
        charts.export_png(tmp_path / "x.png", "no such chart")


def test_export_buttons_use_the_file_dialog(charts, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    target = tmp_path / "out.csv"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(target), ""))
    )
    charts.append(1, rows_for(["loss"], range(4)))
    charts.csv_button.click()
    assert target.read_text().count("\n") == 5
    charts.png_button.click()
    assert target.stat().st_size > 0  # overwritten by the PNG of the grid
    assert QImage(str(target)).width() > 0


def test_the_timer_redraws_after_appends(charts, qtbot):
    charts.append(1, rows_for(["loss"], range(5)))
    assert charts.redraw_count == 0  # append only stores
    qtbot.waitUntil(lambda: drawn_length(charts, "loss", 1, "loss") == 5, timeout=2000)
    assert drawn_length(charts, "loss", 1, "loss", smooth=True) == 5
    for start in range(5, 500, 5):  # many appends between two ticks: few redraws
        charts.append(1, rows_for(["loss"], range(start, start + 5)))
    qtbot.waitUntil(lambda: drawn_length(charts, "loss", 1, "loss") == 500, timeout=2000)
    assert charts.redraw_count < 10


def test_hidden_widget_draws_when_shown(charts, qtbot):
    charts.hide()
    charts.append(1, rows_for(["loss"], range(5)))
    qtbot.wait(150)
    assert drawn_length(charts, "loss", 1, "loss") == 0
    charts.show()
    qtbot.waitUntil(lambda: drawn_length(charts, "loss", 1, "loss") == 5, timeout=2000)


def test_hover_readout(charts, qtbot):
    charts.set_smoothing(0.5)
    charts.append(1, [(s, float(s), "loss", s * 2.0) for s in range(0, 100, 10)])
    charts.redraw()
    chart = charts.chart("loss")
    qtbot.waitUntil(chart.isVisible, timeout=1000)  # a new chart is shown by the event loop
    text = chart.show_readout_at(31)
    assert "step 30" in text and "60" in text and "smoothed" in text
    assert chart.hover_index[(1, "loss")] == 3
    assert chart.readout.isVisible() and chart.cursor.isVisible()
    # a real mouse move over the plot goes through the rate-limited proxy
    vb = chart.getPlotItem().vb
    scene_pos = vb.mapViewToScene(vb.viewRect().center())
    chart._mouse_moved((scene_pos,))
    assert chart.readout.isVisible()
    chart.hide_readout()
    assert not chart.readout.isVisible()


def test_20000_appends_to_one_series(charts, qtbot):
    """docs/architecture.md, "Pitfalls": thousands of chart updates must not crash PySide6."""

    charts.set_smoothing(0.6)
    for i in range(20_000):
        charts.append(1, [(i, 1000.0 + i, "loss", math.sin(i / 50.0))])
        if i % 4 == 0:  # 5,000 redraws x 2 curves: 10,000 setData calls on growing data
            charts.redraw()  # (tests/ui/test_curve_stress.py does 20,000 on a fixed size)
        if i % 1000 == 0:
            QApplication.processEvents()
    qtbot.waitUntil(lambda: drawn_length(charts, "loss", 1, "loss") == 20_000, timeout=3000)
    assert charts.point_count(1, "loss") == 20_000
    _, y = charts.chart("loss").curves[(1, "loss")].raw.getOriginalDataset()
    assert np.isfinite(y).all()


def test_a_tick_updates_a_few_charts_and_comes_back_for_the_rest(charts, qtbot):
    from ui.charts.run_charts import CHARTS_PER_TICK

    metrics = ["loss", "kl", "entropy", "grad_norm", "learning_rate", "memory/x", "epoch"]
    charts.append(1, rows_for(metrics, range(3)))
    charts.redraw(force=True)  # every chart made and drawn
    charts.append(1, rows_for(metrics, range(3, 6)))
    assert len(charts.chart_names()) == 7 > CHARTS_PER_TICK
    charts.redraw()
    drawn = [t for t, c in charts._charts.items() if not c.stale()]
    assert len(drawn) == CHARTS_PER_TICK
    qtbot.waitUntil(
        lambda: not any(c.stale() for c in charts._charts.values()),
        timeout=2000,
    )


def test_a_first_batch_makes_its_charts_a_few_per_tick(charts, qtbot):
    from ui.charts.run_charts import CHARTS_MADE_PER_TICK

    metrics = ["loss", "kl", "entropy", "grad_norm", "learning_rate", "memory/x", "epoch"]
    charts.append(1, rows_for(metrics, range(3)))
    assert len(charts.chart_names()) == 7  # named at once, for views that list them
    assert charts._charts == {}  # but none made inside append
    charts.redraw()
    assert len(charts._charts) == CHARTS_MADE_PER_TICK
    assert charts._timer.isActive()  # it comes back for the rest
    qtbot.waitUntil(lambda: len(charts._charts) == 7 and not charts._pending, timeout=3000)
    qtbot.waitUntil(lambda: not any(c.stale() for c in charts._charts.values()), timeout=3000)
    assert charts.chart_names()[0] == "loss"
    assert charts.point_count(1, "epoch") == 3


def test_asking_for_a_pending_chart_by_name_makes_it(charts):
    charts.append(1, rows_for(["loss", "kl"], range(2)))
    chart = charts.chart("KL")
    assert [m for _, m in chart.curves] == ["kl"]
    assert "loss" in charts._pending  # the other one still waits for the timer


def test_one_run_tells_its_metrics_apart_by_colour_and_several_runs_by_run(charts):
    charts.append(1, rows_for(["loss", "nll_loss", "eval_loss"], range(3)))
    chart = charts.chart("loss")
    colours = {m: chart.color_of(1, m).name() for m in ("loss", "nll_loss", "eval_loss")}
    assert colours["loss"] != colours["nll_loss"]
    assert colours["eval_loss"] == colours["loss"]  # markers in the train metric's colour
    assert chart.dash_for("nll_loss") is None  # solid: colour is enough
    assert "nll_loss" in chart.legend.text() and "eval_loss" in chart.legend.text()
    charts.append(2, rows_for(["loss", "nll_loss"], range(3)))
    assert chart.color_of(1, "loss") == chart.color_of(1, "nll_loss")  # now a run's colour
    assert chart.color_of(1, "loss") != chart.color_of(2, "loss")
    assert chart.dash_for("nll_loss") is not None
    pen = chart.curves[(1, "nll_loss")].smooth.opts["pen"]
    assert pen.dashPattern()  # restyled when the second run came


def test_axes_say_what_they_show_and_the_legend_sits_above_the_plot(charts):
    charts.append(1, rows_for(["loss", "kl", "completions/mean_length"], range(3)))
    kl = charts.chart("KL")
    assert kl.getPlotItem().getAxis("left").labelText == "KL (nats)"
    assert charts.chart("completion length").getPlotItem().getAxis("left").labelText == "tokens"
    layout = kl.layout()
    assert layout.indexOf(kl.legend) < layout.indexOf(kl.plot_widget)


def test_grouping_by_metric_keeps_quantities_of_different_meaning_apart(qtbot):
    charts = RunCharts(group_by="metric")
    qtbot.addWidget(charts)
    charts.append(1, rows_for(["rewards/chosen", "loss", "eval_loss"], range(3)))
    charts.append(2, rows_for(["reward", "loss"], range(3)))
    assert set(charts.chart_names()) == {"loss", "rewards/chosen", "reward"}
    assert [m for _, m in charts.chart("loss").curves] == ["loss", "eval_loss", "loss"]
    with pytest.raises(ValueError, match="group_by"):
        RunCharts(group_by="loose")


def test_the_hover_read_out_stays_inside_the_plot(charts, qtbot):
    charts.set_run_label(1, "a run name long enough to be wider than a narrow chart " * 3)
    charts.append(1, rows_for(["loss"], range(50)))
    charts.redraw(force=True)
    chart = charts.chart("loss")
    chart.resize(260, 200)
    QApplication.processEvents()
    chart.show_readout_at(49)
    box = chart.readout.geometry()
    inside = chart.plot_widget.rect()
    assert box.right() <= inside.right() and box.left() >= inside.left()
    assert box.bottom() <= inside.bottom()
