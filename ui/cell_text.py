"""The whole text of item-view cells and header sections: whether the view cut it short
(elided), and the selected cells' text as the clipboard gets it.

A model that shortens a cell's text itself (rather than letting the view elide it) returns
the whole text under `FULL_TEXT_ROLE`; tooltips and Copy then use that.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QStyleOptionViewItem

FULL_TEXT_ROLE = Qt.ItemDataRole.UserRole + 900


def cell_text(index: QModelIndex) -> str:
    """A cell's whole text: `FULL_TEXT_ROLE` when the model gives it, else what it shows."""
    for role in (FULL_TEXT_ROLE, Qt.ItemDataRole.DisplayRole):
        value = index.data(role)
        if value is not None and not isinstance(value, bool | dict | list):
            return str(value)
    return ""


def cell_is_elided(view: QAbstractItemView, index: QModelIndex) -> bool:
    """Whether ``index``'s text does not fit the cell the view gives it."""
    if not index.isValid():
        return False
    shown = index.data(Qt.ItemDataRole.DisplayRole)
    if shown is None or str(shown) == "":
        return False
    if cell_text(index) != str(shown):
        return True  # the model shortened it
    option = QStyleOptionViewItem()
    view.initViewItemOption(option)
    option.rect = rect = view.visualRect(index)
    delegate = view.itemDelegateForIndex(index)
    wrap = QStyleOptionViewItem.ViewItemFeature.WrapText
    wraps = bool(option.features & wrap)
    option.features &= ~wrap
    one_line = delegate.sizeHint(option, index)
    if one_line.width() <= rect.width() and "\n" not in str(shown):
        return False
    if not wraps:
        return one_line.width() > rect.width() or one_line.height() > rect.height()
    # A view that wraps shows more lines in a taller row: cut only when they do not fit.
    option.features |= wrap
    return delegate.sizeHint(option, index).height() > rect.height()


def section_text(header: QHeaderView, section: int) -> str:
    value = header.model().headerData(section, header.orientation(), Qt.ItemDataRole.DisplayRole)
    return "" if value is None else str(value)


def section_is_elided(header: QHeaderView, section: int) -> bool:
    """Whether a header section's title does not fit its width (or height, for rows)."""
    if section < 0 or not section_text(header, section):
        return False
    needed = header.sectionSizeFromContents(section)
    if header.orientation() == Qt.Orientation.Horizontal:
        return needed.width() > header.sectionSize(section)
    return needed.height() > header.sectionSize(section)


def selected_text(view: QAbstractItemView) -> str:
    """The selected cells' whole text: cells of a row joined by tabs, rows by newlines (as
    a spreadsheet pastes them); the current cell when nothing is selected."""
    model = view.selectionModel()
    indexes = [i for i in (model.selectedIndexes() if model else []) if _shown(view, i)]
    if not indexes and view.currentIndex().isValid():
        indexes = [view.currentIndex()]
    rows: dict[int, list[QModelIndex]] = {}
    for index in indexes:
        rows.setdefault(index.row(), []).append(index)
    return "\n".join(
        "\t".join(cell_text(i) for i in sorted(cells, key=lambda i: _column_position(view, i)))
        for _, cells in sorted(rows.items())
    )


def copy_selection(view: QAbstractItemView) -> None:
    text = selected_text(view)
    if text:
        QGuiApplication.clipboard().setText(text)


def copy_action(view: QAbstractItemView) -> QAction:
    """A "Copy" entry for a view's own context menu (views without one get it by default)."""
    action = QAction("Copy", view)
    action.setShortcut(QKeySequence(QKeySequence.StandardKey.Copy))
    action.setEnabled(bool(selected_text(view)))
    action.triggered.connect(lambda: copy_selection(view))
    return action


def _shown(view: QAbstractItemView, index: QModelIndex) -> bool:
    hidden = getattr(view, "isColumnHidden", None)
    return not (hidden is not None and hidden(index.column()))


def _column_position(view: QAbstractItemView, index: QModelIndex) -> int:
    header = getattr(view, "horizontalHeader", None) or getattr(view, "header", None)
    return header().visualIndex(index.column()) if header else index.column()
