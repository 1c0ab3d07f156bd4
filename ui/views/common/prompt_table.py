"""The prompts of a project as a table model that loads pages as the view scrolls.

Pages are read on the database thread; the view asks for more through canFetchMore /
fetchMore, and the rows are inserted when the page arrives. A filter change bumps a
generation number, so a late page of an old filter is thrown away. `one_line` (a text
on one table line) serves the Rules view's tables too.
"""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, Qt, Signal

from ui.db_runner import DbRunner
from workbench.data.prompts import PromptRecord, count_prompts, list_prompts
from workbench.project import Project

PAGE_SIZE = 200
COLUMNS = ("ID", "Split", "Prompt", "Reference", "Tags")
CELL_CHARS = 300  # a cell shows one line; the full text is in the tooltip and details


def fetch_page(
    project: Project,
    generation: int,
    split: str | None,
    search: str | None,
    offset: int,
    with_total: bool,
) -> tuple[int, int, int | None, list[PromptRecord]]:
    total = count_prompts(project, split=split, search=search) if with_total else None
    rows = list_prompts(project, split=split, search=search, limit=PAGE_SIZE, offset=offset)
    return generation, offset, total, rows


def one_line(text: str | None) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= CELL_CHARS else text[: CELL_CHARS - 1] + "…"


class PromptTableModel(QAbstractTableModel):
    loaded = Signal(int, int)  # rows loaded, rows matching the filter
    loadingChanged = Signal(bool)

    def __init__(self, runner: DbRunner, parent: QObject | None = None):
        super().__init__(parent)
        self.runner = runner
        self.rows: list[PromptRecord] = []
        self.total = 0
        self.split: str | None = None
        self.search: str | None = None
        self._generation = 0
        self._fetching = False
        self.ready = False  # the first page of the current filter has arrived

    # Filtering -----------------------------------------------------------------------
    def set_filter(self, split: str | None, search: str | None) -> None:
        self.split, self.search = split, (search or None)
        self.reload()

    def reload(self) -> None:
        self._generation += 1
        self.beginResetModel()
        self.rows, self.total, self.ready = [], 0, False
        self.endResetModel()
        self._request(offset=0, with_total=True)

    def _request(self, offset: int, with_total: bool) -> None:
        self._fetching = True
        self.loadingChanged.emit(True)
        self.runner.call(
            fetch_page,
            self._generation,
            self.split,
            self.search,
            offset,
            with_total,
            on_done=self._on_page,
            on_error=self._on_error,
        )

    def _on_page(self, page: tuple[int, int, int | None, list[PromptRecord]]) -> None:
        generation, offset, total, rows = page
        if generation != self._generation or offset != len(self.rows):
            return  # an answer to an older filter or a duplicate request
        self._fetching = False
        self.loadingChanged.emit(False)
        if total is not None:
            self.total = total
        if rows:
            self.beginInsertRows(QModelIndex(), len(self.rows), len(self.rows) + len(rows) - 1)
            self.rows.extend(rows)
            self.endInsertRows()
        self.ready = True
        self.loaded.emit(len(self.rows), self.total)

    def _on_error(self, error) -> None:
        self._fetching = False
        self.loadingChanged.emit(False)
        self.runner.failed.emit(error)

    # Lazy loading --------------------------------------------------------------------
    def canFetchMore(self, parent: QModelIndex = QModelIndex()) -> bool:  # noqa: B008
        return (
            not parent.isValid()
            and self.ready
            and not self._fetching
            and len(self.rows) < self.total
        )

    def fetchMore(self, parent: QModelIndex = QModelIndex()) -> None:  # noqa: B008
        if self.canFetchMore(parent):
            self._request(offset=len(self.rows), with_total=False)

    # Table ---------------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        record = self.rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._cell(record, column)
        if role == Qt.ItemDataRole.ToolTipRole and column in (2, 3):
            text = record.display_text if column == 2 else record.reference
            return (text or "")[:2000] or None
        if role == Qt.ItemDataRole.TextAlignmentRole and column == 0:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    @staticmethod
    def _cell(record: PromptRecord, column: int) -> str | int:
        if column == 0:
            return record.id
        if column == 1:
            return record.split
        if column == 2:
            chat = "[chat] " if record.messages else ""
            return chat + one_line(record.display_text)
        if column == 3:
            return one_line(record.reference)
        return ", ".join(record.tags)
