"""No clipped text without a way to read it, for the whole app (one event filter):

- a table, tree or list cell, or a header section, whose text the view elides shows the
  whole text as its tooltip (above the model's own tooltip, if any); one that fits shows
  only the model's tooltip;
- Ctrl+C in an item view, or Copy in its context menu (views that have no menu of their
  own), copies the selected cells' whole text (`ui/cell_text.py`);
- a label whose text is cut off by its width shows the whole text as its tooltip;
- every tooltip wraps at a readable width (`ui/tooltips.py`).
"""

from __future__ import annotations

from typing import cast

from PySide6.QtCore import QEvent, QObject, QPoint, QRect
from PySide6.QtGui import (
    QContextMenuEvent,
    QHelpEvent,
    QKeyEvent,
    QKeySequence,
    Qt,  # QtGui's Qt also carries mightBeRichText
    QTextDocument,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QMenu,
    QTabBar,
    QToolTip,
    QWidget,
)

from ui.cell_text import (
    cell_is_elided,
    cell_text,
    copy_action,
    copy_selection,
    section_is_elided,
    section_text,
)
from ui.tooltips import wrap_tooltip


class TextOverflow(QObject):
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind == QEvent.Type.ToolTip and isinstance(watched, QWidget):
            return self._tooltip(watched, cast(QHelpEvent, event))
        if kind == QEvent.Type.KeyPress and isinstance(watched, QAbstractItemView):
            if cast(QKeyEvent, event).matches(QKeySequence.StandardKey.Copy):
                copy_selection(watched)
                return True
        if kind == QEvent.Type.ContextMenu and isinstance(watched, QWidget):
            view = _view_of_viewport(watched)
            if view is not None and not isinstance(view, QHeaderView):
                return _copy_menu(view, cast(QContextMenuEvent, event))
        return False

    def _tooltip(self, widget: QWidget, event: QHelpEvent) -> bool:
        view = _view_of_viewport(widget)
        if view is not None:
            text, rect = _item_tooltip(view, event.pos())
        elif isinstance(widget, QTabBar):
            tab = widget.tabAt(event.pos())
            text, rect = widget.tabToolTip(tab), widget.tabRect(tab)
        elif isinstance(widget, QLabel):
            text, rect = _label_tooltip(widget), QRect()
        else:
            text, rect = widget.toolTip(), QRect()
        if not text:
            QToolTip.hideText()
            event.ignore()
            return view is not None  # item views: no model tooltip either
        shown = wrap_tooltip(text, widget.font())
        QToolTip.showText(event.globalPos(), shown, widget, rect, widget.toolTipDuration())
        return True


def install_text_overflow(app: QObject) -> TextOverflow:
    """Install the filter on ``app`` once; the same filter is returned on later calls."""
    overflow = app.findChild(TextOverflow)
    if overflow is None:
        overflow = TextOverflow(app)
        app.installEventFilter(overflow)
    return overflow


def _view_of_viewport(widget: QWidget) -> QAbstractItemView | None:
    parent = widget.parentWidget()
    if isinstance(parent, QAbstractItemView) and parent.viewport() is widget:
        return parent
    return None


def _item_tooltip(view: QAbstractItemView, pos: QPoint) -> tuple[str, QRect]:
    """The whole text when elided, then the model's own tooltip; and the cell's rectangle."""
    if isinstance(view, QHeaderView):
        section = view.logicalIndexAt(pos)
        own = view.model().headerData(section, view.orientation(), Qt.ItemDataRole.ToolTipRole)
        whole = section_text(view, section) if section_is_elided(view, section) else ""
        rect = QRect()
    else:
        index = view.indexAt(pos)
        own = index.data(Qt.ItemDataRole.ToolTipRole)
        whole = cell_text(index) if cell_is_elided(view, index) else ""
        rect = view.visualRect(index)
    own = str(own) if own else ""
    return (f"{whole}\n\n{own}" if whole and own and own != whole else whole or own), rect


def _label_tooltip(label: QLabel) -> str:
    """The label's own tooltip, with its whole text first when its width cuts it off."""
    own = label.toolTip()
    text = label.text()
    if not text or label.wordWrap():
        return own
    document = QTextDocument()
    document.setDefaultFont(label.font())
    if label.textFormat() == Qt.TextFormat.PlainText or (
        label.textFormat() == Qt.TextFormat.AutoText and not Qt.mightBeRichText(text)
    ):
        document.setPlainText(text)
    else:
        document.setHtml(text)
    if document.idealWidth() - 2 * document.documentMargin() <= label.contentsRect().width():
        return own
    whole = document.toPlainText()
    return f"{whole}\n\n{own}" if own and own != whole else whole


def _copy_menu(view: QAbstractItemView, event: QContextMenuEvent) -> bool:
    """Copy for views that do not build their own context menu."""
    if view.contextMenuPolicy() != Qt.ContextMenuPolicy.DefaultContextMenu:
        return False
    menu = QMenu(view)
    menu.addAction(copy_action(view))
    menu.exec(event.globalPos())
    menu.deleteLater()
    return True
