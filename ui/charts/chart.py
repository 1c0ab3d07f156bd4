"""One chart of a metric group: every run's curves for the metrics of that group.

With one run in the chart each metric has its own colour; with several runs a run is a
colour and the metrics sharing the chart differ by dash pattern (on the smoothed curve,
which is smooth enough for dashes to read). Eval metrics are drawn with markers in their
train counterpart's colour. The title, the y axis's quantity and unit, and the legend sit
above the plot, so the legend stays in sight with the chart's top.
Each series has a faint raw curve and the EMA on top (the raw one alone, in full colour,
when smoothing is off). Curves use 1-pixel pens and no antialiasing. A series of more than
``RAW_LIMIT`` points is drawn through its min/max envelope (``envelope.py``: ~4,096 points that
keep every peak, kept up to date incrementally) with pyqtgraph's own downsampling and
clip-to-view off, since those rescan the whole series on every setData; zoomed into less than
half of a series, the visible part is enveloped afresh from the raw values, so detail
appears. Shorter series are handed over whole, with pyqtgraph's peak downsampling and
clip-to-view. Gaps at NaN use ``connect="finite"``, only when the series has any: that
path paints several times slower than ``connect="all"``.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QSize, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QFrame, QLabel

from ui.charts.card import (
    PLOT_MIN_SIZE,
    PLOT_SIZE_HINT,
    TEXT,
    card_layout,
    frame_style,
    header_label,
    legend_label,
)
from ui.charts.context import ChartContext
from ui.charts.envelope import MAX_BUCKETS, RAW_LIMIT, window_indices
from ui.charts.groups import base_name, is_eval, y_axis_label
from ui.charts.series import Series
from ui.style import MUTED

# Distinct on white, none too pale; the first is the app's accent blue.
RUN_COLORS = (
    "#2f6fde",
    "#d9480f",
    "#2b8a3e",
    "#c2255c",
    "#7048e8",
    "#0c8599",
    "#b07d00",
    "#495057",
    "#e8590c",
    "#5c940d",
)
# Dash patterns (in pen widths) for the 1st, 2nd, ... metric of a chart.
DASHES: tuple[tuple[float, ...] | None, ...] = (
    None,
    (7, 4),
    (2, 3),
    (9, 3, 2, 3),
    (12, 4, 2, 4, 2, 4),
    (4, 4),
)
RAW_ALPHA = 70
AXIS_PEN = "#9aa1ab"
HOVER_RATE = 30  # mouse moves handled per second at most
EVAL_SYMBOL_SIZE = 5


def run_color(index: int) -> QColor:
    return QColor(RUN_COLORS[index % len(RUN_COLORS)])


def make_pen(color: QColor, dash: tuple[float, ...] | None = None, alpha: int = 255):
    c = QColor(color)
    c.setAlpha(alpha)
    pen = pg.mkPen(c, width=1)
    pen.setCosmetic(True)
    if dash:
        pen.setDashPattern(list(dash))
    return pen


def fmt(value: float) -> str:
    if value is None or not math.isfinite(value):
        return "—"
    if value != 0 and (abs(value) >= 1e5 or abs(value) < 1e-3):
        return f"{value:.4g}"
    return f"{value:.4f}".rstrip("0").rstrip(".") if abs(value) < 1000 else f"{value:.1f}"


@dataclass
class Curve:
    run_id: int
    metric: str
    series: Series
    raw: pg.PlotDataItem
    smooth: pg.PlotDataItem | None  # None for eval metrics (sparse points, markers only)
    drawn: tuple = field(default=())  # (series version, context version, t0) last drawn
    window: tuple[int, int] | None = None  # index range drawn when zoomed in; None: all
    drawn_points: int = 0  # points of the series the drawn curve stands for
    buckets: int = 0  # the envelope's bucket budget it was drawn with (the plot's width)


def _new_item(**kwargs) -> pg.PlotDataItem:
    item = pg.PlotDataItem(connect="finite", antialias=False, **kwargs)
    item.setDownsampling(auto=True, method="peak")
    item.setClipToView(True)
    return item


# Unicode strokes that echo each dash pattern in the legend text.
DASH_GLYPHS = ("━━━", "╺━╸╺", "┄┄┄", "━╸•╺━", "━ • •", "╍╍╍")


class _Plot(pg.PlotWidget):
    """The plot area; hides the hover read-out when the mouse leaves it."""

    def __init__(self, chart: MetricChart):
        # No context menu, so none is built: pyqtgraph's menus are a third of a chart's
        # construction, and a run's first batch makes a dozen charts.
        super().__init__(None, background="w", enableMenu=False)
        self.chart = chart
        self.setMinimumSize(*PLOT_MIN_SIZE)

    def sizeHint(self) -> QSize:
        # What a chart's placeholder asks for (card.py): a chart that replaces its
        # placeholder then moves none of its neighbours in the grid.
        return QSize(*PLOT_SIZE_HINT)

    def leaveEvent(self, event) -> None:
        self.chart.hide_readout()
        super().leaveEvent(event)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        chart = self.__dict__.get("chart")  # None while pyqtgraph builds the widget
        if chart is not None:
            chart.plot_resized()


class MetricChart(QFrame):
    """A titled plot plus its legend line underneath (runs by colour, metrics by stroke)."""

    def __init__(self, context: ChartContext, title: str):
        super().__init__()
        self.context = context
        self.title = title
        frame_style(self)
        self.curves: dict[tuple[int, str], Curve] = {}
        self.metric_order: list[str] = []  # base names in arrival order: the dash index
        self.plot_widget = _Plot(self)
        self.plot_widget.setAntialiasing(False)
        self.header = header_label(title)
        self.legend = legend_label()
        card_layout(self, self.header, self.legend, self.plot_widget)
        plot = self.getPlotItem()
        # No grid: pyqtgraph draws grid lines inside the axis picture, clipped to the whole
        # plot, which made each repaint about 4x slower (offscreen: ~12 ms vs ~3 ms a chart).
        # The hover read-out gives exact values instead.
        # PlotItem.addItem applies the plot's own settings to every curve added, so they are
        # set here (on each curve alone they would be reset to off)
        plot.setDownsampling(auto=True, mode="peak")
        plot.setClipToView(True)
        for side in ("bottom", "left"):
            axis = plot.getAxis(side)
            axis.setPen(pg.mkPen(AXIS_PEN, width=1))
            axis.setTextPen(pg.mkPen(TEXT))
            axis.enableAutoSIPrefix(False)  # no label rewrite (and re-layout) on every range change
        plot.getAxis("bottom").setLabel("step", color=MUTED)
        plot.getAxis("left").setLabel(y_axis_label(title), color=MUTED)
        self.cursor = pg.InfiniteLine(angle=90, movable=False, pen=make_pen(QColor(MUTED), (3, 3)))
        self.cursor.setZValue(50)
        self.cursor.hide()
        plot.addItem(self.cursor, ignoreBounds=True)
        plot.vb.sigXRangeChanged.connect(self._x_range_changed)
        self.readout = QLabel(self.plot_widget)
        self.readout.setObjectName("chartReadout")
        self.readout.setTextFormat(Qt.TextFormat.RichText)
        self.readout.setStyleSheet(
            "QLabel#chartReadout { background: rgba(255,255,255,235); color: #1d2127;"
            " border: 1px solid #c9ced6; border-radius: 4px; padding: 3px 6px; font-size: 8pt; }"
        )
        self.readout.setWordWrap(True)
        self.readout.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.readout.hide()
        self._proxy = pg.SignalProxy(
            self.plot_widget.scene().sigMouseMoved, rateLimit=HOVER_RATE, slot=self._mouse_moved
        )
        self.hover_index: dict[tuple[int, str], int] = {}  # last read-out, for tests
        self.waiting_since = -1  # the holder's update counter at this chart's last update

    def getPlotItem(self) -> pg.PlotItem:
        return self.plot_widget.getPlotItem()

    def runs(self) -> list[int]:
        return list(dict.fromkeys(run for run, _ in self.curves))

    def _by_metric(self) -> bool:
        """One run: colours tell its metrics apart; several: colours tell the runs apart."""
        return len(self.runs()) <= 1

    def color_of(self, run_id: int, metric: str) -> QColor:
        if self._by_metric():
            return run_color(self._metric_index(metric))
        return run_color(self.context.color_index(run_id))

    def _hex(self, run_id: int, metric: str) -> str:
        return self.color_of(run_id, metric).name()

    def _metric_index(self, metric: str) -> int:
        base = base_name(metric)
        if base not in self.metric_order:
            self.metric_order.append(base)
        return self.metric_order.index(base)

    # ------------------------------------------------------------------ curves

    def dash_for(self, metric: str) -> tuple[float, ...] | None:
        index = self._metric_index(metric)
        return None if self._by_metric() else DASHES[index % len(DASHES)]

    def add_series(self, run_id: int, metric: str, series: Series) -> Curve:
        plot = self.getPlotItem()
        smooth = None
        if is_eval(metric):
            raw = _new_item(symbol="o", symbolSize=EVAL_SYMBOL_SIZE)
        else:
            raw = _new_item()
            smooth = _new_item()
            smooth.setZValue(10)
        for item in (raw, smooth):
            if item is not None:
                plot.addItem(item)
                item.setDownsampling(auto=True, method="peak")  # what addItem applied anyway
                item.setClipToView(True)
        by_metric = self._by_metric()
        curve = Curve(run_id, metric, series, raw, smooth)
        self.curves[(run_id, metric)] = curve
        if self._by_metric() != by_metric:  # a second run: colours now mean runs
            self.restyle_all()
        else:
            self.restyle(curve)
        return curve

    def remove_run(self, run_id: int) -> None:
        by_metric = self._by_metric()
        plot = self.getPlotItem()
        for key in [k for k in self.curves if k[0] == run_id]:
            curve = self.curves.pop(key)
            for item in (curve.raw, curve.smooth):
                if item is not None:
                    plot.removeItem(item)
        remaining = {base_name(m) for _, m in self.curves}
        self.metric_order = [m for m in self.metric_order if m in remaining]
        if self._by_metric() != by_metric:
            self.restyle_all()

    def restyle(self, curve: Curve) -> None:
        color = self.color_of(curve.run_id, curve.metric)
        dash = self.dash_for(curve.metric)
        smoothing = self.context.smoothed
        if curve.smooth is None:  # eval: markers joined by a thin line, never smoothed
            curve.raw.setPen(make_pen(color, dash, alpha=150))
            curve.raw.setSymbolBrush(pg.mkBrush(color))
            curve.raw.setSymbolPen(pg.mkPen(color, width=1))
            return
        curve.raw.setPen(
            make_pen(color, None if smoothing else dash, RAW_ALPHA if smoothing else 255)
        )
        curve.smooth.setPen(make_pen(color, dash))
        curve.smooth.setVisible(smoothing)

    def restyle_all(self) -> None:
        for curve in self.curves.values():
            self.restyle(curve)
        self.rebuild_legend()

    # ------------------------------------------------------------------ drawing

    def _state(self, curve: Curve) -> tuple:
        context = self.context
        t0 = context.t0(curve.run_id) if context.x_mode == "time" else 0.0
        return (curve.series.version, context.version, t0)

    def stale(self) -> bool:
        """Whether some curve has points (or settings) not handed to pyqtgraph yet."""
        return any(self._state(c) != c.drawn for c in self.curves.values())

    def refresh(self) -> int:
        """setData on the curves whose series changed; returns how many were redrawn."""
        redrawn = 0
        for curve in self.curves.values():
            state = self._state(curve)
            if state == curve.drawn:
                continue
            self._draw(curve)
            curve.drawn = state
            redrawn += 1
        return redrawn

    def _draw(self, curve: Curve) -> None:
        s = curve.series
        mode, t0 = self.context.x_mode, self.context.t0(curve.run_id)
        window = self._window(s, mode, t0)
        buckets = self.bucket_budget()
        self._set_data(curve.raw, s, "values", window, mode, t0, buckets)
        if curve.smooth is not None:
            if self.context.smoothed:
                self._set_data(curve.smooth, s, "smoothed", window, mode, t0, buckets)
            else:
                curve.smooth.setData([], [])
        curve.window = window
        curve.drawn_points = s.n
        curve.buckets = self.bucket_budget()

    @staticmethod
    def _set_data(
        item: pg.PlotDataItem,
        s: Series,
        which: str,
        window: tuple[int, int] | None,
        mode: str,
        t0: float,
        buckets: int,
    ) -> None:
        y = getattr(s, which)
        idx = window_indices(y, *window, buckets) if window else s.draw_indices(which, buckets)
        own = idx is None  # pyqtgraph's downsampling only for the whole of a short series
        if item.opts["autoDownsample"] != own:
            item.setDownsampling(auto=own, method="peak")
            item.setClipToView(own)
        connect = "finite" if s.has_gaps else "all"
        if idx is None:
            item.setData(s.x(mode, t0), y[: s.n], connect=connect)
        else:
            item.setData(s.x_at(idx, mode, t0), y[idx], connect=connect)

    def _window(self, s: Series, mode: str, t0: float) -> tuple[int, int] | None:
        """The index range in view (one point beyond each edge) when the view shows less
        than half of a long series with sorted x; else None (the whole series)."""
        vb = self.getPlotItem().vb
        if s.n <= RAW_LIMIT or vb.autoRangeEnabled()[0]:
            return None
        if not (s.steps_sorted if mode == "step" else s.times_sorted):
            return None
        x0, x1 = vb.viewRange()[0]
        # searched in the buffer itself: time mode's x (times - t0) is not built for this
        x, shift = (s.steps, 0.0) if mode == "step" else (s.times, t0)
        a = max(0, int(np.searchsorted(x[: s.n], x0 + shift, "left")) - 1)
        b = min(s.n, int(np.searchsorted(x[: s.n], x1 + shift, "right")) + 1)
        return (a, b) if 2 * (b - a) < s.n else None

    def bucket_budget(self) -> int:
        """The most envelope buckets for a long series: a power of two (so that resizing
        by a little draws nothing anew) at or above twice the plot's width in pixels, so
        that the envelope, merged by powers of two to within it, keeps at least one bucket
        per pixel column."""
        width = int(self.getPlotItem().vb.width())
        return min(MAX_BUCKETS, 1 << (max(64, 2 * width) - 1).bit_length())

    def plot_resized(self) -> None:
        """Redraw the long curves drawn for another width (e.g. before the grid had
        laid the chart out)."""
        if not self.curves:  # also while the plot is being built
            return
        budget = self.bucket_budget()
        for curve in self.curves.values():
            if curve.drawn_points > RAW_LIMIT and curve.buckets != budget:
                if curve.drawn == self._state(curve):  # else the next refresh draws it
                    self._draw(curve)

    def _x_range_changed(self, *_) -> None:
        """Zoomed in or out: redraw the curves whose visible window changed."""
        for curve in self.curves.values():
            if curve.drawn != self._state(curve):
                continue  # the next refresh draws it
            window = self._window(curve.series, self.context.x_mode, self.context.t0(curve.run_id))
            if window != curve.window:
                self._draw(curve)

    def set_x_label(self, mode: str) -> None:
        label = "step" if mode == "step" else "time since the run's first point (s)"
        self.getPlotItem().getAxis("bottom").setLabel(label, color=MUTED)

    def set_log(self, on: bool) -> None:
        plot = self.getPlotItem()
        plot.setLogMode(x=False, y=on)
        plot.enableAutoRange()

    def rebuild_legend(self) -> None:
        """One run: each metric by its colour (eval metrics as dots), after the run's name.
        Several runs: runs by colour, then, when the chart holds several metrics, each
        metric's stroke (dash pattern, or dots for eval metrics)."""
        runs = self.runs()
        metrics = sorted(dict.fromkeys(m for _, m in self.curves), key=self._legend_order)
        if self._by_metric():
            run = runs[0] if runs else None
            items = [self._swatch(self._hex(run, m), m) for m in metrics] if run is not None else []
            label = html.escape(self.context.run_label(run)) if run is not None else ""
            lines = [f"<span style='color:{MUTED}'>{label}</span> &nbsp; " + " &nbsp; ".join(items)]
        else:
            lines = [
                " &nbsp; ".join(
                    f"<span style='color:{RUN_COLORS[self.context.color_index(run) % len(RUN_COLORS)]}'>"
                    f"■</span>&nbsp;{html.escape(self.context.run_label(run))}"
                    for run in runs
                )
            ]
            if len(metrics) > 1:
                strokes = [
                    f"<span style='color:{MUTED}'>{self._glyph(m)}</span>&nbsp;{html.escape(m)}"
                    for m in metrics
                ]
                lines.append(" &nbsp; ".join(strokes))
        self.legend.setText("<br>".join(lines))

    def _legend_order(self, metric: str) -> tuple[int, bool]:
        base = base_name(metric)
        index = self.metric_order.index(base) if base in self.metric_order else 99
        return index, is_eval(metric)

    def _glyph(self, metric: str) -> str:
        if is_eval(metric):
            return "● ●"
        return DASH_GLYPHS[self._legend_order(metric)[0] % len(DASH_GLYPHS)]

    @staticmethod
    def _swatch(color: str, metric: str) -> str:
        mark = "●" if is_eval(metric) else "■"
        return f"<span style='color:{color}'>{mark}</span>&nbsp;{html.escape(metric)}"

    # ------------------------------------------------------------------ hover

    def _mouse_moved(self, event) -> None:
        pos = event[0] if isinstance(event, tuple) else event
        plot = self.getPlotItem()
        if not plot.sceneBoundingRect().contains(pos) or not self.curves:
            self.hide_readout()
            return
        point = plot.vb.mapSceneToView(pos)
        self.show_readout_at(point.x())

    def show_readout_at(self, x_value: float) -> str:
        """Fill the read-out with each curve's point nearest ``x_value``; returns its text."""
        mode = self.context.x_mode
        smoothing = self.context.smoothed
        found = []  # (curve, index, x of that point)
        for curve in self.curves.values():
            t0 = self.context.t0(curve.run_id)
            i = curve.series.nearest(x_value, mode, t0)
            if i is not None:
                found.append((curve, i, float(curve.series.x(mode, t0)[i])))
        self.hover_index = {(c.run_id, c.metric): i for c, i, _ in found}
        if not found:
            self.hide_readout()
            return ""
        at_x = min((x for _, _, x in found), key=lambda x: abs(x - x_value))
        rows = []
        for curve, i, x in found:
            s = curve.series
            color = self._hex(curve.run_id, curve.metric)
            name = html.escape(f"{self.context.run_label(curve.run_id)} · {curve.metric}")
            text = f"<b>{fmt(float(s.values[i]))}</b>"
            if curve.smooth is not None and smoothing:
                text += f" (smoothed {fmt(float(s.smoothed[i]))})"
            if mode == "time":
                text += f" <span style='color:{MUTED}'>step {int(s.steps[i])}</span>"
            elif x != at_x:
                text += f" <span style='color:{MUTED}'>at step {x:g}</span>"
            rows.append(f"<span style='color:{color}'>■</span> {name}: {text}")
        head = f"step {at_x:g}" if mode == "step" else f"{at_x:.1f} s"
        self.readout.setText(f"<b>{head}</b><br>" + "<br>".join(rows))
        # Never wider than the plot: long run names wrap instead of leaving the chart.
        self.readout.setMaximumWidth(max(120, self.plot_widget.width() - 8))
        self.readout.adjustSize()
        self._place_readout(at_x)
        self.readout.show()
        self.readout.raise_()
        self.cursor.setPos(at_x)
        self.cursor.show()
        return self.readout.text()

    def _place_readout(self, at_x: float) -> None:
        """Top corner of the plot area away from the cursor, so the point stays visible."""
        vb = self.getPlotItem().vb
        rect = self.plot_widget.mapFromScene(vb.sceneBoundingRect()).boundingRect()
        cursor = self.plot_widget.mapFromScene(vb.mapViewToScene(QPointF(at_x, 0))).x()
        left = cursor > rect.center().x()
        x = rect.left() + 6 if left else rect.right() - self.readout.width() - 6
        x = min(x, self.plot_widget.width() - self.readout.width() - 2)
        y = min(rect.top() + 6, self.plot_widget.height() - self.readout.height() - 2)
        self.readout.move(int(max(2, x)), int(max(2, y)))

    def hide_readout(self) -> None:
        self.readout.hide()
        self.cursor.hide()

    def visible_data(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """(x, y) as last handed to each raw curve (tests)."""
        return [c.raw.getData() for c in self.curves.values()]
