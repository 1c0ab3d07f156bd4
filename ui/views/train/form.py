"""The settings of a training run: the algorithm, then one group box per settings group
with only the settings that apply to that algorithm (engine.training.config
`setting_fields`), each with its help as tooltip, and the LoRA settings.

`config()` is the run config dictionary of the form's values (the keys of the TOML
file); `set_config()` shows one (a preset, a file); `set_defaults()` takes the project's
defaults. A setting the user has not edited shows its value for the algorithm shown
(train_defaults.baseline), so switching algorithm applies that algorithm's defaults."""

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
    GRPO_LOSS_TYPES,
    IMPORTANCE_LEVELS,
    LORA_HELP,
    PRECISIONS,
    REWARD_SCALINGS,
    SCHEDULERS,
    setting_fields,
)
from ui.views.common.param_editors import ParamEditor, make_editor, param_label
from ui.views.train.defaults import SETTING_KEYS, baseline, flatten, same, targets_text

ALGORITHMS = {
    "dpo": (
        "DPO",
        "Direct Preference Optimization: learns from pairs, kept close to the "
        "base model (the reference). The usual first choice.",
    ),
    "ipo": (
        "IPO",
        "DPO with a squared loss that does not overfit labels that are always "
        "the same; try it when DPO's margins keep growing.",
    ),
    "simpo": ("SimPO", "No reference model (less memory); a length-normalised margin."),
    "orpo": (
        "ORPO",
        "Supervised fine-tuning on the chosen answers plus an odds-ratio "
        "preference term; no reference model.",
    ),
    "kto": (
        "KTO",
        "Learns from single good or bad examples (pairs are split into both); "
        "use it for thumbs-up / thumbs-down labels.",
    ),
    "reward": (
        "Reward model",
        "Trains a Bradley–Terry scorer of completions from the pairs, for ranking or later RL.",
    ),
    "grpo": (
        "GRPO",
        "Group Relative Policy Optimization: samples a group of completions per "
        "prompt and pushes up those rewarded above their group's mean; no value model. "
        "The usual choice with verifiable rules.",
    ),
    "rloo": (
        "RLOO",
        "REINFORCE Leave-One-Out: each completion's baseline is the mean reward of "
        "the other samples of its prompt; no value model.",
    ),
    "ppo": (
        "PPO",
        "Proximal Policy Optimization with a value head and GAE advantages, kept "
        "near the reference by a KL penalty; the classic RLHF recipe after a reward model.",
    ),
    "online_dpo": (
        "Online DPO",
        "Samples two completions per prompt, ranks them by the reward "
        "or a judge, and takes a DPO step on the pair.",
    ),
}
CHOICES = {
    "lr_scheduler": SCHEDULERS,
    "loss_type": DPO_LOSS_TYPES,
    "precision": PRECISIONS,
    "grpo_loss_type": GRPO_LOSS_TYPES,
    "scale_rewards": REWARD_SCALINGS,
    "importance_sampling_level": IMPORTANCE_LEVELS,
}
FLOAT_OPTIONAL = ("beta", "center_rewards_coefficient", "epsilon_high", "kl_target")
LABELS = {
    "rpo_alpha": "RPO alpha",
    "lr_scheduler": "LR scheduler",
    "max_length": "Max length (tokens)",
    "simpo_gamma_beta_ratio": "Gamma / beta",
    "eval_batches": "Eval batches",
    "num_generations": "Generations per prompt",
    "max_completion_length": "Max completion (tokens)",
    "top_p": "Top-p",
    "top_k": "Top-k",
    "num_iterations": "Updates per batch",
    "epsilon": "Clip epsilon",
    "epsilon_high": "Clip epsilon high",
    "grpo_loss_type": "Loss aggregation",
    "importance_sampling_level": "Importance ratio",
    "lam": "GAE lambda",
    "gamma": "Discount gamma",
    "vf_coef": "Value loss weight",
    "cliprange_value": "Value clip range",
    "entropy_coef": "Entropy bonus",
    "kl_target": "KL target",
    "kl_horizon": "KL horizon",
}
GROUP_TITLES = {
    "method": "Method",
    "rollout": "Rollout",
    "optimization": "Optimization",
    "data": "Data length",
    "evaluation": "Evaluation and checkpoints",
    "hardware": "Hardware",
}


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
        for key, (text, about) in ALGORITHMS.items():
            if key == "grpo":  # offline methods above, online (sampling) ones below
                self.algorithm.insertSeparator(self.algorithm.count())
            self.algorithm.addItem(text, key)
            self.algorithm.setItemData(
                self.algorithm.count() - 1, about, Qt.ItemDataRole.ToolTipRole
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
        """One group box per settings group, holding the settings of the algorithm, each
        showing the user's value or else the algorithm's baseline."""
        while self.groups_layout.count():
            self.groups_layout.takeAt(0).widget().deleteLater()
        for key in [k for k in self.editors if not k.startswith("lora.")]:
            del self.editors[key]
        algorithm = self._shown = self.current_algorithm()
        self.about.setText(ALGORITHMS[algorithm][1])
        fields = [f for f in setting_fields(algorithm) if f[0] != "algorithm"]
        for group in GROUPS:
            rows = [f for f in fields if f[3] == group]
            if not rows:
                continue
            box = QGroupBox(GROUP_TITLES.get(group, group.title()))
            form = QFormLayout(box)
            for name, default, help_text, _ in rows:
                self._add_row(form, name, param_info(name, default, help_text))
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
        algorithm = algorithm if algorithm in ALGORITHMS else "dpo"
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
