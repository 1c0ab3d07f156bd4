"""The Runs view's Sweeps tab: one sweep's runs as a table (the grid point, run, status and
each rule's final eval pass rate) and a bar chart of the headline rule's pass rate by
point, the best run marked; a button selects the sweep's runs in the table above (their
curves overlaid), and the best run's checkpoint is offered in the Compare view."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ui.db_runner import DbRunner
from ui.style import ACCENT, MUTED, OK, set_muted
from ui.table_columns import fit_columns
from workbench.project import Project
from workbench.training.sweeps import Sweep, get_sweep, headline_rule, list_sweeps

EMPTY = (
    "No sweeps yet. Launch one from the Train view (Sweep…) or with "
    "<code>workbench sweep PROJECT --grid beta=0.1,0.5,1.0</code>."
)


@dataclass
class SweepView:
    sweep: Sweep
    rule: str | None


def read_sweep(project: Project, sweep_id: int) -> SweepView:
    sweep = get_sweep(project, sweep_id)
    return SweepView(sweep, headline_rule(project, sweep))


def point_text(point: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in point.items())


class SweepsPanel(QWidget):
    selectRuns = Signal(list)  # run ids

    def __init__(self, runner: DbRunner, parent: QWidget | None = None):
        super().__init__(parent)
        self.runner = runner
        self.shown: SweepView | None = None
        self.choice = QComboBox(objectName="sweepChoice", minimumContentsLength=30)
        self.choice.activated.connect(lambda _i: self._load())
        self.select = QPushButton("Select these runs", objectName="selectSweepRuns")
        self.select.setToolTip("Select the sweep's runs in the table above: their curves overlay")
        self.select.clicked.connect(self._select_runs)
        self.status = QLabel(EMPTY, objectName="sweepStatus", wordWrap=True)
        self.status.setTextFormat(Qt.TextFormat.RichText)
        set_muted(self.status)
        self.table = QTableWidget(objectName="sweepTable")
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        fit_columns(self.table)
        self.chart = pg.PlotWidget(background="w")
        self.chart.setMinimumHeight(160)
        self.chart.showGrid(y=True, alpha=0.2)
        top = QHBoxLayout()
        top.addWidget(QLabel("Sweep"))
        top.addWidget(self.choice, 1)
        top.addWidget(self.select)
        body = QHBoxLayout()
        body.addWidget(self.table, 3)
        body.addWidget(self.chart, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addLayout(top)
        layout.addWidget(self.status)
        layout.addLayout(body, 1)

    def refresh(self) -> None:
        """Read the list of sweeps again, then the chosen one."""
        self.runner.call(list_sweeps, on_done=self._show_list)

    def _show_list(self, sweeps: list[tuple[int, str]]) -> None:
        current = self.choice.currentData()
        self.choice.blockSignals(True)
        self.choice.clear()
        for sweep_id, name in sweeps:
            self.choice.addItem(f"#{sweep_id} {name}", sweep_id)
        index = self.choice.findData(current)
        self.choice.setCurrentIndex(index if index >= 0 else 0)
        self.choice.blockSignals(False)
        self.select.setEnabled(bool(sweeps))
        if not sweeps:
            self.status.setText(EMPTY)
            return
        self._load()

    def _load(self) -> None:
        sweep_id = self.choice.currentData()
        if sweep_id is not None:
            self.runner.call(read_sweep, sweep_id, on_done=self._show)

    def _show(self, view: SweepView) -> None:
        self.shown = view
        sweep, rule = view.sweep, view.rule
        rules = sweep.rules()
        columns = [*sweep.grid, "Run", "Status", *[f"{r} pass rate" for r in rules]]
        self.table.clear()
        self.table.setColumnCount(len(columns))
        self.table.setHorizontalHeaderLabels(columns)
        self.table.setRowCount(len(sweep.runs))
        best = sweep.best(rule) if rule else None
        for row, run in enumerate(sweep.runs):
            cells = [
                *[str(run.point.get(k, "")) for k in sweep.grid],
                f"#{run.run_id}" if run.run_id else "–",
                run.status,
                *[f"{run.pass_rates[r]:.1%}" if r in run.pass_rates else "–" for r in rules],
            ]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if run is best:
                    item.setForeground(pg.mkColor(OK))
                    item.setToolTip("The best finished run of the sweep")
                self.table.setItem(row, column, item)
        self._chart(view, best)
        done = sum(r.status == "done" for r in sweep.runs)
        text = f"{len(sweep.runs)} runs, {done} done"
        if best is not None:
            text += (
                f" · best on {rule!r}: run #{best.run_id} ({point_text(best.point)}), "
                f"checkpoint #{best.checkpoint_id}, from its {best.source}"
            )
        self.status.setText(text)

    def _chart(self, view: SweepView, best) -> None:
        self.chart.clear()
        rule = view.rule
        runs = [r for r in view.sweep.runs if rule and rule in r.pass_rates]
        if not runs:
            return
        heights = [r.pass_rates[rule] for r in runs]
        brushes = [pg.mkBrush(OK if r is best else ACCENT) for r in runs]
        xs = list(range(len(runs)))
        self.chart.addItem(pg.BarGraphItem(x=xs, height=heights, width=0.6, brushes=brushes))
        axis = self.chart.getAxis("bottom")
        axis.setTicks([[(x, point_text(r.point)) for x, r in zip(xs, runs, strict=True)]])
        self.chart.setLabel("left", f"final eval pass rate: {rule}", color=MUTED)
        self.chart.setYRange(0, 1)

    def _select_runs(self) -> None:
        if self.shown is not None:
            self.selectRuns.emit([r.run_id for r in self.shown.sweep.runs if r.run_id])
