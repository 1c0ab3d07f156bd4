"""The settings of a training run: the algorithm, then one group box per settings group
with only the settings that apply to that algorithm (engine.training.config
`settings_of`, from the algorithm registry), each with its help as tooltip and its
label, and the LoRA settings.

`config()` is the run config dictionary of the form's values (the keys of the TOML
file); `set_config()` shows one (a preset, a file); `set_defaults()` takes the project's
defaults. A setting the user has not edited shows its value for the algorithm shown
(defaults.baseline), so switching algorithm applies that algorithm's defaults."""

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

from engine.algorithms.registry import names, spec, specs
from engine.algorithms.settings import GROUPS, Setting
from engine.lora import LoraSettings
from engine.rules import ParamInfo
from engine.training.config import LORA_HELP, settings_of
from ui.views.common.param_editors import ParamEditor, make_editor, param_label
from ui.views.train.defaults import SETTING_KEYS, baseline, flatten, same, targets_text

GROUP_TITLES = {
    "method": "Method",
    "rollout": "Rollout",
    "optimization": "Optimization",
    "data": "Data length",
    "evaluation": "Evaluation and checkpoints",
    "hardware": "Hardware",
}


def setting_info(setting: Setting) -> ParamInfo:
    """How one training setting is edited: a choice, a check box, a number (never below
    0; validation says what else is wrong) or a line of text."""
    name, default, help_text = setting.name, setting.default, setting.help
    if setting.choices is not None:
        return ParamInfo(name, "choice", default, help_text, choices=setting.choices)
    if setting.kind == "bool":
        return ParamInfo(name, "bool", default, help_text)
    if setting.kind == "int":
        return ParamInfo(name, "int", default, help_text, minimum=0)
    if setting.kind in ("float", "optional_float"):
        return ParamInfo(name, "float", default, help_text, minimum=0)
    return ParamInfo(name, "str", default, help_text)


def lora_info(name: str, default: Any) -> ParamInfo:
    """The LoRA rank is a whole number, alpha and dropout are numbers (alpha may be 8.0)."""
    help_text = LORA_HELP[name]
    if name == "target_modules":
        return ParamInfo(name, "str", targets_text(default), help_text)
    if isinstance(default, bool):
        return ParamInfo(name, "bool", default, help_text)
    if name == "r":
        return ParamInfo(name, "int", default, help_text, minimum=0)
    return ParamInfo(name, "float", default, help_text, minimum=0)


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
        self._defaults: dict[str, Any] = {}  # the project's (train_defaults)
        # Values the user chose that differ from their algorithm's baseline, kept across
        # switches (also for settings the algorithm shown hides).
        self._edited: dict[str, Any] = {}
        self._shown = "dpo"  # the algorithm the editors were built for
        self.algorithm = QComboBox(objectName="algorithm")
        for i, algorithm in enumerate(specs()):
            if i and algorithm.online and not specs()[i - 1].online:
                # offline methods above, online (sampling) ones below
                self.algorithm.insertSeparator(self.algorithm.count())
            self.algorithm.addItem(algorithm.label, algorithm.name)
            self.algorithm.setItemData(
                self.algorithm.count() - 1, algorithm.description, Qt.ItemDataRole.ToolTipRole
            )
        self.algorithm.setToolTip(
            "The training method. The settings below are its own; "
            "switching keeps the values you typed and shows the "
            "project's defaults for the others."
        )
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
            info = lora_info(name, default)
            self._add_row(form, f"lora.{name}", info, "LoRA rank" if name == "r" else None)
        return box

    def _add_row(self, form: QFormLayout, key: str, info: ParamInfo, label: str | None = None):
        editor = make_editor(info)
        editor.changed.connect(self.changed)
        self.editors[key] = editor
        if info.type == "bool":
            form.addRow("", editor)
            return
        text = QLabel(label or param_label(info.name))
        text.setToolTip(info.help)
        form.addRow(text, editor)

    def _build(self) -> None:
        """One group box per settings group, holding the settings of the algorithm, each
        showing the user's value or else the algorithm's baseline."""
        while self.groups_layout.count():
            self.groups_layout.takeAt(0).widget().deleteLater()
        for key in [k for k in self.editors if not k.startswith("lora.")]:
            del self.editors[key]
        algorithm = self._shown = self.current_algorithm()
        self.about.setText(spec(algorithm).description)
        shown = [s for s in settings_of(algorithm) if s.name != "algorithm"]
        for group in GROUPS:
            rows = [s for s in shown if s.group == group]
            if not rows:
                continue
            box = QGroupBox(GROUP_TITLES.get(group, group.title()))
            form = QFormLayout(box)
            for setting in rows:
                self._add_row(form, setting.name, setting_info(setting), setting.label)
            self.groups_layout.addWidget(box)
        base = baseline(self._defaults, algorithm)
        for key, editor in self.editors.items():
            editor.blockSignals(True)  # one `changed` for the whole rebuild
            editor.set_value(self._edited.get(key, base.get(key)))
            editor.blockSignals(False)

    def _remember(self) -> None:
        """Keep the shown values that differ from the shown algorithm's baseline."""
        base = baseline(self._defaults, self._shown)
        for key, editor in self.editors.items():
            value = editor.value()
            if key in base and same(value, base[key]):
                self._edited.pop(key, None)
            else:
                self._edited[key] = value

    @Slot()
    def _algorithm_changed(self) -> None:
        self._remember()
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

    def set_defaults(self, defaults: dict[str, Any]) -> None:
        """The project's defaults (with `by_algorithm`); their algorithm if they name one."""
        self._remember()
        self._defaults = dict(defaults)
        self._show({"algorithm": defaults["algorithm"]} if "algorithm" in defaults else {})

    def set_config(self, config: dict[str, Any]) -> None:
        """Show `config`'s values; keys it lacks keep the user's values or the baseline."""
        self._remember()
        self._show(config)

    def _show(self, config: dict[str, Any]) -> None:
        algorithm = config.get("algorithm", self.current_algorithm())
        algorithm = algorithm if algorithm in names() else "dpo"
        base = baseline(self._defaults, algorithm)
        for key, value in flatten(config).items():
            if key == "algorithm" or key not in SETTING_KEYS:
                continue  # run keys (name, sources, ...) are other widgets'
            if same(value, base[key]):
                self._edited.pop(key, None)
            else:
                self._edited[key] = value
        self.algorithm.blockSignals(True)
        self.algorithm.setCurrentIndex(self.algorithm.findData(algorithm))
        self.algorithm.blockSignals(False)
        self._build()
        self.changed.emit()
