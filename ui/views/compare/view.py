"""The Compare view: the base model and checkpoints answering the same prompts, side by
side. On the left what to compare and the stored comparisons; on the right the grid
(prompts x models, baseline first) with each model's figures in its header, filters by
verdict, rule and text, the selected cell in full with its word diff against the
baseline, and Export of the rows shown.

Generation runs in the worker as a `compare` job; everything else is a read on the
session's database thread, so the window never imports torch. A stored comparison opens
with its column headers first, then its rows a slice per read: no read holds Python long
enough to stall the window's painting (both threads share one interpreter lock)."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import QItemSelection, QPoint, Qt, QTimer, Slot
from PySide6.QtWidgets import (
    QFileDialog,
    QGroupBox,
    QLabel,
    QMenu,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ui.messages import explain
from ui.session import ProjectSession
from ui.style import BAD, MUTED, OK, say
from ui.views.compare.curve_panel import CurvePanel
from ui.views.compare.detail import DetailPane
from ui.views.compare.filters import FilterBar
from ui.views.compare.grid import CompareGrid, CompareGridModel, RowFilter
from ui.views.compare.preference_bar import PreferenceBar
from ui.views.compare.reads import (
    compare_choices,
    comparison_head,
    comparison_rows,
    stored_comparisons,
)
from ui.views.compare.setup import CompareSetup
from ui.views.compare.stored import StoredComparisons
from ui.widgets import view_header
from workbench.comparing.export import export_rows
from workbench.comparing.learning_curve import pass_rate_by_step
from workbench.comparing.preferences import record_grid_preference

EXPORT_FILTERS = "CSV (*.csv);;JSON Lines (*.jsonl)"
LEFT_WIDTH = 340  # the setup panel; the grid takes the rest
ROWS_PER_READ = 20  # prompts read per database call while a comparison opens
# The next read waits this long after rows arrive, so that they are painted before it
# starts: a read running during a paint makes every cell's data() wait for the lock.
READ_PAUSE_MS = 20


def group(title: str, widget: QWidget) -> QGroupBox:
    box = QGroupBox(title)
    QVBoxLayout(box).addWidget(widget)
    return box


class CompareView(QWidget):
    def __init__(self, session: ProjectSession, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.result: dict[str, Any] | None = None
        self._opening = 0  # counts opens: rows read for an earlier one are dropped
        self.setup = CompareSetup(session)
        self.stored = StoredComparisons()
        self.filters = FilterBar()
        self.model = CompareGridModel(self)
        self.proxy = RowFilter(self)
        self.grid = CompareGrid(self.model, self.proxy)
        self.detail = DetailPane()
        self.preference = PreferenceBar()
        self.curves = CurvePanel()
        self.title = QLabel("Pick models and prompts, then Compare; or open a stored comparison.")
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.status = QLabel("", wordWrap=True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self._layout()
        self.setup.ready.connect(self._comparison_ready)
        self.stored.opened.connect(self.open_comparison)
        self.filters.changed.connect(self._filter)
        self.filters.exportRequested.connect(self.ask_export)
        self.grid.selectionModel().selectionChanged.connect(self._selected)
        self.preference.preferred.connect(self.store_preference)
        self.curves.exportRequested.connect(self.ask_export_chart)
        header = self.grid.horizontalHeader()
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.customContextMenuRequested.connect(self._header_menu)
        self.proxy.modelReset.connect(self._count)
        self.proxy.rowsInserted.connect(self._count)
        self.proxy.rowsRemoved.connect(self._count)
        self._count()
        self.reload()

    def _layout(self) -> None:
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 6, 0)
        left_layout.addWidget(group("New comparison", self.setup))
        left_layout.addWidget(group("Stored comparisons", self.stored), 1)
        scroll = QScrollArea(widgetResizable=True, frameShape=QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(left)
        scroll.setMinimumWidth(LEFT_WIDTH)
        table_split = QSplitter(Qt.Orientation.Vertical, childrenCollapsible=False)
        table_split.addWidget(self.grid)
        detail = QWidget()
        detail_layout = QVBoxLayout(detail)
        detail_layout.setContentsMargins(0, 0, 0, 0)
        detail_layout.addWidget(self.detail, 1)
        detail_layout.addWidget(self.preference)
        self.below = QTabWidget()
        self.below.addTab(detail, "Answer")
        self.below.addTab(self.curves, "Pass rate by step")
        table_split.addWidget(self.below)
        table_split.setSizes([430, 170])
        table_split.setStretchFactor(0, 1)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(6, 0, 0, 0)
        right_layout.addWidget(self.title)
        right_layout.addWidget(self.filters)
        right_layout.addWidget(table_split, 1)
        splitter = QSplitter(Qt.Orientation.Horizontal, childrenCollapsible=False)
        splitter.addWidget(scroll)
        splitter.addWidget(right)
        splitter.setSizes([LEFT_WIDTH, 1000])
        # A wider window widens the setup a little too (its names were elided at 1920).
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 5)
        header, _, _ = view_header(
            "Compare",
            "Checkpoints side by side on the same prompts, scored by your rules; cells are "
            "green where a model beats the baseline's reward and red where it falls behind.",
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 16)
        layout.addWidget(header)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.status)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.reload()  # runs and checkpoints may have been added since

    def reload(self) -> None:
        self._call(compare_choices, on_done=self.setup.set_choices)
        self._call(stored_comparisons, on_done=self.stored.set_comparisons)

    # Showing a comparison ----------------------------------------------------------------
    @Slot(int)
    def _comparison_ready(self, comparison_id: int) -> None:
        self._call(stored_comparisons, on_done=self.stored.set_comparisons)
        self.open_comparison(comparison_id)

    @Slot(int)
    def open_comparison(self, comparison_id: int) -> None:
        self._opening += 1
        self._say(f"Loading comparison #{comparison_id}…", MUTED)
        self._call(comparison_head, comparison_id, on_done=partial(self._head_read, self._opening))

    def _head_read(self, opening: int, result: dict[str, Any]) -> None:
        if opening != self._opening:
            return
        self.show_result(result)
        self._read_rows(opening, 0)

    def _read_rows(self, opening: int, start: int) -> None:
        assert self.result is not None
        total = self.result["prompts"]
        if start >= total:
            # Clear only the loading line: a message said meanwhile (a stored label) stays.
            if self.status.text().startswith("Loading rows:"):
                self._say("", MUTED)
            return
        self._say(f"Loading rows: {start} of {total}…", MUTED)
        stop = start + ROWS_PER_READ
        comparison_id = self.result["comparison_id"]
        self._call(
            comparison_rows,
            comparison_id,
            start,
            stop,
            on_done=partial(self._rows_read, opening, stop),
        )

    def _rows_read(self, opening: int, stop: int, rows: list[dict[str, Any]]) -> None:
        if opening != self._opening or self.result is None:
            return
        self.result["rows"].extend(rows)
        self.model.append_rows(rows)
        QTimer.singleShot(READ_PAUSE_MS, self, partial(self._read_rows, opening, stop))

    def show_result(self, result: dict[str, Any]) -> None:
        self.result = result
        self.filters.set_rules(result["rules"])
        self.model.set_result(result)
        self.detail.clear_detail()
        decoding = "greedy" if result["greedy"] else f"{result['seeds']} sampled seed(s)"
        self.title.setText(
            f"#{result['comparison_id']} {result['name']} · {result['prompts']} prompts, {decoding}"
        )
        self._say("", MUTED)
        self._count()
        prompt_set = result["prompt_set"]
        split = None if "prompt_ids" in prompt_set else prompt_set.get("split")
        self._call(pass_rate_by_step, split, result["prompts"], on_done=self.curves.set_curves)

    @Slot()
    def _filter(self) -> None:
        self.proxy.set_filter(*self.filters.values())
        self._count()

    @Slot()
    def _count(self, *_args) -> None:
        self.filters.set_count(self.proxy.rowCount(), self.model.rowCount())

    def shown_rows(self) -> list[dict[str, Any]]:
        return [
            self.model.rows[self.proxy.mapToSource(self.proxy.index(r, 0)).row()]
            for r in range(self.proxy.rowCount())
        ]

    @Slot(QItemSelection, QItemSelection)
    def _selected(self, *_args) -> None:
        indexes = self.grid.selectionModel().selectedIndexes()
        if not indexes or self.result is None:
            self.detail.clear_detail()
            self.preference.set_cell(None, None)
            return
        source = self.proxy.mapToSource(indexes[0])
        column = source.column()
        row = self.model.rows[source.row()]
        self.detail.show_cell(row, None if column == 0 else column - 1, self.model.rules)
        self.preference.set_cell(row, None if column == 0 else column - 1)

    @Slot(int, int, str)
    def store_preference(self, baseline_id: int, other_id: int, preferred: str) -> None:
        """A preference between the selected answer and the baseline's, stored as a label."""
        said = {"other": "this one better", "baseline": "the baseline better"}
        self.session.runner.call(
            record_grid_preference,
            baseline_id,
            other_id,
            preferred,
            on_done=lambda label_id: self._say(
                f"Stored label #{label_id}: {said.get(preferred, preferred.replace('_', ' '))}. "
                "The next DPO run trains on it.",
                OK,
            ),
            on_error=self._failed,
        )

    # Export ------------------------------------------------------------------------------
    @Slot()
    def ask_export(self) -> None:
        if self.result is None:
            return
        default = str(self.session.path / f"comparison-{self.result['comparison_id']}.csv")
        path, chosen = QFileDialog.getSaveFileName(self, "Export rows", default, EXPORT_FILTERS)
        if path:
            if not Path(path).suffix:
                path += ".jsonl" if "jsonl" in chosen else ".csv"
            self.export_to(Path(path))

    def column_checkpoint(self, column: int) -> int | None:
        """The checkpoint of a grid column (column 0 is the prompt), if it is one."""
        if self.result is None or not 1 <= column <= len(self.result["models"]):
            return None
        return self.result["models"][column - 1]["checkpoint_id"]

    @Slot(QPoint)
    def _header_menu(self, point: QPoint) -> None:
        checkpoint_id = self.column_checkpoint(self.grid.horizontalHeader().logicalIndexAt(point))
        if checkpoint_id is None:
            return
        menu = QMenu(self)
        menu.addAction("Export model…", lambda: self.export_model(checkpoint_id))
        menu.exec(self.grid.horizontalHeader().mapToGlobal(point))

    def export_model(self, checkpoint_id: int):
        """The export dialog of a checkpoint column: adapter, merged, GGUF or Ollama."""
        from ui.views.common.export_dialog import ExportDialog

        dialog = ExportDialog(self.session, checkpoint_id, self.window())
        dialog.open()
        return dialog

    @Slot()
    def ask_export_chart(self) -> None:
        default = str(self.session.path / "pass-rate-by-step.png")
        path, _ = QFileDialog.getSaveFileName(self, "Export chart", default, "PNG (*.png)")
        if path:
            self.export_chart_to(Path(path if Path(path).suffix else path + ".png"))

    def export_chart_to(self, path: Path) -> None:
        try:
            self.curves.export_png(path)
        except OSError as error:
            self._say(f"Chart not exported: {error}", BAD)
            return
        self._say(f"Exported the chart to {path}.", OK)

    def export_to(self, path: Path) -> None:
        """Write the rows shown (the filters applied) to `path`, .csv or .jsonl."""
        assert self.result is not None
        try:
            count = export_rows(path, self.result, self.shown_rows())
        except (OSError, ValueError) as error:
            self._say(f"Not exported: {error}", BAD)
            return
        self._say(f"Exported {count} row(s) to {path}.", OK)

    # Plumbing ----------------------------------------------------------------------------
    def _call(self, fn, *args, on_done) -> None:
        self.session.runner.call(fn, *args, on_done=on_done, on_error=self._failed)

    def _failed(self, error) -> None:
        self._say(explain(error).what, BAD)

    def _say(self, text: str, color: str) -> None:
        say(self.status, text, color)
