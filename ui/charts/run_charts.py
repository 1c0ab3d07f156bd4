"""Live training charts: one chart per metric group, runs overlaid, redrawn at ~15 Hz.

``append`` only stores points into each series' growing numpy buffers (and advances the
EMA); a single-shot QTimer then redraws the changed curves at most ~15 times a second,
never once per point. While the widget is hidden nothing is drawn; it catches up when
shown. See docs/architecture.md, "Views and charts".
"""

from __future__ import annotations

import csv
import functools
import math
from collections import defaultdict
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from ui.charts.card import ChartSlot
from ui.charts.chart import MetricChart
from ui.charts.context import X_MODES, ChartContext
from ui.charts.groups import base_name, chart_sort_key, chart_title
from ui.charts.series import Series

REDRAW_MS = 66  # ~15 Hz
# Charts updated (and so repainted, ~10 ms each) per timer tick: with 2, a run's ten charts
# still update about four times a second, in stalls half as long as with 4.
CHARTS_PER_TICK = 2
# Making a chart costs ~15 ms (plot widget, axes, legend) and painting it ~10 ms: a run's
# first batch names a dozen metric groups, so charts are made one per tick, each in the
# place its slot kept (card.py), rather than all in one stall.
CHARTS_MADE_PER_TICK = 1
MAX_SMOOTHING = 0.99
DEFAULT_SMOOTHING = 0.6
Row = tuple[int, float, str, "float | None"]
GROUPINGS = ("family", "metric")


