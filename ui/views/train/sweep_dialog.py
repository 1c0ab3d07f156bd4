"""The Train view's sweep dialog: a grid over one or two of the form's settings (beta x
learning rate, or seeds), each with its values separated by commas, checked point by point
before anything is queued; the runs are queued as one sweep (workbench/training/sweeps.py)
and the Runs view's Sweeps tab shows them."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from ui.style import BAD, set_muted
from workbench.training.sweeps import parse_grid, plan_points

NONE = "(none)"
# What a first sweep usually varies, offered first when the algorithm reads it.
FIRST_CHOICES = ("beta", "learning_rate", "seed", "max_steps")


def sweepable(config: dict[str, Any]) -> list[str]:
    """The config's number settings, the usual ones first."""
    numbers = [
        k for k, v in config.items() if isinstance(v, int | float) and not isinstance(v, bool)
    ]
    if "beta" not in numbers and "beta" in config:
        numbers.append("beta")  # empty: the method's default, still worth sweeping
    first = [k for k in FIRST_CHOICES if k in numbers]
    return first + sorted(k for k in numbers if k not in first)


class SweepDialog(QDialog):
    """``grid()`` after ``exec()`` returns Accepted: {setting: [values]}."""

    def __init__(self, config: dict[str, Any], parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Sweep")
        self.config = config
        self._grid: dict[str, list[Any]] = {}
        names = sweepable(config)
        self.settings: list[QComboBox] = []
        self.values: list[QLineEdit] = []
        form = QFormLayout()
        for i, default in enumerate(names[:2]):
            combo = QComboBox(objectName=f"sweepSetting{i}")
            if i:
                combo.addItem(NONE)
            combo.addItems(names)
            combo.setCurrentText(default if not i else NONE)
            edit = QLineEdit(objectName=f"sweepValues{i}")
            edit.setPlaceholderText("values, e.g. 0.1, 0.5, 1.0")
            self.settings.append(combo)
            self.values.append(edit)
            form.addRow(combo, edit)
        about = QLabel(
            "Each combination of the values is queued as an ordinary run with the form's "
            "other settings; the Runs view's Sweeps tab compares their final pass rates.",
            wordWrap=True,
        )
        set_muted(about)
        self.problem = QLabel(objectName="sweepProblem", wordWrap=True)
        self.problem.setStyleSheet(f"color: {BAD};")
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Queue runs")
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(about)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)

    def items(self) -> list[str]:
        return [
            f"{combo.currentText()}={edit.text()}"
            for combo, edit in zip(self.settings, self.values, strict=True)
            if combo.currentText() != NONE and edit.text().strip()
        ]

    def _accept(self) -> None:
        try:
            grid = parse_grid(self.items())
            points = plan_points(self.config, grid, {})
        except ValueError as error:  # SettingsError is one
            self.problem.setText(str(error))
            return
        self._grid = grid
        self.problem.setText(f"{len(points)} runs")
        self.accept()

    def grid(self) -> dict[str, list[Any]]:
        return self._grid
