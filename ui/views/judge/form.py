"""A judge's settings: its name, and for a local judge the model that judges, for an
endpoint judge where to reach it, the name of the variable holding its key, and the
limits that keep a run fast and cheap. Settings the form does not show (mode, choices)
are kept as they were."""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from ui.style import BAD, set_muted
from ui.views.judge.key_store import KeyStore
from ui.widgets import double_spin, spin
from workbench.data.models import ModelRecord
from workbench.judging.store import JudgeConfig

KIND_NOTES = {
    "local": "A model of this project reads each pair, in both orders, and the probability "
    "it gives to A or B is the verdict. It runs in the worker; nothing leaves the "
    "machine.",
    "endpoint": "An OpenAI-compatible chat API is asked about each pair, in both orders. The "
    "project stores only the NAME of the variable holding the API key.",
}
ENDPOINT_TIPS = {
    "base_url": "The API's base URL, e.g. https://api.openai.com/v1, or a server on this "
    "machine such as http://127.0.0.1:8000/v1 (vLLM, llama.cpp, Ollama)",
    "model": "The model name the endpoint serves, e.g. gpt-4o-mini",
    "api_key_env": "The NAME of the environment variable that holds the key, never the key "
    "itself. A server on this machine needs no key",
    "concurrency": "Requests in flight at once",
    "max_retries": "Retries of a failed request (timeout, rate limit, server error), each "
    "after a longer wait",
    "timeout_s": "Seconds to wait for one reply before it counts as a failure",
    "max_requests": "The cost guard: one run never sends more requests than this, retries "
    "included. Each pair takes two (both orders)",
}


def tip(form: QFormLayout, text: str, widget: QWidget, tooltip: str) -> None:
    label = QLabel(text)
    label.setToolTip(tooltip)
    widget.setToolTip(tooltip)
    form.addRow(label, widget)


