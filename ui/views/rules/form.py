"""The form of one rule, generated from its kind's `PARAMS`: an editor per parameter with
its help as tooltip and as a grey caption, plus name, weight, gate and enabled.

Every edit restarts a short timer; when it fires the draft is checked with the engine's
own validation (`make_rule`), the error is shown in red under the field it names, and
`checked` tells the view whether the draft is valid (Save) and what it is (preview)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from engine.rules import RuleParamError, RuleSpec, make_rule, rule_class, validate_spec
from ui.style import BAD, set_muted
from ui.views.common.param_editors import (
    FloatSpin,
    ParamEditor,
    TextEditor,
    make_editor,
    param_label,
)

VALIDATE_DEBOUNCE_MS = 250
ERROR_MARK = "✗ "
WEIGHT_LIMIT = 1000.0
HEADER_HELP = {
    "name": "Unique in the project; the key of this rule's score in rewards and charts.",
    "weight": "The factor of this rule's score (0 to 1) in the total reward. Negative: a penalty.",
    "enabled": "Disabled rules stay in the project but are neither scored nor used as reward.",
    "gate": "When this rule fails, the other (non-gate) rules count nothing: e.g. a format "
    "that must hold before correctness counts.",
}


def caption(text: str) -> QLabel:
    label = QLabel(text, wordWrap=True)
    set_muted(label)
    font = label.font()
    font.setPointSizeF(max(font.pointSizeF() - 1, 7.5))
    label.setFont(font)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def error_label() -> QLabel:
    label = QLabel(wordWrap=True)
    label.setStyleSheet(f"color: {BAD};")
    label.hide()
    return label


class RuleForm(QWidget):
    """`load(spec)` shows a rule; `checked(valid, spec)` follows each (debounced) edit."""

    checked = Signal(bool, object)  # valid, RuleSpec (validated) or None
    edited = Signal()  # immediately, on every change

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.kind = ""
        self.editors: dict[str, ParamEditor] = {}
        self.errors: dict[str, QLabel] = {}
        self.taken_names: set[str] = set()
        self.valid = False
        self.spec: RuleSpec | None = None  # the last valid draft
        self._baseline: dict[str, Any] = {}
        self._timer = QTimer(self, singleShot=True, interval=VALIDATE_DEBOUNCE_MS)
        self._timer.timeout.connect(self.validate)

        self.title = QLabel(objectName="ruleKindTitle")
        font = self.title.font()
        font.setWeight(QFont.Weight.DemiBold)
        font.setPointSizeF(font.pointSizeF() + 1.5)
        self.title.setFont(font)
        self.description = caption("")
        self.name = QLineEdit(objectName="ruleName")
        self.weight = FloatSpin()
        self.weight.setRange(-WEIGHT_LIMIT, WEIGHT_LIMIT)
        self.weight.setSingleStep(0.1)
        self.weight.setMinimumWidth(120)
        self.enabled = QCheckBox("Enabled")
        self.gate = QCheckBox("Gate")
        self.general_error = error_label()
        self.params_box = QWidget()
        self.params_grid = self._grid(self.params_box)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 0, 8, 0)
        layout.setSpacing(4)
        layout.addWidget(self.title)
        layout.addWidget(self.description)
        layout.addSpacing(6)
        layout.addWidget(self._header_fields())
        layout.addWidget(self._rule_line())
        layout.addWidget(self.params_box)
        layout.addWidget(self.general_error)
        layout.addStretch(1)
        for signal in (
            self.name.textChanged,
            self.weight.valueChanged,
            self.enabled.toggled,
            self.gate.toggled,
        ):
            signal.connect(self._on_edit)

    @staticmethod
    def _grid(widget: QWidget) -> QGridLayout:
        grid = QGridLayout(widget)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(2)
        grid.setColumnStretch(1, 1)
        return grid

    def _header_fields(self) -> QWidget:
        box = QWidget()
        grid = self._grid(box)
        self.errors = {}
        weight = QWidget()
        row = QHBoxLayout(weight)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.weight)
        row.addStretch(1)
        rows = (
            ("name", "Name", self.name),
            ("weight", "Weight", weight),
            ("enabled", "", self.enabled),
            ("gate", "", self.gate),
        )
        for i, (key, label, widget) in enumerate(rows):
            self._add_field(grid, i, key, label, widget, HEADER_HELP[key])
        return box

    @staticmethod
    def _rule_line() -> QWidget:
        title = QLabel("Parameters")
        font = title.font()
        font.setWeight(QFont.Weight.DemiBold)
        title.setFont(font)
        line = QFrame(frameShape=QFrame.Shape.HLine)
        line.setStyleSheet("color: #e3e6eb;")
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 10, 0, 2)
        layout.setSpacing(4)
        layout.addWidget(line)
        layout.addWidget(title)
        return box

    def _add_field(
        self, grid: QGridLayout, i: int, key: str, label: str, widget: QWidget, help_text: str
    ) -> None:
        """Three grid rows per field: label + editor, its error (hidden), its caption."""
        row = i * 3
        name = QLabel(label)
        if isinstance(widget, TextEditor):  # several lines: the label sits at the top
            name.setContentsMargins(0, 5, 0, 0)
            align = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop
        else:
            align = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        grid.addWidget(name, row, 0, align)
        grid.addWidget(widget, row, 1)
        widget.setToolTip(help_text)
        self.errors[key] = error_label()
        grid.addWidget(self.errors[key], row + 1, 1)
        help_label = caption(help_text)
        help_label.setContentsMargins(0, 0, 0, 6)
        grid.addWidget(help_label, row + 2, 1)

    # Loading -------------------------------------------------------------------------
    def load(self, spec: RuleSpec, taken_names: set[str]) -> None:
        """Show `spec` (a stored rule or a new draft); its values become the baseline."""
        cls = rule_class(spec.kind)
        self.taken_names = set(taken_names)
        if spec.kind != self.kind:
            self._build_params(cls)
        self.kind = spec.kind
        self.title.setText(cls.title)
        self.description.setText(cls.description)
        self.blockSignals(True)
        self.name.setText(spec.name)
        self.weight.setValue(spec.weight)
        self.enabled.setChecked(spec.enabled)
        self.gate.setChecked(spec.gate)
        values = {**cls.defaults(), **spec.params}
        for name, editor in self.editors.items():
            editor.set_value(values.get(name))
        self.blockSignals(False)
        self._baseline = self.raw()
        self.validate()

    def _build_params(self, cls) -> None:
        while self.params_grid.count():
            item = self.params_grid.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self.errors = {k: v for k, v in self.errors.items() if k in HEADER_HELP}
        self.editors = {}
        for i, info in enumerate(cls.PARAMS):
            editor = make_editor(info)
            editor.changed.connect(self._on_edit)
            self.editors[info.name] = editor
            label = "" if info.type == "bool" else param_label(info.name)
            self._add_field(self.params_grid, i, info.name, label, editor, info.help)

    # Editing -------------------------------------------------------------------------
    def raw(self) -> dict[str, Any]:
        return {
            "name": self.name.text(),
            "weight": self.weight.value(),
            "enabled": self.enabled.isChecked(),
            "gate": self.gate.isChecked(),
            **{f"param:{n}": e.raw() for n, e in self.editors.items()},
        }

    def dirty(self) -> bool:
        return bool(self.kind) and self.raw() != self._baseline

    def mark_saved(self, raw: dict[str, Any] | None = None) -> None:
        """`raw` (the content when the save started) is now what is stored."""
        self._baseline = dict(raw) if raw is not None else self.raw()

    def set_saved_enabled(self, enabled: bool) -> None:
        """The enabled flag was stored from the rule list: it is no longer an edit."""
        self.enabled.setChecked(enabled)
        self._baseline["enabled"] = enabled

    @Slot()
    def _on_edit(self) -> None:
        if self.signalsBlocked():
            return
        self.edited.emit()
        self._timer.start()

    # Validation ----------------------------------------------------------------------
    def collect(self) -> RuleSpec:
        """The draft as a spec; RuleParamError for a field that holds no value."""
        params = {name: editor.value() for name, editor in self.editors.items()}
        return RuleSpec(
            name=self.name.text().strip(),
            kind=self.kind,
            params=params,
            weight=self.weight.value(),
            enabled=self.enabled.isChecked(),
            gate=self.gate.isChecked(),
        )

    def check(self) -> RuleSpec:
        """The validated draft (defaults filled in), or RuleParamError / ValueError."""
        spec = self.collect()
        if not spec.name:
            raise RuleParamError("name", "every rule needs a name")
        if spec.name in self.taken_names:
            raise RuleParamError("name", "another rule has this name; names must be unique")
        make_rule(spec)  # the kind's own checks, e.g. that a pattern compiles
        return validate_spec(spec)

    @Slot()
    def validate(self) -> bool:
        self._timer.stop()
        if not self.kind:
            return False
        for label in self.errors.values():
            label.hide()
        self.general_error.hide()
        try:
            spec = self.check()
        except RuleParamError as error:
            self._show_error(error.param, error.why)
            spec = None
        except ValueError as error:
            self._show_error("", str(error))
            spec = None
        self.valid = spec is not None
        if spec is not None:
            self.spec = spec
        self.checked.emit(self.valid, spec)
        return self.valid

    def _show_error(self, param: str, why: str) -> None:
        label = self.errors.get(param)
        if label is None:
            label, why = self.general_error, (f"{param_label(param)}: {why}" if param else why)
        label.setText(ERROR_MARK + why)
        label.show()

    def error_widget(self) -> QLabel | None:
        labels = [*self.errors.values(), self.general_error]
        return next((label for label in labels if not label.isHidden()), None)

    def error_text(self) -> str:
        """The error shown, with the field it is about."""
        label = self.error_widget()
        if label is None:
            return ""
        key = next((k for k, v in self.errors.items() if v is label), "")
        why = label.text().removeprefix(ERROR_MARK)
        return f"{ERROR_MARK}{param_label(key)}: {why}" if key else label.text()

    def focus_error(self) -> None:
        for key, label in self.errors.items():
            if not label.isHidden():
                widget = self.editors.get(key) or {"name": self.name, "weight": self.weight}.get(
                    key
                )
                if widget is not None:
                    widget.setFocus()
                return
