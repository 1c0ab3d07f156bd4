"""The bar above the grid: which rows to show (a verdict against the baseline, a rule some
answer fails, a text search), how many are shown, and Export of the shown rows."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QLineEdit, QPushButton, QWidget

from ui.style import set_muted
from ui.views.compare.cells import ALL, VERDICT_FILTERS

VERDICT_NAMES = {
    ALL: "All prompts",
    "improved": "Improved",
    "regressed": "Regressed",
    "unchanged": "Unchanged",
    "all-fail": "All fail",
}
ANY_RULE = "Any rule"


class FilterBar(QWidget):
    changed = Signal()
    exportRequested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.verdict = QComboBox()
        for verdict in VERDICT_FILTERS:
            self.verdict.addItem(VERDICT_NAMES[verdict], verdict)
        self.verdict.setToolTip(
            "Prompts where a model other than the baseline improved, regressed, stayed the "
            "same (mean reward), or where neither passes any rule"
        )
        self.rule = QComboBox()
        self.rule.setToolTip("Prompts where some answer fails this rule")
        self.search = QLineEdit(
            placeholderText="Search prompts and answers", clearButtonEnabled=True
        )
        self.count = QLabel("")
        set_muted(self.count)
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("Write the rows shown to a CSV or JSONL file")
        self.export_button.clicked.connect(self.exportRequested)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("Show"))
        layout.addWidget(self.verdict)
        layout.addWidget(QLabel("failing"))
        layout.addWidget(self.rule)
        layout.addWidget(self.search, 1)
        layout.addWidget(self.count)
        layout.addWidget(self.export_button)
        self.verdict.currentIndexChanged.connect(self.changed)
        self.rule.currentIndexChanged.connect(self.changed)
        self.search.textChanged.connect(self.changed)
        self.set_rules([])

    def set_rules(self, rules: list[str]) -> None:
        current = self.rule.currentData()
        self.rule.blockSignals(True)
        self.rule.clear()
        self.rule.addItem(ANY_RULE, None)
        for rule in rules:
            self.rule.addItem(rule, rule)
        self.rule.setCurrentIndex(max(self.rule.findData(current), 0))
        self.rule.blockSignals(False)

    def set_verdict(self, verdict: str) -> None:
        self.verdict.setCurrentIndex(self.verdict.findData(verdict))

    def set_rule(self, rule: str | None) -> None:
        self.rule.setCurrentIndex(max(self.rule.findData(rule), 0))

    def values(self) -> tuple[str, str | None, str]:
        return self.verdict.currentData(), self.rule.currentData(), self.search.text()

    def set_count(self, shown: int, total: int) -> None:
        self.count.setText(f"{shown} of {total} prompts")
        self.export_button.setEnabled(shown > 0)