class JudgeForm(QWidget):
    changed = Signal()
    modelChanged = Signal()  # a local judge's model: its own template may differ

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.original = JudgeConfig(name="")
        self.name = QLineEdit()
        self.name.setToolTip("A saved judge keeps its name; make a new judge for another one")
        self.note = QLabel("", wordWrap=True)
        set_muted(self.note)
        self.problem = QLabel("", wordWrap=True)
        self.problem.setTextFormat(Qt.TextFormat.PlainText)
        self.problem.setStyleSheet(f"color: {BAD};")
        self.local = QWidget()
        self.endpoint = QWidget()
        self._local_fields()
        self._endpoint_fields()
        top = QFormLayout()
        top.addRow("Name", self.name)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.note)
        layout.addWidget(self.local)
        layout.addWidget(self.endpoint)
        layout.addWidget(self.problem)
        layout.addStretch(1)
        self.name.textChanged.connect(self._changed)

    def _local_fields(self) -> None:
        self.model_combo = QComboBox(minimumContentsLength=24)
        self.batch = spin(1, 256, 16)
        form = QFormLayout(self.local)
        form.setContentsMargins(0, 0, 0, 0)
        tip(
            form,
            "Judge model",
            self.model_combo,
            "A model of this project (add models in the "
            "Model view). A small model judges poorly: check its agreement with your labels",
        )
        tip(form, "Batch size", self.batch, "Pairs read at once; lower it if memory runs out")
        self.model_combo.currentIndexChanged.connect(self._model_changed)
        self.batch.valueChanged.connect(self._changed)

    def _endpoint_fields(self) -> None:
        self.base_url, self.model, self.key_env = QLineEdit(), QLineEdit(), QLineEdit()
        self.base_url.setPlaceholderText("https://api.openai.com/v1")
        self.model.setPlaceholderText("gpt-4o-mini")
        self.key_store = KeyStore(self.base_url.text)
        self.concurrency = spin(1, 64, 4)
        self.retries = spin(0, 20, 4)
        self.timeout = double_spin(0.5, 3600, 30, 5, decimals=1)
        self.max_requests = spin(1, 10**9, 1000, 100)
        form = QFormLayout(self.endpoint)
        form.setContentsMargins(0, 0, 0, 0)
        for text, widget, key in (
            ("Base URL", self.base_url, "base_url"),
            ("Model", self.model, "model"),
            ("API key variable", self.key_env, "api_key_env"),
        ):
            tip(form, text, widget, ENDPOINT_TIPS[key])
            widget.textChanged.connect(self._changed)
        form.addRow("", self.key_store)
        for text, widget, key in (
            ("Concurrency", self.concurrency, "concurrency"),
            ("Retries", self.retries, "max_retries"),
            ("Timeout (s)", self.timeout, "timeout_s"),
            ("Max requests", self.max_requests, "max_requests"),
        ):
            tip(form, text, widget, ENDPOINT_TIPS[key])
            widget.valueChanged.connect(self._changed)

    def set_models(self, models: list[ModelRecord], default_id: int | None) -> None:
        """Refill the model list, keeping the judge's model selected: the list is reloaded
        whenever the view is shown, and a silent fall back to the first model would run
        the judge on another model than the one on show elsewhere."""
        combo = self.model_combo
        current = combo.currentData()
        path_index = combo.findData("path")
        path_text = combo.itemText(path_index) if path_index >= 0 else None
        combo.blockSignals(True)
        combo.clear()
        for model in models:
            mark = "  (default model)" if model.id == default_id else ""
            combo.addItem(f"{model.name}{mark}", model.id)
        if path_text is not None:
            combo.addItem(path_text, "path")
        combo.setCurrentIndex(max(combo.findData(current), 0))
        combo.blockSignals(False)

    def show_config(self, config: JudgeConfig, saved: bool) -> None:
        self.original = config
        widgets = (
            self.name,
            self.model_combo,
            self.batch,
            self.base_url,
            self.model,
            self.key_env,
            self.concurrency,
            self.retries,
            self.timeout,
            self.max_requests,
        )
        for widget in widgets:
            widget.blockSignals(True)
        self.name.setText(config.name)
        self.name.setReadOnly(saved)
        self._show_model(config)
        self.batch.setValue(config.batch_size)
        self.base_url.setText(config.base_url or "")
        self.model.setText(config.model or "")
        self.key_env.setText(config.api_key_env or "")
        self.concurrency.setValue(config.concurrency)
        self.retries.setValue(config.max_retries)
        self.timeout.setValue(config.timeout_s)
        self.max_requests.setValue(config.max_requests)
        for widget in widgets:
            widget.blockSignals(False)
        self.local.setVisible(config.kind == "local")
        self.endpoint.setVisible(config.kind == "endpoint")
        self.note.setText(KIND_NOTES.get(config.kind, ""))
        self._changed()

    def _show_model(self, config: JudgeConfig) -> None:
        index = self.model_combo.findData("path")
        if index >= 0:
            self.model_combo.removeItem(index)
        if config.path and config.model_id is None:  # set up from the command line
            self.model_combo.addItem(f"folder: {config.path}", "path")
        wanted = config.model_id if config.model_id is not None else "path"
        self.model_combo.setCurrentIndex(max(self.model_combo.findData(wanted), 0))

    def config(self) -> JudgeConfig:
        """The judge as the form shows it (possibly invalid; see ``problem_text``)."""
        if self.original.kind == "local":
            model = self.model_combo.currentData()
            fields = {
                "model_id": None if model == "path" else model,
                "path": self.original.path if model == "path" else None,
                "batch_size": self.batch.value(),
            }
        else:
            fields = {
                "base_url": self.base_url.text().strip(),
                "model": self.model.text().strip(),
                "api_key_env": self.key_env.text().strip(),
                "concurrency": self.concurrency.value(),
                "max_retries": self.retries.value(),
                "timeout_s": self.timeout.value(),
                "max_requests": self.max_requests.value(),
            }
        return dataclasses.replace(self.original, name=self.name.text().strip(), **fields)

    def problem_text(self) -> str:
        """What is wrong with the settings as shown, or "" (the worker checks the rest)."""
        config = self.config()
        if config.kind == "local" and config.model_id is None and not config.path:
            return "The project has no model to judge with: add one in the Model view."
        try:
            config.validate()
        except ValueError as error:
            return str(error)
        return ""

    @Slot()
    def _model_changed(self, *_args) -> None:
        self._changed()
        self.modelChanged.emit()

    @Slot()
    def _changed(self, *_args) -> None:
        self.problem.setText(self.problem_text())
        self.problem.setVisible(bool(self.problem.text()))
        self.changed.emit()
