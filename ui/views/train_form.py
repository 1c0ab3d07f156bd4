"""The settings of a training run: the algorithm, then one group box per settings group
with only the settings that apply to that algorithm (engine.training.config
`setting_fields`), each with its help as tooltip, and the LoRA settings.

`config()` is the run config dictionary of the form's values (the keys of the TOML
file); `set_config()` shows one (a preset, a file, the project's defaults)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from engine.lora import LoraSettings
from engine.rules import ParamInfo
from engine.training.config import (
    DPO_LOSS_TYPES,
    GROUPS,
    LORA_HELP,
    OFFLINE_ALGORITHMS,
    PRECISIONS,
    SCHEDULERS,
    setting_fields,
)
from ui.views.param_editors import ParamEditor, make_editor, param_label

ALGORITHMS = {
    "dpo": ("DPO", "Direct Preference Optimization: learns from pairs, kept close to the "
            "base model (the reference). The usual first choice."),
    "ipo": ("IPO", "DPO with a squared loss that does not overfit labels that are always "
            "the same; try it when DPO's margins keep growing."),
    "simpo": ("SimPO", "No reference model (less memory); a length-normalised margin."),
    "orpo": ("ORPO", "Supervised fine-tuning on the chosen answers plus an odds-ratio "
             "preference term; no reference model."),
    "kto": ("KTO", "Learns from single good or bad examples (pairs are split into both); "
            "use it for thumbs-up / thumbs-down labels."),
    "reward": ("Reward model", "Trains a Bradley–Terry scorer of completions from the "
               "pairs, for ranking or later RL."),
}
CHOICES = {"lr_scheduler": SCHEDULERS, "loss_type": DPO_LOSS_TYPES, "precision": PRECISIONS}
FLOAT_OPTIONAL = ("beta", "center_rewards_coefficient")
LABELS = {"rpo_alpha": "RPO alpha", "lr_scheduler": "LR scheduler", "max_length": "Max length (tokens)",
          "simpo_gamma_beta_ratio": "Gamma / beta", "eval_batches": "Eval batches"}
GROUP_TITLES = {"method": "Method", "optimization": "Optimization", "data": "Data length",
                "evaluation": "Evaluation and checkpoints", "hardware": "Hardware"}


def param_info(name: str, default: Any, help_text: str) -> ParamInfo:
    """How one training setting is edited: a choice, a check box, a number (never below
    0; validation says what else is wrong) or a line of text."""
    if name in CHOICES:
        return ParamInfo(name, "choice", default, help_text, choices=CHOICES[name])
    if isinstance(default, bool):
        return ParamInfo(name, "bool", default, help_text)
    if isinstance(default, int) and name != "alpha":
        return ParamInfo(name, "int", default, help_text, minimum=0)
    if isinstance(default, float) or name in FLOAT_OPTIONAL or name == "alpha":
        return ParamInfo(name, "float", default, help_text, minimum=0)
    return ParamInfo(name, "str", default, help_text)


def targets_text(value: Any) -> str:
    return ", ".join(value) if isinstance(value, list) else str(value)


def parse_targets(text: str) -> str | list[str]:
    """'all-linear', or 'q_proj, v_proj' -> a list of module names."""
    names = [part.strip() for part in text.replace("[", "").replace("]", "").split(",")]
    names = [n.strip("'\"") for n in names if n.strip("'\"")]
    return names[0] if len(names) == 1 and names[0] == "all-linear" else names


class TrainForm(QWidget):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.editors: dict[str, ParamEditor] = {}
        self._values: dict[str, Any] = {}  # settings of other algorithms, kept across switches
        self.algorithm = QComboBox(objectName="algorithm")
        for key, (text, about) in ALGORITHMS.items():
            self.algorithm.addItem(text, key)
            self.algorithm.setItemData(self.algorithm.count() - 1, about,
                                       Qt.ItemDataRole.ToolTipRole)
        self.algorithm.setToolTip("The training method. The settings below are its own; "
                                  "switching keeps the values you typed.")
        self.about = QLabel(wordWrap=True, objectName="algorithmAbout")
        self.about.setProperty("muted", True)
        self.groups = QWidget()
        self.groups_layout = QVBoxLayout(self.groups)
        self.groups_layout.setContentsMargins(0, 0, 0, 0)
        self.lora = self._lora_box()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        top.addWidget(QLabel("Algorithm"))
        top.addWidget(self.algorithm, 1)
        layout.addLayout(top)
        layout.addWidget(self.about)
        layout.addWidget(self.groups)
        layout.addWidget(self.lora)
        layout.addStretch(1)
        self._build()
        self.algorithm.currentIndexChanged.connect(self._algorithm_changed)

    def current_algorithm(self) -> str:
        return self.algorithm.currentData()

    def _lora_box(self) -> QGroupBox:
        box = QGroupBox("LoRA adapter")
        form = QFormLayout(box)
        for name, default in LoraSettings().to_dict().items():
            info = param_info(name, default, LORA_HELP[name])
            if name == "r":
                info = ParamInfo(name, "int", default, LORA_HELP[name], minimum=0)
            if name == "target_modules":
                info = ParamInfo(name, "str", targets_text(default), LORA_HELP[name])
            self._add_row(form, f"lora.{name}", info, "LoRA rank" if name == "r" else None)
        return box

    def _add_row(self, form: QFormLayout, key: str, info: ParamInfo, label: str | None = None):
        editor = make_editor(info)
        editor.changed.connect(self.changed)
        self.editors[key] = editor
        if info.type == "bool":
            form.addRow("", editor)
            return
        text = QLabel(label or LABELS.get(info.name) or param_label(info.name))
        text.setToolTip(info.help)
        form.addRow(text, editor)

    def _build(self) -> None:
        """One group box per settings group, holding the settings of the algorithm."""
        while self.groups_layout.count():
            self.groups_layout.takeAt(0).widget().deleteLater()
        for key in [k for k in self.editors if not k.startswith("lora.")]:
            del self.editors[key]
        self.about.setText(ALGORITHMS[self.current_algorithm()][1])
        fields = [f for f in setting_fields(self.current_algorithm()) if f[0] != "algorithm"]
        for group in GROUPS:
            rows = [f for f in fields if f[3] == group]
            if not rows:
                continue
            box = QGroupBox(GROUP_TITLES.get(group, group.title()))
            form = QFormLayout(box)
            for name, default, help_text, _ in rows:
                self._add_row(form, name, param_info(name, default, help_text))
                if name in self._values:
                    self.editors[name].set_value(self._values[name])
            self.groups_layout.addWidget(box)

    @Slot()
    def _algorithm_changed(self) -> None:
        self._values.update(self._shown_values())
        self._build()
        self.changed.emit()

    def _shown_values(self) -> dict[str, Any]:
        return {k: e.value() for k, e in self.editors.items() if not k.startswith("lora.")}

    def config(self) -> dict[str, Any]:
        """The algorithm's settings and the LoRA table (no data selection keys)."""
        lora = {k[5:]: e.value() for k, e in self.editors.items() if k.startswith("lora.")}
        lora["target_modules"] = parse_targets(lora["target_modules"] or "")
        values = {k: v for k, v in self._shown_values().items() if v is not None}
        return {"algorithm": self.current_algorithm(), **values, "lora": lora}

    def set_config(self, config: dict[str, Any]) -> None:
        """Show `config`'s values; keys it lacks keep what the form shows."""
        self._values.update({k: v for k, v in config.items() if k != "lora"})
        algorithm = config.get("algorithm", self.current_algorithm())
        index = self.algorithm.findData(algorithm if algorithm in OFFLINE_ALGORITHMS else "dpo")
        self.algorithm.blockSignals(True)
        self.algorithm.setCurrentIndex(index)
        self.algorithm.blockSignals(False)
        self._build()
        for name, value in (config.get("lora") or {}).items():
            editor = self.editors.get(f"lora.{name}")
            if editor is not None:
                editor.set_value(targets_text(value) if name == "target_modules" else value)
        self.changed.emit()
