"""Clipped text can be read and copied: an elided cell, header section or label shows its
whole text as a tooltip (one that fits shows none), Ctrl+C and the context menu's Copy copy
the selected cells' whole text, and a long tooltip wraps at a readable width."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPoint, Qt, QTimer
from PySide6.QtGui import QContextMenuEvent, QGuiApplication, QHelpEvent
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QMenu,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QToolTip,
    QWidget,
)

from ui.style import BAD, say
from ui.text_overflow import install_text_overflow
from ui.tooltips import tooltip_width

LONG = " ".join(f"word{i}" for i in range(40))  # far wider than a 120 px column


def _tips() -> list[QWidget]:
    return [w for w in QApplication.topLevelWidgets() if w.objectName() == "qtooltip_label"]


def _tooltip_at(widget: QWidget, pos: QPoint) -> str | None:
    """Ask ``widget`` for its tooltip at ``pos``; the text shown, or None when none is."""
    for tip in _tips():  # hideText() would keep it on screen for another 300 ms
        tip.close()
    event = QHelpEvent(QEvent.Type.ToolTip, pos, widget.mapToGlobal(pos))
    QApplication.sendEvent(widget, event)
    return QToolTip.text() if QToolTip.isVisible() else None


def _table(qtbot, rows: list[list[str]]) -> QTableWidget:
    install_text_overflow(QApplication.instance())
    table = QTableWidget(len(rows), len(rows[0]))
    table.setHorizontalHeaderLabels(["A very long column title indeed", "B"][: len(rows[0])])
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            table.setItem(r, c, QTableWidgetItem(text))
    for c in range(len(rows[0])):
        table.setColumnWidth(c, 120)
    table.resize(400, 200)
    qtbot.addWidget(table)
    table.show()
    qtbot.waitExposed(table)
    return table


def _cell_centre(table: QTableWidget, row: int, column: int) -> QPoint:
    return table.visualRect(table.model().index(row, column)).center()


def test_an_elided_cell_shows_its_whole_text_and_one_that_fits_shows_none(qtbot):
    table = _table(qtbot, [[LONG, "short"]])
    shown = _tooltip_at(table.viewport(), _cell_centre(table, 0, 0))
    assert shown is not None and LONG in shown
    assert _tooltip_at(table.viewport(), _cell_centre(table, 0, 1)) is None


def test_a_models_own_tooltip_still_shows_beside_the_whole_text(qtbot):
    table = _table(qtbot, [[LONG, "short"]])
    table.item(0, 0).setToolTip("from the model")
    table.item(0, 1).setToolTip("about short")
    both = _tooltip_at(table.viewport(), _cell_centre(table, 0, 0))
    assert LONG in both and "from the model" in both
    assert _tooltip_at(table.viewport(), _cell_centre(table, 0, 1)) == "about short"


def test_an_elided_header_section_shows_its_title(qtbot):
    table = _table(qtbot, [[LONG, "short"]])
    header = table.horizontalHeader()
    first = QPoint(header.sectionViewportPosition(0) + 10, header.height() // 2)
    second = QPoint(header.sectionViewportPosition(1) + 10, header.height() // 2)
    assert _tooltip_at(header.viewport(), first) == "A very long column title indeed"
    assert _tooltip_at(header.viewport(), second) is None


def test_ctrl_c_copies_the_selected_cells_whole_text(qtbot):
    table = _table(qtbot, [[LONG, "short"], ["x", "y"]])
    table.setFocus()
    table.setCurrentCell(0, 0)
    qtbot.keyClick(table, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().text() == LONG
    table.selectAll()
    qtbot.keyClick(table, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().text() == f"{LONG}\tshort\nx\ty"


def test_the_context_menu_copies_the_selection(qtbot):
    table = _table(qtbot, [[LONG, "short"], ["x", "y"]])
    table.setCurrentCell(1, 1)
    QGuiApplication.clipboard().clear()
    entries: list[str] = []

    def choose_copy() -> None:
        menu = QApplication.activePopupWidget()
        assert isinstance(menu, QMenu)
        entries.extend(a.text() for a in menu.actions())
        menu.actions()[0].trigger()
        menu.close()

    QTimer.singleShot(0, choose_copy)
    pos = _cell_centre(table, 1, 1)
    event = QContextMenuEvent(
        QContextMenuEvent.Reason.Mouse, pos, table.viewport().mapToGlobal(pos)
    )
    QApplication.sendEvent(table.viewport(), event)
    assert entries == ["Copy"]
    assert QGuiApplication.clipboard().text() == "y"


def test_a_400_character_tooltip_wraps_at_a_readable_width(qtbot):
    install_text_overflow(QApplication.instance())
    button = QPushButton("?")
    text = ("a reason that goes on " * 20)[:400]
    button.setToolTip(text)
    qtbot.addWidget(button)
    button.show()
    qtbot.waitExposed(button)
    shown = _tooltip_at(button, QPoint(5, 5))
    assert shown is not None and text.strip().split()[-1] in shown
    tip = next(w for w in _tips() if w.isVisible())
    line = tip.fontMetrics().height()
    assert tip.width() <= tooltip_width(tip.font()) + 40
    assert tip.height() >= 3 * line  # wrapped onto several lines, not one strip
    assert _tooltip_at(button, QPoint(5, 5)) == shown  # shown again the same way


def test_a_short_tooltip_stays_as_written(qtbot):
    install_text_overflow(QApplication.instance())
    button = QPushButton("?")
    button.setToolTip("Save the rule")
    qtbot.addWidget(button)
    button.show()
    qtbot.waitExposed(button)
    assert _tooltip_at(button, QPoint(5, 5)) == "Save the rule"


def test_a_status_line_cut_off_shows_its_whole_text_and_is_selectable(qtbot):
    install_text_overflow(QApplication.instance())
    label = QLabel()
    say(label, f"The run failed: {LONG}", BAD)
    label.setFixedWidth(150)
    qtbot.addWidget(label)
    label.show()
    qtbot.waitExposed(label)
    assert label.textInteractionFlags() & Qt.TextInteractionFlag.TextSelectableByMouse
    assert label.text() == f"The run failed: {LONG}"  # the whole text is kept, not cut
    assert f"The run failed: {LONG}" in _tooltip_at(label, QPoint(5, 5))
    label.setFixedWidth(label.sizeHint().width() + 400)
    say(label, "Saved.", BAD)
    assert _tooltip_at(label, QPoint(5, 5)) is None
