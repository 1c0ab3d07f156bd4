"""Column widths suit the table's width: numeric columns as wide as their contents, text
columns sharing the rest, none wider than 40% of the table (at 1920 wide the Runs "Ckpt."
column took 700 px), and the text columns give up width first in a narrow table."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QTableWidget, QTableWidgetItem

from ui.table_columns import (
    MAX_SHARE,
    MIN_TEXT_WIDTH,
    ColumnFit,
    fit_columns,
    is_numeric_column,
    share_widths,
)

TITLES = ["ID", "Name", "Status", "Algorithm", "Duration", "Steps", "Train loss", "Ckpt."]
ROWS = [
    [
        "3",
        "demo grpo with a rather long name",
        "stopped",
        "grpo",
        "26 s",
        "31 / 45",
        "0.0028",
        "#4",
    ],
    ["2", "terminal dpo lr 2e-4", "done", "dpo", "5 s", "60 / 60", "0.572", "#3"],
    ["1", "demo dpo", "stopped", "dpo", "6 s", "65 / 120", "0.1422", "–"],
]
NUMERIC = [0, 4, 5, 6, 7]
TEXT = [1, 2, 3]


def test_numbers_with_units_totals_and_blanks_count_as_numeric():
    assert is_numeric_column(["26 s", "3.2 GiB", "31 / 45", "#4", "–", "87%", 1, 0.5, None])
    assert is_numeric_column(["2026-12-03 19:41", "1,234", "3.2e-05", "-0.57"])
    assert not is_numeric_column(["12", "demo dpo"])
    assert not is_numeric_column(["lr 5e-4"])


def test_spare_width_goes_to_text_columns_and_none_passes_the_cap():
    contents, floors = [40, 150, 80, 60], [40, 90, 80, 60]
    text = [False, True, True, False]
    widths = share_widths(contents, floors, text, 450)
    assert sum(widths) == 450
    assert widths[0] == 40 and widths[3] == 60  # numbers keep to their contents
    assert widths[1] == 450 * MAX_SHARE and widths[2] > 80  # the text columns grew
    widths = share_widths(contents, floors, text, 1000)
    assert widths[1] == widths[2] == 1000 * MAX_SHARE  # capped: the rest goes to all
    assert sum(widths) == 1000 and widths[0] > 40 and widths[3] > 60


def test_a_narrow_table_takes_width_from_the_widest_text_column_first():
    widths = share_widths([40, 300, 100, 60], [40, 90, 90, 60], [False, True, True, False], 450)
    assert widths == [40, 250, 100, 60]
    widths = share_widths([40, 300, 100, 60], [40, 90, 90, 60], [False, True, True, False], 250)
    assert widths == [40, MIN_TEXT_WIDTH, MIN_TEXT_WIDTH, 60]  # floors hold: it scrolls


def _runs_like_table(qtbot, width: int) -> QTableWidget:
    table = QTableWidget(len(ROWS), len(TITLES))
    table.setHorizontalHeaderLabels(TITLES)
    for r, row in enumerate(ROWS):
        for c, text in enumerate(row):
            table.setItem(r, c, QTableWidgetItem(text))
    qtbot.addWidget(table)
    table.resize(width, 300)
    fit_columns(table)
    table.show()
    qtbot.waitExposed(table)
    return table


def _widths(table: QTableWidget) -> list[int]:
    return [table.columnWidth(c) for c in range(table.columnCount())]


@pytest.mark.parametrize("window_width", [1280, 1600, 1920])
def test_columns_at_the_three_window_widths(qtbot, window_width):
    table = _runs_like_table(qtbot, window_width - 260)  # the sidebar and margins
    fit = fit_columns(table)
    qtbot.waitUntil(lambda: sum(_widths(table)) == table.viewport().width())
    widths = _widths(table)
    available = table.viewport().width()
    assert max(widths) <= available * MAX_SHARE + 1
    for column in NUMERIC:  # numbers keep to their contents while text columns have room
        title = fit._title_width(column)
        assert widths[column] <= max(title, table.sizeHintForColumn(column)) + available * 0.1
    assert min(widths[c] for c in TEXT) >= max(widths[c] for c in (0, 7))


def test_the_widths_follow_the_table_until_the_user_drags_a_column(qtbot):
    table = _runs_like_table(qtbot, 1000)
    qtbot.waitUntil(lambda: sum(_widths(table)) == table.viewport().width())
    table.resize(700, 300)
    qtbot.waitUntil(lambda: sum(_widths(table)) == table.viewport().width())
    name = table.columnWidth(1)
    table.findChild(ColumnFit).user_sized = True  # as a drag of a column's edge sets it
    table.resize(1200, 300)
    qtbot.wait(50)
    assert table.columnWidth(1) == name