class RunCharts(QWidget):
    """Charts of every metric of one or several runs (see the module docstring). The
    toolbar's settings and each run's colour, label and t0 live in ``context``, which
    every MetricChart reads."""

    pointsAdded = Signal()

    def __init__(self, parent=None, *, max_columns: int = 3, group_by: str = "family"):
        super().__init__(parent)
        if group_by not in GROUPINGS:
            raise ValueError(f"group_by must be one of {GROUPINGS}, not {group_by!r}")
        self.max_columns = max(1, int(max_columns))
        # "family": related metrics share a chart (one run's view); "metric": a chart per
        # metric name, for overlays of runs whose algorithms give one family different
        # meanings (DPO's implicit reward beside GRPO's rule reward).
        self.group_by = group_by
        self._series: dict[int, dict[str, Series]] = {}
        self.context = ChartContext("step", DEFAULT_SMOOTHING)  # what the charts draw with
        self._charts: dict[str, MetricChart] = {}
        # Series whose chart is not made yet, by chart title (made by the timer, a few a
        # tick, or at once when asked for by name).
        self._pending: dict[str, list[tuple[int, str, Series]]] = {}
        self._slots: dict[str, ChartSlot] = {}  # the grid place of each pending chart
        self._log = False
        self.redraw_count = 0  # timer redraws done (tests, benchmark)
        self._ticks = 0  # chart updates so far: a chart's last one orders who goes next
        self._made_last = False  # the last tick made a chart: this one updates charts

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REDRAW_MS)
        self._timer.timeout.connect(self.redraw)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self._build_toolbar())
        self._scroll = QScrollArea()
        self._scroll.setWidgetResizable(True)
        self._scroll.setFrameShape(QFrame.Shape.NoFrame)
        self._grid_widget = QWidget()
        self._grid_widget.setObjectName("chartGrid")
        self._grid = QGridLayout(self._grid_widget)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setSpacing(8)
        self._empty = QLabel("No metrics yet: charts appear as a run logs its first steps.")
        self._empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._empty.setProperty("muted", True)
        self._grid.addWidget(self._empty, 0, 0)
        self._scroll.setWidget(self._grid_widget)
        layout.addWidget(self._scroll, 1)

    # ------------------------------------------------------------------ toolbar

    def _build_toolbar(self) -> QWidget:
        bar = QWidget()
        bar.setObjectName("chartToolbar")
        row = QHBoxLayout(bar)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(8)
        row.addWidget(QLabel("X axis"))
        self.x_combo = QComboBox()
        self.x_combo.addItem("step", "step")
        self.x_combo.addItem("time (s)", "time")
        self.x_combo.setToolTip("Steps, or seconds since each run's first logged point")
        self.x_combo.currentIndexChanged.connect(self._x_combo_changed)
        row.addWidget(self.x_combo)
        row.addSpacing(8)
        row.addWidget(QLabel("Smoothing"))
        self.smooth_slider = QSlider(Qt.Orientation.Horizontal)
        self.smooth_slider.setRange(0, round(MAX_SMOOTHING * 100))
        self.smooth_slider.setValue(round(self.context.smoothing * 100))
        self.smooth_slider.setFixedWidth(140)
        self.smooth_slider.setToolTip(
            "Exponential moving average weight (TensorBoard-style); 0 shows the raw values only"
        )
        self.smooth_slider.valueChanged.connect(self._slider_changed)
        row.addWidget(self.smooth_slider)
        self.smooth_value = QLabel(f"{self.context.smoothing:.2f}")
        self.smooth_value.setMinimumWidth(32)
        row.addWidget(self.smooth_value)
        row.addSpacing(8)
        self.log_check = QCheckBox("Log scale")
        self.log_check.setToolTip("Logarithmic y axes; values at or below zero are left out")
        self.log_check.toggled.connect(self.set_log_scale)
        row.addWidget(self.log_check)
        row.addStretch(1)
        # Short labels: the toolbar must fit beside the Train view's form without clipping.
        self.png_button = QPushButton("PNG…")
        self.png_button.setToolTip("Export: save every chart as one PNG image")
        self.png_button.clicked.connect(self._ask_export_png)
        row.addWidget(self.png_button)
        self.csv_button = QPushButton("CSV…")
        self.csv_button.setToolTip(
            "Export: save every point of every run: run_id, step, time, metric, value"
        )
        self.csv_button.clicked.connect(self._ask_export_csv)
        row.addWidget(self.csv_button)
        bar.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        return bar

    def _x_combo_changed(self, _index: int) -> None:
        self.set_x_mode(self.x_combo.currentData())

    def _slider_changed(self, value: int) -> None:
        self.set_smoothing(value / 100.0)

    def _ask_export_png(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export charts as PNG", "charts.png", "PNG images (*.png)"
        )
        if path:
            self._guarded(lambda: self.export_png(path), "Exporting the charts")

    def _ask_export_csv(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export metrics as CSV", "metrics.csv", "CSV files (*.csv)"
        )
        if path:
            self._guarded(lambda: self.export_csv(path), "Exporting the metrics")

    def _guarded(self, action, doing: str) -> None:
        try:
            action()
        except OSError as exc:
            from ui.messages import show_error

            show_error(self, "Export failed", exc, doing)

    # ------------------------------------------------------------------ settings

    def x_mode(self) -> str:
        return self.context.x_mode

    def smoothing(self) -> float:
        return self.context.smoothing

    def color_index(self, run_id: int) -> int:
        """The run's colour in RUN_COLORS (views colour their own rows to match)."""
        return self.context.color_index(run_id)

    # ------------------------------------------------------------------ public API

    def clear(self) -> None:
        """Remove every run and chart."""
        for chart in self._charts.values():
            self._grid.removeWidget(chart)
            chart.hide()
            chart.deleteLater()
        self._charts.clear()
        self._pending.clear()
        self._drop_slots(list(self._slots))
        self._series.clear()
        self.context.clear()
        self._timer.stop()
        self._relayout()

    def set_run_label(self, run_id: int, label: str) -> None:
        """The legend text for a run's curves."""
        if not self.context.set_label(run_id, label):
            return
        for chart in self._charts.values():
            if any(run == run_id for run, _ in chart.curves):
                chart.rebuild_legend()

    def remove_run(self, run_id: int) -> None:
        if run_id not in self._series and not self.context.has_label(run_id):
            return
        self._series.pop(run_id, None)
        self.context.forget(run_id)
        for title in list(self._pending):
            kept = [entry for entry in self._pending[title] if entry[0] != run_id]
            if kept:
                self._pending[title] = kept
            else:
                del self._pending[title]
                self._drop_slots([title])
        for title in list(self._charts):
            chart = self._charts[title]
            chart.remove_run(run_id)
            if chart.curves:
                chart.rebuild_legend()
            else:  # a chart with no curve left goes
                if title in self._slots:  # made, not placed yet
                    self._drop_slots([title])
                self._grid.removeWidget(chart)
                chart.hide()
                chart.deleteLater()
                del self._charts[title]
        self._relayout()

    def append(self, run_id: int, rows: list[Row]) -> None:
        """Store rows (step, unix time, metric, value or None); drawing happens later."""
        if not rows:
            return
        grouped: dict[str, tuple[list, list, list]] = defaultdict(lambda: ([], [], []))
        for step, when, metric, value in rows:
            steps, times, values = grouped[metric]
            steps.append(step)
            times.append(math.nan if when is None else when)
            values.append(math.nan if value is None else value)
        run = self._series.setdefault(run_id, {})
        first = min((t for _, t, _, _ in rows if t is not None), default=None)
        if first is not None:
            self.context.note_first_time(run_id, first)
        new_chart = False
        for metric, (steps, times, values) in grouped.items():
            series = run.get(metric)
            if series is None:
                series = run[metric] = Series(self.context.smoothing)
                new_chart |= self._attach(run_id, metric, series)
            series.extend(steps, times, values)
        if new_chart:
            self._relayout()  # slots for the new charts: the grid takes its final shape now
        if not self._timer.isActive():
            self._timer.start()
        self.pointsAdded.emit()

    def set_x_mode(self, mode: str) -> None:
        """ "step", or "time": seconds since the run's first point."""
        if mode not in X_MODES:
            raise ValueError(f"x mode must be one of {X_MODES}, not {mode!r}")
        self._sync(self.x_combo, lambda: self.x_combo.setCurrentIndex(X_MODES.index(mode)))
        if not self.context.set_x_mode(mode):
            return
        for chart in self._charts.values():
            chart.set_x_label(mode)
            chart.hide_readout()
            chart.getPlotItem().enableAutoRange()
        self._schedule()

    def set_smoothing(self, weight: float) -> None:
        """EMA weight 0..0.99 (0 = raw only)."""
        weight = min(MAX_SMOOTHING, max(0.0, float(weight)))
        self._sync(self.smooth_slider, lambda: self.smooth_slider.setValue(round(weight * 100)))
        self.smooth_value.setText(f"{weight:.2f}")
        if not self.context.set_smoothing(weight):
            return
        for run in self._series.values():
            for series in run.values():
                series.set_weight(weight)
        for chart in self._charts.values():
            chart.restyle_all()
        self._schedule()

    def set_log_scale(self, on: bool) -> None:
        on = bool(on)
        self._sync(self.log_check, lambda: self.log_check.setChecked(on))
        if on == self._log:
            return
        self._log = on
        for chart in self._charts.values():
            chart.set_log(on)

    def chart_names(self) -> list[str]:
        """Titles of the charts present (made or about to be), in display order."""
        return sorted({*self._charts, *self._pending}, key=self._sort_key)

    def settled(self) -> bool:
        """Every chart made, in its place and drawn: nothing waits for a timer tick (what
        a screenshot or a test waits for; a first batch of charts takes a few ticks)."""
        if self._pending or self._slots:
            return False
        return not any(chart.stale() for chart in self._charts.values())

    def point_count(self, run_id: int, metric: str) -> int:
        series = self._series.get(run_id, {}).get(metric)
        return 0 if series is None else series.n

    def export_csv(self, path) -> int:
        """Every run's every metric as run_id,step,time,metric,value; returns the data rows."""
        count = 0
        with Path(path).open("w", newline="", encoding="utf-8") as fh:
            out = csv.writer(fh)
            out.writerow(["run_id", "step", "time", "metric", "value"])
            for run_id, run in self._series.items():
                for metric, s in run.items():
                    for step, when, value in zip(
                        s.steps[: s.n].tolist(),
                        s.times[: s.n].tolist(),
                        s.values[: s.n].tolist(),
                        strict=True,
                    ):
                        out.writerow(
                            [
                                run_id,
                                int(step) if step.is_integer() else repr(step),
                                repr(when) if math.isfinite(when) else "",
                                metric,
                                repr(value) if math.isfinite(value) else "",
                            ]
                        )
                    count += s.n
        return count

    def export_png(self, path, chart: str | None = None) -> None:
        """Save one chart (by title), or the whole grid, as a PNG at its on-screen size."""
        if chart is not None and chart not in self._charts:
            raise KeyError(f"no chart named {chart!r}; charts: {self.chart_names()}")
        self.redraw(force=True)
        widget = self._grid_widget if chart is None else self._charts[chart]
        for c in self._charts.values():
            c.hide_readout()
        if not widget.grab().save(str(path), "PNG"):
            raise OSError(f"could not write the image {path}")

    # ------------------------------------------------------------------ drawing

    def chart(self, title: str) -> MetricChart:
        """The chart widget of that title (views and tests); made now if still pending,
        and drawn too if it never was, unless hidden (a hidden chart draws when shown)."""
        if title in self._pending:
            self._make_chart(title)
        chart = self._charts[title]
        if chart.waiting_since < 0 and self.isVisible():  # made by a tick, not drawn yet
            self._refresh(chart)
        self._place(title)  # in the grid now, if it was waiting for its turn
        return chart

    def redraw(self, force: bool = False) -> int:
        """Hand new points to pyqtgraph (the timer calls this); returns the curves redrawn.

        A tick updates at most CHARTS_PER_TICK charts, those waiting longest first, and
        comes back for the rest: every updated chart is repainted (axes, text) in the same
        event-loop turn, so spreading them keeps each stall short. A tick that makes a
        chart does only that (see ``_make_turn``). ``force`` makes and updates all.
        """
        self._timer.stop()
        if not force and not self.isVisible():
            return 0  # drawn when shown
        if force:
            self._make_pending(None)
            for title in [t for t in self._slots if t in self._charts]:
                self._place(title)  # made in an earlier tick, its place still to take
            self.context.redraw_all()
        elif self._make_turn():
            self.redraw_count += 1
            return 0
        stale = [c for c in self._charts.values() if c.stale()]
        if not force:
            stale.sort(key=lambda c: c.waiting_since)
            if len(stale) > CHARTS_PER_TICK or self._pending:
                stale = stale[:CHARTS_PER_TICK]
                self._timer.start()  # the rest (charts to update or to make) next tick
        redrawn = sum(self._refresh(chart) for chart in stale)
        self.redraw_count += 1
        return redrawn

    def _refresh(self, chart: MetricChart) -> int:
        """Hand the chart its new points; it then waits behind every other chart."""
        self._ticks += 1
        chart.waiting_since = self._ticks
        return chart.refresh()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._schedule()

    def _schedule(self) -> None:
        if not self._timer.isActive():
            self._timer.start()

    def _attach(self, run_id: int, metric: str, series: Series) -> bool:
        """Add a series' curves to its chart, or queue them until the chart is made;
        True when the series names a new chart (whose slot is made here)."""
        title = chart_title(metric) if self.group_by == "family" else base_name(metric)
        chart = self._charts.get(title)
        if chart is None:
            new = title not in self._pending
            self._pending.setdefault(title, []).append((run_id, metric, series))
            if new:
                self._slots[title] = ChartSlot(title)
            return new
        chart.add_series(run_id, metric, series)
        chart.rebuild_legend()
        return False

    def _make_chart(self, title: str, place: bool = True) -> None:
        """Make a pending chart; it takes its slot's place now, or (``place`` False) in
        the next event-loop turn, so that making it (~15 ms) and laying out and painting it
        (~15 ms) are two short stalls with input handled between them, not one."""
        chart = self._charts[title] = MetricChart(self.context, title)
        chart.set_x_label(self.context.x_mode)
        if self._log:
            chart.set_log(True)
        for run_id, metric, series in self._pending.pop(title):
            chart.add_series(run_id, metric, series)
        chart.rebuild_legend()
        if place:
            self._place(title)
        else:
            # 1 ms, not 0: a zero timer is a posted event, handled with this turn's others
            QTimer.singleShot(1, self, functools.partial(self._place, title))

    def _place(self, title: str) -> None:
        """Put a made chart where its slot was."""
        chart, slot = self._charts.get(title), self._slots.get(title)
        if chart is None or slot is None:
            return  # placed already, or gone with its run
        del self._slots[title]
        if self._grid.replaceWidget(slot, chart) is None:  # not laid out yet
            self._relayout()
        slot.hide()
        slot.deleteLater()

    def _make_turn(self) -> bool:
        """Make the next pending chart(s) in this tick, and nothing else, unless the last
        tick made one and some chart waits for its points: a tick makes charts or updates
        charts, taking turns while both wait. When a run with a long history opens, making
        a chart (~15 ms) and handing charts their points (setData, then their paint) in
        the same tick would add up to one stall several times as long."""
        if not self._pending:
            self._made_last = False
            return False
        if self._made_last and any(chart.stale() for chart in self._charts.values()):
            self._made_last = False
            return False
        self._make_pending(CHARTS_MADE_PER_TICK)
        self._made_last = True
        self._timer.start()  # the new chart's points, and the charts still to make
        return True

    def _make_pending(self, limit: int | None) -> None:
        """Make up to ``limit`` pending charts (all, placed at once, when None), in
        display order; the timer comes back for the rest."""
        if not self._pending:
            return
        titles = sorted(self._pending, key=self._sort_key)
        for title in titles if limit is None else titles[:limit]:
            self._make_chart(title, place=limit is None)
        if self._pending:
            self._timer.start()

    def _drop_slots(self, titles: list[str]) -> None:
        for title in titles:
            slot = self._slots.pop(title)
            self._grid.removeWidget(slot)
            slot.hide()
            slot.deleteLater()

    def _relayout(self) -> None:
        """Every chart, made or still a slot, at its place in display order."""
        while self._grid.count():
            self._grid.takeAt(0)
        names = self.chart_names()
        self._empty.setVisible(not names)
        if not names:
            self._grid.addWidget(self._empty, 0, 0)
        columns = min(self.max_columns, max(1, len(names)))
        for i, name in enumerate(names):
            cell = self._slots[name] if name in self._slots else self._charts[name]
            self._grid.addWidget(cell, i // columns, i % columns)
        for col in range(self.max_columns):
            self._grid.setColumnStretch(col, 1 if col < columns else 0)

    def _sort_key(self, title: str) -> tuple:
        """Families in their fixed order; metric charts by their family, then by name."""
        if self.group_by == "family":
            return chart_sort_key(title)
        return (*chart_sort_key(chart_title(title)), title)

    @staticmethod
    def _sync(widget, update) -> None:
        """Move a toolbar control to match a programmatic change without echoing it."""
        blocked = widget.blockSignals(True)
        try:
            update()
        finally:
            widget.blockSignals(blocked)
