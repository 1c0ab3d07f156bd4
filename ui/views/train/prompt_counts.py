"""The prompts an online run samples from and evaluates on, counted for the split chosen."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QFormLayout, QGroupBox, QLabel, QVBoxLayout, QWidget

from ui.style import BAD, MUTED, WARN, say
from workbench.training.launch_warnings import launch_warnings


class PromptCounts(QGroupBox):
    def __init__(self, parent: QWidget | None = None):
        super().__init__("Prompts", parent)
        self.train = QLabel("–", wordWrap=True)
        self.eval = QLabel("–", wordWrap=True)
        self.note = QLabel(wordWrap=True)
        self.warnings = QLabel(wordWrap=True)
        self.warnings.setStyleSheet(f"color: {WARN};")
        self.warnings.hide()
        form = QFormLayout()
        form.addRow("Train prompts", self.train)
        form.addRow("Eval prompts", self.eval)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.note)
        layout.addWidget(self.warnings)

    def show_counts(
        self, counts: dict[str, Any] | None, eval_prompts: Any, run: dict[str, Any] | None = None
    ) -> None:
        """`counts` from RewardSelection.prompt_counts; `eval_prompts` the setting (0: all);
        `run` the run's settings, for the warnings about data too small for them."""
        if counts is None:
            return
        self.train.setText(f"{counts['train']} (split “{counts['split']}”)")
        answered = counts["eval"]
        if isinstance(eval_prompts, int) and 0 < eval_prompts < answered:
            answered = eval_prompts
        self.eval.setText(
            f"{counts['eval']} (split “eval”; {answered} answered greedily at each evaluation)"
            if counts["eval"]
            else "0"
        )
        found = launch_warnings(run, counts["train"], answered, unit="prompts") if run else []
        self.warnings.setText("\n".join(f"⚠ {w}" for w in found))
        self.warnings.setVisible(bool(found))
        if not counts["train"]:
            self._say(
                f"The split “{counts['split']}” has no prompts: import some in the Data "
                "view, or choose another split.",
                BAD,
            )
        else:
            self._say(
                "Prompts longer than max_length minus max_completion_length are left out "
                "and counted when the run starts (in its log).",
                MUTED,
            )

    def _say(self, text: str, color: str) -> None:
        say(self.note, text, color)
