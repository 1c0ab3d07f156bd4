"""Label automatically: by the project's rules (the right answer beats a wrong one) or by
an AI judge, over a split, optionally sampling new candidates first; the same options as
`workbench label --by rules|judge`."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ui.style import set_muted
from ui.widgets import double_spin, spin
from workbench.labels.auto_label import AutoLabelRequest

MAX_SEED = 2**31 - 1
INTRO = {
    "rules": (
        "The worker scores the completions of each prompt with the ticked rules and stores "
        "a preference (source: rule) wherever one completion scores higher than another."
    ),
    "judge": (
        "The worker asks the judge which of two completions is better, in both orders, and "
        "stores its verdicts (source: ai); the Judge view shows its agreement with you."
    ),
}


class AutoLabelDialog(QDialog):
    def __init__(self, parent: QWidget, choices: dict[str, Any], split: str | None = None):
        super().__init__(parent)
        self.setWindowTitle("Label automatically")
        self.setMinimumWidth(480)
        self.by = QComboBox()
        self.by.addItem("Rules", "rules")
        self.by.addItem("AI judge", "judge")
        self.split = QComboBox()
        self.split.addItem(f"All splits ({sum(choices['splits'].values()):,})", None)
        for name, count in choices["splits"].items():
            self.split.addItem(f"{name} ({count:,})", name)
        self.split.setCurrentIndex(max(self.split.findData(split), 0))
        self.limit = spin(0, 1_000_000, 0, special="all")
        self.limit.setSuffix(" prompts")
        self.generate = spin(0, 16, 0, special="none: label stored completions")
        self.temperature = double_spin(0.05, 5.0, 1.0, 0.05)
        self.seed = spin(0, MAX_SEED, 0)
        self.max_pairs = spin(1, 64, 4)
        self.rules = QListWidget()
        self.rules.setMaximumHeight(120)
        for rule_id, name, enabled in choices["rules"]:
            item = QListWidgetItem(name)
            item.setData(Qt.ItemDataRole.UserRole, rule_id)
            item.setCheckState(Qt.CheckState.Checked if enabled else Qt.CheckState.Unchecked)
            self.rules.addItem(item)
        self.judge = QComboBox()
        for name in choices["judges"]:
            self.judge.addItem(name, name)
        self.tie_margin = double_spin(0.0, 1.0, 0.0, 0.05)
        self.tie_margin.setSpecialValueText("the judge's own")
        self.intro = QLabel(wordWrap=True)
        set_muted(self.intro)
        self._layout()
        self.by.currentIndexChanged.connect(self._by_changed)
        self.generate.valueChanged.connect(self._update)
        self.rules.itemChanged.connect(self._update)
        self._by_changed()

    def _layout(self) -> None:
        self.form = QFormLayout()
        self.form.addRow("Label by", self.by)
        self.form.addRow("Prompts", self.split)
        self.form.addRow("At most", self.limit)
        self.form.addRow("New candidates per prompt", self.generate)
        self.form.addRow("Their temperature", self.temperature)
        self.form.addRow("Seed", self.seed)
        self.form.addRow("Pairs per prompt, at most", self.max_pairs)
        self.form.addRow("Rules", self.rules)
        self.form.addRow("Judge", self.judge)
        self.form.addRow("Tie margin", self.tie_margin)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.start_button = buttons.addButton("Label", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.problem = QLabel(wordWrap=True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addLayout(self.form)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)

    def _by_changed(self) -> None:
        by = self.by.currentData()
        self.intro.setText(INTRO[by])
        for widget, shown in ((self.rules, by == "rules"), (self.judge, by == "judge")):
            self.form.setRowVisible(widget, shown)
        self.form.setRowVisible(self.tie_margin, by == "judge")
        self._update()

    def _update(self) -> None:
        self.temperature.setEnabled(self.generate.value() > 0)
        self.seed.setEnabled(self.generate.value() > 0 or self.by.currentData() == "judge")
        problem = self.problem_text()
        self.problem.setText(problem or "")
        self.problem.setVisible(bool(problem))
        self.start_button.setEnabled(not problem)

    def problem_text(self) -> str | None:
        """Why Label is off, or None."""
        if self.by.currentData() == "judge" and not self.judge.count():
            return "The project has no judge yet: set one up in the Judge view first."
        if self.by.currentData() == "rules" and not self._ticked_rules():
            return "Tick at least one rule (the Rules view adds rules)."
        return None

    def _ticked_rules(self) -> list[int]:
        items = (self.rules.item(i) for i in range(self.rules.count()))
        return [
            int(item.data(Qt.ItemDataRole.UserRole))
            for item in items
            if item.checkState() == Qt.CheckState.Checked
        ]

    def request(self) -> AutoLabelRequest:
        by = self.by.currentData()
        generate = self.generate.value()
        return AutoLabelRequest(
            by=by,
            split=self.split.currentData(),
            limit=self.limit.value() or None,
            generate=generate,
            temperature=self.temperature.value() if generate else None,
            seed=self.seed.value() if (generate or by == "judge") else None,
            max_pairs_per_prompt=self.max_pairs.value(),
            rule_ids=tuple(self._ticked_rules()) if by == "rules" else None,
            judge=self.judge.currentData() if by == "judge" else None,
            tie_margin=(self.tie_margin.value() or None) if by == "judge" else None,
        )
