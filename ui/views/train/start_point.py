"""Where a run starts: which of the project's models it trains, and whether it continues
from a checkpoint's adapter (which is then also the reference)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QFormLayout, QGroupBox, QWidget

from ui.session import ProjectSession
from workbench.training.config import RUN_KEYS
from workbench.training.start_points import start_choices

BASE = "Base model (a fresh adapter)"


class StartPoint(QGroupBox):
    changed = Signal()

    def __init__(self, session: ProjectSession, parent: QWidget | None = None):
        super().__init__("Start from", parent)
        self.session = session
        self.model = QComboBox(toolTip=RUN_KEYS["model_id"][1])
        self.checkpoint = QComboBox(toolTip=RUN_KEYS["init_checkpoint"][1])
        self.checkpoint.addItem(BASE, None)
        form = QFormLayout(self)
        form.addRow("Model", self.model)
        form.addRow("Adapter", self.checkpoint)
        self._wanted: dict[str, Any] = {}
        self.model.currentIndexChanged.connect(self.changed)
        self.checkpoint.currentIndexChanged.connect(self.changed)
        self.refresh()

    def refresh(self) -> None:
        self.session.runner.call(start_choices, on_done=self._fill)

    def _fill(self, choices: dict[str, Any]) -> None:
        wanted = {**self.values(), **self._wanted}
        self.blockSignals(True)
        self.model.clear()
        for model_id, name in choices["models"]:
            self.model.addItem(name, model_id)
        self.checkpoint.clear()
        self.checkpoint.addItem(BASE, None)
        for checkpoint_id, label in choices["checkpoints"]:
            self.checkpoint.addItem(label, checkpoint_id)
        self._select(self.model, wanted.get("model_id", choices["default_model"]))
        self._select(self.checkpoint, wanted.get("init_checkpoint"))
        self.blockSignals(False)
        self._wanted = {}
        self.changed.emit()

    @staticmethod
    def _select(combo: QComboBox, value) -> None:
        index = combo.findData(value)
        combo.setCurrentIndex(index if index >= 0 else 0)

    def values(self) -> dict[str, Any]:
        values = {}
        if self.model.currentData() is not None:
            values["model_id"] = self.model.currentData()
        if self.checkpoint.currentData() is not None:
            values["init_checkpoint"] = self.checkpoint.currentData()
        return values

    def set_values(self, config: dict[str, Any]) -> None:
        """Select the config's model and checkpoint (remembered until the lists arrive)."""
        self._wanted = {k: config.get(k) for k in ("model_id", "init_checkpoint")}
        self._select(self.model, config.get("model_id", self.model.currentData()))
        self._select(self.checkpoint, config.get("init_checkpoint"))
