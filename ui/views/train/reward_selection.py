"""What an online run samples and how its completions are rewarded: the prompt split, the
project's rules (ticked ones count), a reward model (a checkpoint of a reward run) and an
AI judge, each with its weight. `values()` gives their run config keys."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from engine.rules import ParamInfo
from ui.session import ProjectSession
from ui.views.common.param_editors import make_editor
from workbench.training.config import RUN_KEYS
from workbench.training.reward_choices import reward_choices

KEYS = (
    "prompt_split",
    "reward_rules",
    "reward_model",
    "reward_model_weight",
    "judge",
    "judge_weight",
)
NONE = "None"


def rules_value(ticked: list[str], enabled: list[str]) -> bool | list[str]:
    """reward_rules for the ticked rules: true when they are exactly the enabled ones (the
    run then follows the Rules view), false for none, else their names."""
    if not ticked:
        return False
    return True if enabled and sorted(ticked) == sorted(enabled) else list(ticked)


def ticked_rules(value: Any, enabled: list[str]) -> list[str]:
    if value is True:
        return list(enabled)
    return list(value) if isinstance(value, list) else []


def select(combo: QComboBox, value: Any, missing_text: str) -> None:
    """Select the item holding `value`, adding one for a value the project lacks so that a
    loaded config keeps it (launch then says what is wrong)."""
    index = combo.findData(value)
    if index < 0:
        combo.addItem(missing_text, value)
        index = combo.count() - 1
    combo.setCurrentIndex(index)


class RewardSelection(QGroupBox):
    changed = Signal()

    def __init__(self, session: ProjectSession, parent: QWidget | None = None):
        super().__init__("Reward", parent)
        self.session = session
        self.choices: dict[str, Any] | None = None
        self._pending = {key: RUN_KEYS[key][0] for key in KEYS}  # until the lists arrive
        self.rule_checks: dict[str, QCheckBox] = {}
        self.split = QComboBox(toolTip=RUN_KEYS["prompt_split"][1])
        self.rules = QWidget(toolTip=RUN_KEYS["reward_rules"][1])
        self.rules_layout = QVBoxLayout(self.rules)
        self.rules_layout.setContentsMargins(0, 0, 0, 0)
        self.reward_model = QComboBox(toolTip=RUN_KEYS["reward_model"][1])
        for combo in (self.split, self.reward_model):  # long labels must not widen the form
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            combo.setMinimumContentsLength(12)
        self.reward_model_weight = self._weight("reward_model_weight")
        self.judge = QComboBox(toolTip=RUN_KEYS["judge"][1])
        self.judge_weight = self._weight("judge_weight")
        about = QLabel(
            "A completion's reward is the weighted sum of the ticked rules, the reward "
            "model's score and the judge's score. Enabled rules left unticked are "
            "still charted, not rewarded.",
            wordWrap=True,
        )
        about.setProperty("muted", True)
        form = QFormLayout(self)
        form.addRow(about)
        form.addRow("Prompts", self.split)
        form.addRow("Rules", self.rules)
        # A weight on a row of its own: beside its picker the box is wider than the form.
        form.addRow("Reward model", self.reward_model)
        form.addRow("Model weight", self.reward_model_weight)
        form.addRow("Judge", self.judge)
        form.addRow("Judge weight", self.judge_weight)
        for combo in (self.split, self.reward_model, self.judge):
            combo.currentIndexChanged.connect(self._changed)
        self.refresh()

    def _weight(self, key: str):
        editor = make_editor(ParamInfo(key, "float", RUN_KEYS[key][0], RUN_KEYS[key][1]))
        editor.changed.connect(self.changed)
        return editor

    def refresh(self) -> None:
        """Read the rules, reward models and judges again (they change in other views)."""
        self.session.runner.call(reward_choices, on_done=self._fill)

    def _fill(self, choices: dict[str, Any]) -> None:
        wanted = self.values()
        self.choices = choices
        for combo in (self.split, self.reward_model, self.judge):
            combo.blockSignals(True)
            combo.clear()
        for split, count in choices["splits"].items():
            self.split.addItem(f"{split} ({count} prompts)", split)
        self.reward_model.addItem(NONE, None)
        for checkpoint_id, label in choices["reward_models"]:
            self.reward_model.addItem(label, checkpoint_id)
        self.judge.addItem(NONE, None)
        for name in choices["judges"]:
            self.judge.addItem(name, name)
        self._build_rules()
        self._apply(wanted)
        for combo in (self.split, self.reward_model, self.judge):
            combo.blockSignals(False)
        self._changed()

    def _build_rules(self) -> None:
        while self.rules_layout.count():
            self.rules_layout.takeAt(0).widget().deleteLater()
        self.rule_checks = {}
        for name, enabled in self.choices["rules"]:
            self._add_rule(
                name,
                "Enabled in the Rules view."
                if enabled
                else "Disabled in the Rules view: enable it there to reward with it.",
                None if enabled else f"{name} (disabled)",
            )
        if not self.choices["rules"]:
            none = QLabel("No rules yet: add one in the Rules view.")
            none.setProperty("muted", True)
            self.rules_layout.addWidget(none)

    def _add_rule(self, name: str, tip: str, text: str | None = None) -> None:
        box = QCheckBox(text or name, toolTip=tip)
        box.toggled.connect(self._changed)
        self.rule_checks[name] = box
        self.rules_layout.addWidget(box)

    def _enabled(self) -> list[str]:
        return [name for name, on in (self.choices or {}).get("rules", []) if on]

    def _apply(self, config: dict[str, Any]) -> None:
        select(self.split, config["prompt_split"], f"{config['prompt_split']} (0 prompts)")
        wanted = ticked_rules(config["reward_rules"], self._enabled())
        for name in wanted:
            if name not in self.rule_checks:
                self._add_rule(
                    name,
                    "reward_rules names it, but the project has no such rule.",
                    f"{name} (not in the project)",
                )
        for name, box in self.rule_checks.items():
            box.blockSignals(True)
            box.setChecked(name in wanted)
            box.blockSignals(False)
        select(self.reward_model, config["reward_model"], f"Checkpoint {config['reward_model']}")
        select(self.judge, config["judge"], str(config["judge"]))
        self.reward_model_weight.set_value(config["reward_model_weight"])
        self.judge_weight.set_value(config["judge_weight"])

    def values(self) -> dict[str, Any]:
        if self.choices is None:
            return dict(self._pending)
        ticked = [name for name, box in self.rule_checks.items() if box.isChecked()]
        return {
            "prompt_split": self.split.currentData() or "train",
            "reward_rules": rules_value(ticked, self._enabled()),
            "reward_model": self.reward_model.currentData(),
            "reward_model_weight": self.reward_model_weight.value(),
            "judge": self.judge.currentData(),
            "judge_weight": self.judge_weight.value(),
        }

    def set_values(self, config: dict[str, Any]) -> None:
        """Show the config's reward keys (the defaults for those it lacks)."""
        wanted = {key: config.get(key, RUN_KEYS[key][0]) for key in KEYS}
        if self.choices is None:
            self._pending = wanted
            return
        for combo in (self.split, self.reward_model, self.judge):
            combo.blockSignals(True)
        self._apply(wanted)
        for combo in (self.split, self.reward_model, self.judge):
            combo.blockSignals(False)
        self._changed()

    def prompt_counts(self) -> dict[str, Any] | None:
        """{"split", "train", "eval", "longest"}: what the run samples and evaluates on, as
        workbench.training.data.build_prompt_data splits it (no eval prompts when the split
        sampled is "eval"); None until the lists arrive."""
        if self.choices is None:
            return None
        split = self.split.currentData() or "train"
        splits = self.choices["splits"]
        return {
            "split": split,
            "train": splits.get(split, 0),
            "eval": splits.get("eval", 0) if split != "eval" else 0,
            "longest": self.choices["longest_prompt"].get(split, 0),
        }

    def problem(self) -> str | None:
        """Why the ticked rules cannot reward a run (the run would stop at its start)."""
        if self.choices is None:
            return None
        known = [name for name, _ in self.choices["rules"]]
        ticked = [name for name, box in self.rule_checks.items() if box.isChecked()]
        missing = [name for name in ticked if name not in known]
        if missing:
            return f"The project has no rule named {', '.join(missing)}: untick it."
        disabled = [name for name in ticked if name not in self._enabled()]
        if disabled:
            return (
                f"The rule {', '.join(disabled)} is disabled: enable it in the Rules view, "
                "or untick it."
            )
        return None

    @Slot()
    def _changed(self) -> None:
        enabled = self._enabled()
        for name, box in self.rule_checks.items():  # a disabled rule only to untick
            box.setEnabled(name in enabled or box.isChecked())
        self.reward_model_weight.setEnabled(self.reward_model.currentData() is not None)
        self.judge_weight.setEnabled(self.judge.currentData() is not None)
        self.changed.emit()
