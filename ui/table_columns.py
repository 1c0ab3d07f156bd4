"""Column widths that suit the table's width, for every table of the app (`fit_columns`).

Numeric columns (ids, counts, losses, durations, "31 / 45", "#4", "3.2 GiB") are as wide
as their contents. Text columns (names, prompts, reasons) share the rest in proportion to
their contents, none wider than `MAX_SHARE` of the table, and give up width first, down to
`MIN_TEXT_WIDTH`, when the table is narrower than its contents: their cells are then
elided, with the whole text in the tooltip (ui/text_overflow.py). A stretched last section
(Qt's usual answer) made one column take all the spare width: the Runs "Ckpt." column was
700 px wide at 1920.

The widths follow the table's width and its rows until the user drags a column's edge;
from then on that table keeps the user's widths.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QHeaderView, QTableView, QTreeView

MAX_SHARE = 0.4  # of the table's width, for any one column while others need room
MIN_TEXT_WIDTH = 90  # px a text column keeps when the table is narrow
TITLE_PADDING = 20  # px around a header's title: the stylesheet's padding and border
SORT_ARROW_WIDTH = 16  # px for the sort arrow beside the sorted column's title
SAMPLED_ROWS = 50  # rows read to tell a numeric column from a text one

# A number with an optional sign, unit or total: 12, -0.57, 1,234, 3.2e-05, 26 s, 4.1 GiB,
# 87%, 31 / 45, #4, ~2 min, a date and time.
NUMBER = re.compile(
    r"^[#~≈<>±+\-−]?\s*\d[\d.,:\-]*(e[+\-]?\d+)?(\s+\d[\d:.]*)?"  # 2026-12-03 19:41
    r"\s*(%|[a-zA-Z]{1,4}|/\s*\d[\d.,]*)?\s*$"
)
BLANKS = {"", "–", "—", "-", "n/a"}  # say nothing about a column's kind


def fit_columns(
    view: QTableView | QTreeView, text: Iterable[int] | None = None, max_share: float = MAX_SHARE
) -> ColumnFit:
    """Size ``view``'s columns now and whenever its width or rows change. ``text`` names the
    text columns; by default they are told from the values of the first rows."""
    fit = view.findChild(ColumnFit)
    if fit is None:
        fit = ColumnFit(view, text, max_share)
    fit.schedule()
    return fit


def is_numeric_column(values: Iterable[object]) -> bool:
    """Whether every value said is a number (blanks say nothing; no value at all: numeric)."""
    for value in values:
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, int | float):
            continue
        text = str(value).strip()
        if text.lower() not in BLANKS and not NUMBER.match(text):
            return False
    return True


def share_widths(
    contents: list[int],
    floors: list[int],
    text: list[bool],
    available: int,
    max_share: float = MAX_SHARE,
) -> list[int]:
    """Each column's width from its contents' width (title and cells) and the least it may
    be given (``floors``): the arithmetic of `fit_columns`. A narrow table takes width from
    the widest text columns first, level by level down to their floor (their cells are
    elided, the tooltip says them whole), then from numeric columns if their floors allow."""
    widths = list(contents)
    texts = [i for i, t in enumerate(text) if t]
    numbers = [i for i, t in enumerate(text) if not t]
    excess = sum(widths) - available
    for group in (texts, numbers):
        excess = _shrink(widths, floors, group, excess)
    if excess >= 0:
        return widths
    cap = max(int(available * max_share), MIN_TEXT_WIDTH)
    for group in (texts, list(range(len(widths)))):  # spare width: text columns first
        _grow(widths, contents, group, available, cap)
    return widths


def _shrink(widths: list[int], floors: list[int], group: list[int], excess: int) -> int:
    """Lower the widest of ``group`` level by level until ``excess`` px are gone."""
    while excess > 0:
        shrinkable = [i for i in group if widths[i] > floors[i]]
        if not shrinkable:
            break
        widest = max(widths[i] for i in shrinkable)
        tops = [i for i in shrinkable if widths[i] == widest]
        below = max([widths[i] for i in shrinkable if widths[i] < widest], default=0)
        for i in tops:
            step = min(widest - max(below, floors[i]), -(-excess // len(tops)), excess)
            widths[i] -= step
            excess -= step
    return excess


def _grow(widths: list[int], contents: list[int], group: list[int], available: int, cap: int):
    """Share the spare width over ``group`` in proportion to contents, none above ``cap``."""
    spare = available - sum(widths)
    while spare > 0:
        open_ = [i for i in group if widths[i] < cap]
        if not open_:
            return
        weight = sum(max(contents[i], 1) for i in open_)
        given = 0
        for i in open_:
            add = min(cap - widths[i], max(1, spare * max(contents[i], 1) // weight))
            add = min(add, spare - given)
            widths[i] += add
            given += add
        if given == 0:
            return
        spare -= given


class ColumnFit(QObject):
    """Keeps one view's columns fitted (see the module's text)."""

    def __init__(self, view: QTableView | QTreeView, text: Iterable[int] | None, max_share: float):
        super().__init__(view)
        self.view = view
        self.text = set(text) if text is not None else None
        self.max_share = max_share
        self.user_sized = False
        self._fitting = False
        self._width = -1
        self._timer = QTimer(self, singleShot=True, interval=0)
        self._timer.timeout.connect(self.fit)
        header = self.header()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(False)
        header.sectionResized.connect(self._on_section_resized)
        header.sortIndicatorChanged.connect(self.schedule)  # the arrow moves to another title
        view.viewport().installEventFilter(self)
        model = view.model()
        for signal in (
            model.modelReset,
            model.rowsInserted,
            model.rowsRemoved,
            model.columnsInserted,
            model.layoutChanged,
            model.dataChanged,  # a live run's phase, duration and steps change in place
            model.headerDataChanged,
        ):
            signal.connect(self.schedule)

    def header(self) -> QHeaderView:
        view = self.view
        return view.horizontalHeader() if isinstance(view, QTableView) else view.header()

    def schedule(self, *_args: object) -> None:
        if not self.user_sized:
            self._timer.start()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize and self.view.viewport().width() != self._width:
            self.schedule()
        return False

    def fit(self) -> None:
        if self.user_sized:
            return
        view, header = self.view, self.header()
        columns = [c for c in range(header.count()) if not header.isSectionHidden(c)]
        available = view.viewport().width()
        if not columns or available <= 0:
            return
        self._width = available
        titles = [self._title_width(c) for c in columns]
        cells = [view.sizeHintForColumn(c) for c in columns]
        text = [self._is_text(c) for c in columns]
        contents = [max(t, c) for t, c in zip(titles, cells, strict=True)]
        # Numbers and their titles are never cut (a header clips rather than elides).
        floors = [
            min(content, MIN_TEXT_WIDTH) if is_text else content
            for content, is_text in zip(contents, text, strict=True)
        ]
        widths = share_widths(contents, floors, text, available, self.max_share)
        self._fitting = True
        try:
            for column, width in zip(columns, widths, strict=True):
                header.resizeSection(column, width)
        finally:
            self._fitting = False

    def _title_width(self, column: int) -> int:
        """The title's width in the header's semibold (set by the stylesheet, which
        sectionSizeFromContents does not see), its padding, and the sort arrow's room
        only where the arrow is."""
        header = self.header()
        title = header.model().headerData(column, header.orientation(), Qt.ItemDataRole.DisplayRole)
        font = QFont(header.font())
        font.setWeight(QFont.Weight.DemiBold)
        width = QFontMetrics(font).horizontalAdvance(str(title or "")) + TITLE_PADDING
        sorted_here = header.isSortIndicatorShown() and header.sortIndicatorSection() == column
        return width + (SORT_ARROW_WIDTH if sorted_here else 0)

    def _is_text(self, column: int) -> bool:
        if self.text is not None:
            return column in self.text
        model = self.view.model()
        rows = min(model.rowCount(), SAMPLED_ROWS)
        values = (model.index(r, column).data(Qt.ItemDataRole.DisplayRole) for r in range(rows))
        return not is_numeric_column(values)

    def _on_section_resized(self, *_args: object) -> None:
        # A drag of a column's edge by the user: their widths are kept from now on.
        if not self._fitting and self.header().underMouse():
            self.user_sized = True
