"""Which judge: the project's judges (the default one marked), New local / New endpoint,
Save, Make default and Delete. The settings themselves are edited in JudgeForm."""

from __future__ import annotations

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from ui.style import set_primary
from workbench.judging.store import JudgeConfig

NEW = "\x00new"  # the combo's data for a judge that exists only in the form so far


class JudgePicker(QWidget):
    selected = Signal(object)  # the JudgeConfig chosen, or None when there is none
    newRequested = Signal(str)  # "local" or "endpoint"
    saveRequested = Signal()
    defaultRequested = Signal(str)
    deleteRequested = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.judges: dict[str, JudgeConfig] = {}
        self.default: str | None = None
        self.combo = QComboBox(minimumContentsLength=22)
        self.combo.setToolTip(
            "The judges of this project; the default one is what "
            "`workbench label --by judge` uses when no judge is named"
        )
        self.combo.currentIndexChanged.connect(self._changed)
        self.new_local = QPushButton("New local judge")
        self.new_local.setToolTip(
            "A model of this project reads the pair and names the "
            "better response (runs in the worker, no network)"
        )
        self.new_endpoint = QPushButton("New endpoint judge")
        self.new_endpoint.setToolTip(
            "Any OpenAI-compatible chat API: OpenAI, vLLM, llama.cpp, Ollama, …"
        )
        self.save_button = QPushButton("Save judge")
        set_primary(self.save_button)
        self.save_button.setToolTip(
            "Store the settings and the template in the project (never an API key)"
        )
        self.default_button = QPushButton("Make default")
        self.delete_button = QPushButton("Delete")
        self.new_local.clicked.connect(lambda: self.newRequested.emit("local"))
        self.new_endpoint.clicked.connect(lambda: self.newRequested.emit("endpoint"))
        self.save_button.clicked.connect(self.saveRequested)
        self.default_button.clicked.connect(lambda: self.defaultRequested.emit(self.name()))
        self.delete_button.clicked.connect(lambda: self.deleteRequested.emit(self.name()))
        news, actions = QHBoxLayout(), QHBoxLayout()
        for button in (self.new_local, self.new_endpoint):
            news.addWidget(button, 1)
        for button in (self.save_button, self.default_button, self.delete_button):
            actions.addWidget(button, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.combo)
        layout.addLayout(news)
        layout.addLayout(actions)
        self._update_buttons()

    def set_judges(
        self, judges: list[JudgeConfig], default: str | None, select: str | None = None
    ) -> None:
        """List ``judges``; keep the current one selected unless ``select`` names another."""
        select = select or self.name()
        self.judges = {judge.name: judge for judge in judges}
        self.default = default
        self.combo.blockSignals(True)
        self.combo.clear()
        for judge in judges:
            mark = "  (default)" if judge.name == default else ""
            self.combo.addItem(f"{judge.name}{mark} · {judge.kind}", judge.name)
        if not judges:
            self.combo.addItem("No judge yet: make a new one", None)
        index = self.combo.findData(select if select in self.judges else default)
        self.combo.setCurrentIndex(max(index, 0))
        self.combo.blockSignals(False)
        self._changed()

    def add_new(self, name: str) -> None:
        """An entry for the judge being made in the form, until it is saved."""
        self.combo.blockSignals(True)
        if self.combo.findData(None) >= 0:
            self.combo.removeItem(self.combo.findData(None))
        self.combo.addItem(f"{name} (not saved)", NEW)
        self.combo.setCurrentIndex(self.combo.count() - 1)
        self.combo.blockSignals(False)
        self._update_buttons()

    def name(self) -> str | None:
        data = self.combo.currentData()
        return data if data in self.judges else None

    def is_new(self) -> bool:
        return self.combo.currentData() == NEW

    @Slot()
    def _changed(self, *_args) -> None:
        if self.combo.findData(NEW) >= 0 and not self.is_new():
            self.combo.blockSignals(True)  # leaving an unsaved new judge drops it
            self.combo.removeItem(self.combo.findData(NEW))
            self.combo.blockSignals(False)
        self._update_buttons()
        if not self.is_new():
            self.selected.emit(self.judges.get(self.name()))

    def _update_buttons(self) -> None:
        saved = self.name() is not None
        self.save_button.setEnabled(saved or self.is_new())
        self.default_button.setEnabled(saved and self.name() != self.default)
        self.delete_button.setEnabled(saved)
