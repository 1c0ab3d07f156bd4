"""Generate candidates: which model or checkpoint, how many completions per prompt, the
sampling settings and which prompts, for a `generate` job whose completions the Label
view then serves."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from ui.style import set_muted
from ui.widgets import double_spin, spin
from workbench.labels.candidates import CandidateRequest

MAX_SEED = 2**31 - 1
INTRO = (
    "The worker samples these completions and stores them; the Label view serves them "
    "as soon as the job ends. Different candidates need sampling: a temperature above 0."
)


def source_key(kind: str, source_id: int | None) -> str:
    """A combo item's data: a string, since Qt cannot find a Python tuple among its items."""
    return f"{kind}:{source_id}"


def parse_source(key: str | None) -> tuple[int | None, int | None]:
    """(model id, checkpoint id) of a `source_key`, one of them None; both None for None."""
    if key is None:
        return None, None
    kind, source_id = key.split(":")
    return (int(source_id), None) if kind == "model" else (None, int(source_id))


def source_items(choices: dict[str, Any]) -> list[tuple[str, str]]:
    """(text, source key): base models first, then checkpoints."""
    items = [
        (f"{name} (base)", source_key("model", model_id)) for model_id, name in choices["models"]
    ]
    items += [
        (label, source_key("checkpoint", checkpoint_id))
        for checkpoint_id, label in choices["checkpoints"]
    ]
    return items


class CandidateDialog(QDialog):
    def __init__(
        self, parent: QWidget, choices: dict[str, Any], n: int = 2, split: str | None = None
    ):
        super().__init__(parent)
        self.setWindowTitle("Generate candidates")
        self.setMinimumWidth(460)
        sampling = choices.get("sampling", {})
        self.source = QComboBox()
        for text, data in source_items(choices):
            self.source.addItem(text, data)
        default = self.source.findData(source_key("model", choices.get("default_model")))
        self.source.setCurrentIndex(max(default, 0))
        self.n = spin(2, 16, n)
        temperature = max(float(sampling.get("temperature", 1.0)), 0.05)
        self.temperature = double_spin(0.05, 5.0, temperature, 0.05)
        self.top_p = double_spin(0.01, 1.0, float(sampling.get("top_p", 1.0)), 0.05)
        self.max_tokens = spin(1, 8192, int(sampling.get("max_new_tokens", 64)))
        self.seed = spin(0, MAX_SEED, int(sampling.get("seed", 0)))
        self.split = QComboBox()
        self.split.addItem(f"All splits ({sum(choices['splits'].values()):,})", None)
        for name, count in choices["splits"].items():
            self.split.addItem(f"{name} ({count:,})", name)
        self.split.setCurrentIndex(max(self.split.findData(split), 0))
        self.unlabelled = QCheckBox("Only prompts without a human label", checked=True)
        self.limit = spin(0, 1_000_000, 20, special="all")
        self.limit.setSuffix(" prompts")
        self._layout()

    def _layout(self) -> None:
        intro = QLabel(INTRO, wordWrap=True)
        set_muted(intro)
        form = QFormLayout()
        form.addRow("Generate with", self.source)
        form.addRow("Candidates per prompt", self.n)
        form.addRow("Temperature", self.temperature)
        form.addRow("Top-p", self.top_p)
        form.addRow("Max new tokens", self.max_tokens)
        form.addRow("Seed", self.seed)
        form.addRow("Prompts", self.split)
        form.addRow("", self.unlabelled)
        form.addRow("At most", self.limit)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.generate_button = buttons.addButton("Generate", QDialogButtonBox.ButtonRole.AcceptRole)
        self.generate_button.setEnabled(self.source.count() > 0)
        if not self.source.count():
            intro.setText("The project has no model: add one in the Model view first.")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(buttons)

    def request(self) -> CandidateRequest:
        model_id, checkpoint_id = parse_source(self.source.currentData())
        return CandidateRequest(
            model_id=model_id,
            checkpoint_id=checkpoint_id,
            n=self.n.value(),
            sampling={
                "do_sample": True,
                "temperature": self.temperature.value(),
                "top_p": self.top_p.value(),
                "max_new_tokens": self.max_tokens.value(),
                "seed": self.seed.value(),
            },
            split=self.split.currentData(),
            unlabelled_only=self.unlabelled.isChecked(),
            limit=self.limit.value() or None,
        )
