"""The Label view's toolbar: pairs or ranking (and how many to rank), which prompts (split)
and whose completions (a base model or a checkpoint), Label automatically (rules or a
judge) and Generate candidates."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QWidget

from ui.style import set_primary
from ui.views.label.candidate_dialog import parse_source, source_items
from ui.widgets import spin
from workbench.labels.scope import LabelFilters

MODES = (("Compare pairs", "pair"), ("Rank several", "rank"))


MAX_SOURCE_WIDTH = 360  # px: a checkpoint's whole name at 1600 wide and more


def refill(combo: QComboBox, items: list[tuple[str, Any]], first: str) -> None:
    """Replace the items, keeping the selection when it still exists, without signals."""
    current = combo.currentData()
    combo.blockSignals(True)
    combo.clear()
    combo.addItem(first, None)
    for text, data in items:
        combo.addItem(text, data)
    combo.setCurrentIndex(max(combo.findData(current), 0))
    combo.blockSignals(False)
    if combo.currentData() != current:
        combo.currentIndexChanged.emit(combo.currentIndex())


class LabelToolbar(QWidget):
    changed = Signal()
    generateRequested = Signal()
    autoLabelRequested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.mode_combo = QComboBox()
        for text, mode in MODES:
            self.mode_combo.addItem(text, mode)
        self.size_spin = spin(3, 8, 4)
        self.size_spin.setPrefix("of ")
        self.size_spin.setToolTip("How many completions of a prompt to rank at once")
        self.split = QComboBox(minimumContentsLength=10)
        self.split.addItem("All splits", None)
        self.source = QComboBox(minimumContentsLength=10)
        self.source.addItem("All models and checkpoints", None)
        self.generate_button = QPushButton("Generate candidates…")
        set_primary(self.generate_button)
        self.generate_button.clicked.connect(self.generateRequested)
        self.auto_button = QPushButton("Label automatically…")
        self.auto_button.setToolTip(
            "Label by the project's rules or by an AI judge, with progress and Cancel "
            "(as `workbench label --by rules|judge`)"
        )
        self.auto_button.clicked.connect(self.autoLabelRequested)
        for combo in (self.mode_combo, self.split, self.source):
            combo.currentIndexChanged.connect(self._changed)
        for combo in (self.split, self.source):  # long names elide; the buttons keep their text
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
        self.size_spin.valueChanged.connect(self._changed)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.mode_combo)
        layout.addWidget(self.size_spin)
        layout.addSpacing(12)
        for text, widget in (("Prompts", self.split), ("Completions from", self.source)):
            layout.addWidget(QLabel(text))
            layout.addWidget(widget)
        # The room left goes to the source first, up to its maximum, then between the buttons
        layout.setStretchFactor(self.source, 1)
        self.source.setMaximumWidth(MAX_SOURCE_WIDTH)
        layout.addStretch(0)
        layout.addWidget(self.auto_button)
        layout.addWidget(self.generate_button)
        self.size_spin.setVisible(False)

    def _changed(self, *_args) -> None:
        self.size_spin.setVisible(self.mode() == "rank")
        self.changed.emit()

    def set_choices(self, choices: dict[str, Any]) -> None:
        splits = [(f"{name} ({n:,})", name) for name, n in choices["splits"].items()]
        refill(self.split, splits, f"All splits ({sum(choices['splits'].values()):,})")
        refill(self.source, source_items(choices), "All models and checkpoints")

    def show_mode(self, mode: str) -> None:
        """Show `mode` without asking for a new task (an undone label is shown again)."""
        self.mode_combo.blockSignals(True)
        self.mode_combo.setCurrentIndex(self.mode_combo.findData(mode))
        self.mode_combo.blockSignals(False)
        self.size_spin.setVisible(mode == "rank")

    def mode(self) -> str:
        return self.mode_combo.currentData()

    def size(self) -> int:
        return self.size_spin.value()

    def filters(self) -> LabelFilters:
        model_id, checkpoint_id = parse_source(self.source.currentData())
        return LabelFilters(self.split.currentData(), model_id, checkpoint_id)

    def scope_text(self) -> str:
        split = self.split.currentData()
        where = f"the {split} split" if split else "the project"
        if self.source.currentData() is None:
            return where
        return f"{where} ({self.source.currentText()})"
