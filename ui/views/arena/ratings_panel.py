"""The arena's ratings: whose votes (people's or the judge's, kept apart, or all), the
ladder with intervals, the table FastChat prints, and the win-fraction and battle-count
matrices; with how often the judge agreed with people on the battles both voted on."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ui.style import MUTED
from ui.views.arena.heatmap import Heatmap
from ui.views.arena.ladder import Ladder
from workbench.arena.ratings import RatingTable

SOURCES = (("People's votes", "human"), ("The judge's votes", "ai"), ("All votes", "all"))
TABLE_COLUMNS = ("Model", "Rating", "95% interval", "Battles", "Wins", "Ties")


def _interval(low: float | None, high: float | None) -> str:
    return "–" if low is None or high is None else f"{low:.0f} – {high:.0f}"


def agreement_text(agreement: dict[str, Any]) -> str:
    if not agreement["shared"]:
        return "The judge and people have not voted on the same battle yet."
    return (
        f"The judge agreed with people on {agreement['agreed']} of the "
        f"{agreement['shared']} battles both voted on ({agreement['rate']:.0%})."
    )


class RatingsPanel(QWidget):
    sourceChanged = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.source = QComboBox()
        for text, value in SOURCES:
            self.source.addItem(text, value)
        self.source.currentIndexChanged.connect(
            lambda _i: self.sourceChanged.emit(self.source.currentData())
        )
        self.summary = QLabel("No votes yet.", wordWrap=True)
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.agreement = QLabel("", wordWrap=True)
        self.agreement.setStyleSheet(f"color: {MUTED};")
        self.ladder = Ladder()
        self.table = QTableWidget(0, len(TABLE_COLUMNS))
        self.table.setHorizontalHeaderLabels(TABLE_COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.wins = Heatmap("win")
        self.battles = Heatmap("count")
        self.tabs = QTabWidget()
        self.tabs.addTab(self.ladder, "Ladder")
        self.tabs.addTab(self.table, "Table")
        self.tabs.addTab(self.wins, "Win fraction")
        self.tabs.addTab(self.battles, "Battles")
        top = QHBoxLayout()
        top.addWidget(QLabel("Ratings from"))
        top.addWidget(self.source, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.summary)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.agreement)

    def current_source(self) -> str:
        return self.source.currentData()

    def show_board(self, board: dict[str, Any]) -> None:
        table: RatingTable = board["table"]
        labels: dict[str, str] = board["labels"]
        battles = sum(r.battles for r in table.ratings) // 2
        if table.ratings:
            baseline = labels.get(table.baseline or "", table.baseline)
            self.summary.setText(
                f"{battles} battle(s); Bradley-Terry ratings, {baseline} = 1000, 95% intervals "
                f"from {table.bootstrap_rounds} bootstrap rounds (seed {table.seed})."
            )
        else:
            self.summary.setText("No votes of this kind yet.")
        self.ladder.show_table(table, labels)
        self._fill_table(table, labels)
        names = [labels.get(m, m) for m in table.models]
        self.wins.show_matrix(names, table.win_fraction)
        self.battles.show_matrix(names, table.battle_counts)
        self.agreement.setText(agreement_text(board["agreement"]))

    def _fill_table(self, table: RatingTable, labels: dict[str, str]) -> None:
        self.table.setRowCount(len(table.ratings))
        for row, r in enumerate(table.ratings):
            cells = (
                labels.get(r.model, r.model),
                f"{r.rating:.0f}",
                _interval(r.ci_low, r.ci_high),
                str(r.battles),
                str(r.wins),
                str(r.ties),
            )
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.table.setItem(row, column, item)
