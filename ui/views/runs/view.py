"""The Runs view: every run of the project with its status and key results; the selected
runs' charts overlaid; the settings two runs differ in; the lineage of the current run.

While the view is shown, the session's run feed reads the table's rows about once a
second and the selected runs' new metric rows (on the database thread), so runs started
anywhere, this window's worker or `workbench train` in a terminal, appear and their
selected curves grow as they train. A window opened mid-run loads a run's whole history
from the database and then continues it.
"""

from __future__ import annotations

from PySide6.QtCore import (
    QItemSelection,
    QItemSelectionModel,
    QSortFilterProxyModel,
    Qt,
    Slot,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ui.charts.chart import run_color
from ui.charts.run_charts import RunCharts
from ui.messages import explain
from ui.session import ProjectSession
from ui.style import ACCENT, BAD, MUTED, set_muted
from ui.table_columns import fit_columns
from ui.views.runs.config_diff import ConfigDiffPanel
from ui.views.runs.continue_button import ContinueButton
from ui.views.runs.curves import RunCurveLoader
from ui.views.runs.export_button import CheckpointExportMenu, RunExportButton
from ui.views.runs.lineage import LineagePanel
from ui.views.runs.row_menu import RunRowMenu
from ui.views.runs.sweeps import SweepsPanel
from ui.views.runs.table import RUN_ID_ROLE, SORT_ROLE, RunsTableModel
from ui.widgets import view_header
from workbench.training.history import runs_overview
from workbench.training.runs import RESUMABLE

EMPTY = (
    "No runs yet. Start one in the Train view, or in a terminal with "
    "<code>workbench train PROJECT</code>: it appears here and its charts stream live."
)
TABLE_STYLE = "QHeaderView::section { padding: 5px 4px 5px 6px; }"
TABS_STYLE = f"""
QTabWidget#runsTabs::pane {{
    background: white; border: 1px solid #dfe2e8; border-radius: 8px; top: -1px;
}}
QTabWidget#runsTabs QTabBar::tab {{
    background: transparent; border: none; border-bottom: 2px solid transparent;
    padding: 6px 16px; margin-right: 4px; color: {MUTED};
}}
QTabWidget#runsTabs QTabBar::tab:selected {{
    color: #1d2127; border-bottom: 2px solid {ACCENT}; font-weight: 600;
}}
"""


class RunsView(QWidget):
    def __init__(self, session: ProjectSession, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.rows: list[dict] = []
        self.loaded = False  # the first overview has arrived
        self.order: list[int] = []  # selected run ids, in the order they were selected
        self.model = RunsTableModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.charts = RunCharts(max_columns=3, group_by="metric")  # never a loose family
        self.curves = RunCurveLoader(session.feed, self.charts, self)
        self.curves.pause()  # until shown
        self.diff = ConfigDiffPanel(session.runner)
        self.lineage = LineagePanel(session.runner)
        self.checkpoint_menu = CheckpointExportMenu(self.lineage.checkpoints, session)

        header, _, _ = view_header(
            "Runs",
            "Every training run: select several to overlay their charts, two to "
            "compare their settings, one to trace it back to its labels.",
        )
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self._table_box())
        splitter.addWidget(self._tabs())
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 5)
        splitter.setSizes([200, 480])  # three runs and more in sight at 1280x720
        splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 16)
        layout.addWidget(header)
        layout.addWidget(splitter, 1)

    # Layout --------------------------------------------------------------------------
    def _table_box(self) -> QWidget:
        self.table = QTableView(objectName="runsTable")
        self.table.setStyleSheet(TABLE_STYLE)
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.DescendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(26)
        fit_columns(self.table)
        self.table.selectionModel().selectionChanged.connect(self._on_selection)
        # Right-click a row: rename, tags, note, open folder, export, compare, resume, delete.
        self.row_menu = RunRowMenu(self.table, self.model, self.session)
        self.row_menu.changed.connect(self.reread)
        self.row_menu.said.connect(self._say)
        self.notice = QLabel(objectName="runsNotice", wordWrap=True, visible=False)
        self.status = QLabel("Loading…")
        self.status.setTextFormat(Qt.TextFormat.RichText)
        set_muted(self.status)
        row = QHBoxLayout()
        row.addWidget(self.status, 1)
        self.resume = QPushButton("Resume run", objectName="resumeRun", enabled=False)
        self.resume.setToolTip(
            "Continue the selected interrupted, stopped or failed run from its last intact "
            "checkpoint (the same as workbench train --resume)"
        )
        self.resume.clicked.connect(self.resume_selected)
        row.addWidget(self.resume)
        self.continue_run = ContinueButton(self.session, self)
        row.addWidget(self.continue_run)
        self.export = RunExportButton(self.session, self)
        row.addWidget(self.export)
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 6)
        layout.addLayout(row)
        layout.addWidget(self.notice)
        layout.addWidget(self.table, 1)
        return box

    def reread(self) -> None:
        """Read the table again now (after an edit), not at the feed's next tick."""
        self.session.runner.call(runs_overview, on_done=self._on_overview, on_error=self._on_error)

    def _say(self, text: str, problem: bool) -> None:
        self.notice.setText(text)
        self.notice.setStyleSheet(f"color: {BAD if problem else MUTED};")
        self.notice.setVisible(bool(text))

    def _tabs(self) -> QTabWidget:
        self.tabs = QTabWidget(objectName="runsTabs")
        self.tabs.setStyleSheet(TABS_STYLE)
        charts_page = QWidget()
        page_layout = QVBoxLayout(charts_page)
        page_layout.setContentsMargins(8, 8, 8, 8)
        page_layout.addWidget(self.charts)
        self.tabs.addTab(charts_page, "Charts")
        self.tabs.addTab(self.diff, "Compare configs")
        self.tabs.addTab(self.lineage, "Lineage")
        self.sweeps = SweepsPanel(self.session.runner)
        self.sweeps.selectRuns.connect(self.select_runs)
        self.tabs.addTab(self.sweeps, "Sweeps")
        self.tabs.currentChanged.connect(
            lambda _i: self.tabs.currentWidget() is self.sweeps and self.sweeps.refresh()
        )
        return self.tabs

    # Reading the runs ----------------------------------------------------------------
    def _on_overview(self, rows: list[dict]) -> None:
        before = {r["id"]: (r["status"], r["step"]) for r in self.rows}
        self.rows = rows
        self.model.set_rows(rows)
        if len(before) != len(rows):
            self._fit_columns()
        first = not self.loaded
        self.loaded = True
        self._show_status(rows)
        if first and rows and not self.order:
            self.select_runs([rows[0]["id"]])  # the newest run, so the charts show something
        self.curves.update(self.selected_rows())
        self.resume.setEnabled(self.resumable_run() is not None)
        self.continue_run.show_run(self.resumable_run())
        ended = any(before.get(r["id"], ("",))[0] != r["status"] for r in rows)
        if ended and self.tabs.currentWidget() is self.sweeps:
            self.sweeps.refresh()  # a sweep's run started or ended: its table changes
        current = self.lineage.run_id
        if current is not None and before.get(current) != self._state(current):
            self.lineage.show_run(current, refresh=True)  # new checkpoints, status

    def _fit_columns(self) -> None:
        """Numbers as wide as their contents, names and states sharing the rest
        (ui/table_columns.py; the user may resize any column)."""
        fit_columns(self.table)

    def _state(self, run_id: int) -> tuple[str, int] | None:
        row = self.model.row_of(run_id)
        return (row["status"], row["step"]) if row else None

    def _on_error(self, error) -> None:
        self.status.setText(
            f'<span style="color:{BAD}">Cannot read the runs: {explain(error).what}</span>'
        )

    def _show_status(self, rows: list[dict]) -> None:
        if not rows:
            self.status.setText(EMPTY)
            return
        running = sum(r["status"] == "running" for r in rows)
        text = f"{len(rows)} run{'s' if len(rows) != 1 else ''}"
        if running:
            text += f', <span style="color:{ACCENT}">{running} running</span>'
        self.status.setText(text + " · Ctrl+click to select several runs")

    # Selection -----------------------------------------------------------------------
    def select_runs(self, run_ids: list[int]) -> None:
        """Select these runs in the table (the charts, diff and lineage follow)."""
        indexes = [self._view_index(i) for i in run_ids if self.model.position(i) is not None]
        chosen = QItemSelection()
        for index in indexes:
            chosen.select(index, index)
        selection = self.table.selectionModel()
        flags = (
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows
        )
        selection.select(chosen, flags)  # one change: runs kept stay loaded
        if indexes:
            selection.setCurrentIndex(indexes[0], QItemSelectionModel.SelectionFlag.NoUpdate)
        self.order = [i for i in run_ids if self.model.position(i) is not None]
        self._apply_selection()  # in the order given (run A, run B of the diff)

    def _view_index(self, run_id: int):
        return self.proxy.mapFromSource(self.model.index(self.model.position(run_id), 0))

    def selected_ids(self) -> list[int]:
        return list(self.order)

    def selected_rows(self) -> list[dict]:
        return [row for i in self.order if (row := self.model.row_of(i)) is not None]

    @Slot()
    def _on_selection(self, *_args) -> None:
        rows = self.table.selectionModel().selectedRows()
        in_view = sorted(rows, key=lambda index: index.row())
        ids = [index.data(RUN_ID_ROLE) for index in in_view]
        self.order = [i for i in self.order if i in ids] + [i for i in ids if i not in self.order]
        self._apply_selection()

    def resumable_run(self) -> int | None:
        rows = self.selected_rows()
        if len(rows) == 1 and rows[0]["status"] in RESUMABLE:
            return rows[0]["id"]
        return None

    def resume_selected(self) -> None:
        run_id = self.resumable_run()
        if run_id is not None:
            self.resume.setEnabled(False)
            self.session.submit_job("train", {"resume_run_id": run_id})

    def _apply_selection(self) -> None:
        selected = self.selected_rows()
        self.resume.setEnabled(self.resumable_run() is not None)
        self.continue_run.show_run(self.resumable_run())
        self.export.show_runs(selected)
        self.curves.show_runs(selected)
        self.model.set_colors(
            {r["id"]: run_color(self.charts.color_index(r["id"])) for r in selected}
        )
        self.diff.show_pair(selected)
        current = self.table.currentIndex()
        current_id = current.data(RUN_ID_ROLE) if current.isValid() else None
        self.lineage.show_run(
            current_id if current_id in self.order else (self.order[-1] if self.order else None)
        )

    # Qt ------------------------------------------------------------------------------
    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.session.feed.watch_runs(self._on_overview, self._on_error)
        self.curves.resume()
        self.sweeps.refresh()

    def hideEvent(self, event) -> None:
        super().hideEvent(event)
        self.session.feed.unwatch_runs(self._on_overview)
        self.curves.pause()
