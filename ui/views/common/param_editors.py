"""One editor widget per parameter type (`engine.rules.ParamInfo.type`), for a rule's
parameters in the Rules view and a run's settings in the Train view: how it shows a
value, reads it back, and says when its content changed."""

from __future__ import annotations

import json
import math
from typing import Any

from PySide6.QtCore import Signal, Slot
from PySide6.QtGui import QFontDatabase, QValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from engine.rules import ParamInfo, RuleParamError

INT_LIMIT = 2_000_000_000  # QSpinBox holds a C int
FLOAT_LIMIT = 1e12
NOT_SET = "not set"
WORDS = {
    "s": "(s)",
    "mb": "(MB)",
    "rel": "relative",
    "abs": "absolute",
    "tol": "tolerance",
    "min": "minimum",
    "max": "maximum",
}


def param_label(name: str) -> str:
    """'timeout_s' -> 'Timeout (s)', 'rel_tol' -> 'Relative tolerance'."""
    text = " ".join(WORDS.get(word, word) for word in name.split("_"))
    return text[:1].upper() + text[1:]


def monospace_font():
    return QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)


class FloatSpin(QDoubleSpinBox):
    """A float spin box that keeps tiny values (1e-9) and shows the shortest form of a
    number instead of a fixed count of decimals."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setDecimals(12)

    def textFromValue(self, value: float) -> str:
        return f"{value:.6g}"

    def valueFromText(self, text: str) -> float:
        try:
            return float(text)
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int):
        if text == self.specialValueText() and text:
            return QValidator.State.Acceptable, text, pos
        try:
            value = float(text)
        except ValueError:
            return QValidator.State.Intermediate, text, pos
        inside = self.minimum() <= value <= self.maximum()
        return (QValidator.State.Acceptable if inside else QValidator.State.Intermediate), text, pos


def float_step(default: Any) -> float:
    if isinstance(default, int | float) and default:
        return 10.0 ** math.floor(math.log10(abs(default)))
    return 0.1


def int_step(default: Any) -> int:
    if isinstance(default, int) and default:
        return 10 ** max(0, math.floor(math.log10(abs(default))) - 1)
    return 1


class ParamEditor(QWidget):
    """Base: `value()` is the parameter's value (or RuleParamError for content that is no
    value, e.g. broken JSON); `raw()` the widget's content, to tell an edit happened."""

    changed = Signal()

    def __init__(self, info: ParamInfo, parent: QWidget | None = None):
        super().__init__(parent)
        self.info = info
        self.layout_ = QHBoxLayout(self)
        self.layout_.setContentsMargins(0, 0, 0, 0)
        self.layout_.setSpacing(6)

    @property
    def optional(self) -> bool:
        return self.info.default is None

    def value(self) -> Any:
        raise NotImplementedError

    def set_value(self, value: Any) -> None:
        raise NotImplementedError

    def raw(self) -> Any:
        return self.value()

    @Slot()
    def _emit_changed(self) -> None:
        self.changed.emit()


class LineEditor(ParamEditor):
    """`str` and `path` (with Browse…)."""

    def __init__(self, info: ParamInfo, parent: QWidget | None = None):
        super().__init__(info, parent)
        self.edit = QLineEdit()
        if self.optional:
            self.edit.setPlaceholderText("optional")
        self.edit.textChanged.connect(self._emit_changed)
        self.layout_.addWidget(self.edit, 1)
        if info.type == "path":
            browse = QPushButton("Browse…")
            browse.clicked.connect(self._browse)
            self.layout_.addWidget(browse)

    def value(self) -> str | None:
        text = self.edit.text()
        return None if not text and self.optional else text

    def set_value(self, value: Any) -> None:
        self.edit.setText("" if value is None else str(value))

    def raw(self) -> str:
        return self.edit.text()

    @Slot()
    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            f"Choose {param_label(self.info.name)}",
            self.edit.text(),
            "Python files (*.py);;All (*)",
        )
        if path:
            self.edit.setText(path)


class NumberEditor(ParamEditor):
    """`int` and `float`: a spin box within the parameter's bounds; an optional number
    has a 'not set' step below its minimum."""

    def __init__(self, info: ParamInfo, parent: QWidget | None = None):
        super().__init__(info, parent)
        is_int = info.type == "int"
        self.spin = QSpinBox() if is_int else FloatSpin()
        limit = INT_LIMIT if is_int else FLOAT_LIMIT
        low = -limit if info.minimum is None else info.minimum
        high = limit if info.maximum is None else info.maximum
        step = int_step(info.default) if is_int else float_step(info.default)
        if self.optional:
            low -= step if not is_int else 1
            self.spin.setSpecialValueText(NOT_SET)
        self.spin.setRange(int(low) if is_int else low, int(high) if is_int else high)
        self.spin.setSingleStep(step)
        self.spin.setMinimumWidth(120)
        self.spin.valueChanged.connect(self._emit_changed)
        self.layout_.addWidget(self.spin)
        self.layout_.addStretch(1)

    def value(self) -> int | float | None:
        if self.optional and self.spin.value() == self.spin.minimum():
            return None
        return self.spin.value()

    def set_value(self, value: Any) -> None:
        self.spin.setValue(self.spin.minimum() if value is None else value)


class BoolEditor(ParamEditor):
    def __init__(self, info: ParamInfo, parent: QWidget | None = None):
        super().__init__(info, parent)
        self.check = QCheckBox(param_label(info.name))
        self.check.toggled.connect(self._emit_changed)
        self.layout_.addWidget(self.check)
        self.layout_.addStretch(1)

    def value(self) -> bool:
        return self.check.isChecked()

    def set_value(self, value: Any) -> None:
        self.check.setChecked(bool(value))


class ChoiceEditor(ParamEditor):
    def __init__(self, info: ParamInfo, parent: QWidget | None = None):
        super().__init__(info, parent)
        self.combo = QComboBox()
        self.combo.addItems(list(info.choices or ()))
        self.combo.currentIndexChanged.connect(self._emit_changed)
        self.layout_.addWidget(self.combo)
        self.layout_.addStretch(1)

    def value(self) -> str:
        return self.combo.currentText()

    def set_value(self, value: Any) -> None:
        if isinstance(value, bool):  # an older config's true/false for an auto|on|off switch
            value = "on" if value else "off"
        self.combo.setCurrentIndex(max(self.combo.findText(str(value)), 0))


class TextEditor(ParamEditor):
    """`text` (code, several lines) and `json` (any JSON value), in a monospace font."""

    def __init__(self, info: ParamInfo, parent: QWidget | None = None):
        super().__init__(info, parent)
        self.edit = QPlainTextEdit()
        self.edit.setFont(monospace_font())
        self.edit.setTabChangesFocus(info.type == "json")
        self.edit.setTabStopDistance(4 * self.edit.fontMetrics().horizontalAdvance(" "))
        lines = 7 if info.type == "text" else 3
        self.edit.setFixedHeight(self.edit.fontMetrics().lineSpacing() * lines + 14)
        if info.type == "json":
            self.edit.setPlaceholderText('JSON, e.g. ["first", "second"]')
        self.edit.textChanged.connect(self._emit_changed)
        self.layout_.addWidget(self.edit, 1)

    def value(self) -> Any:
        text = self.edit.toPlainText()
        if self.info.type == "text":
            return None if not text and self.optional else text
        if not text.strip():
            if self.optional:
                return None
            raise RuleParamError(self.info.name, "a JSON value is required")
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise RuleParamError(
                self.info.name,
                f"not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})",
            ) from None

    def set_value(self, value: Any) -> None:
        if self.info.type == "text":
            self.edit.setPlainText("" if value is None else str(value))
        else:
            text = "" if value is None else json.dumps(value, ensure_ascii=False)
            if len(text) > 60:
                text = json.dumps(value, ensure_ascii=False, indent=2)
            self.edit.setPlainText(text)

    def raw(self) -> str:
        return self.edit.toPlainText()


EDITORS: dict[str, type[ParamEditor]] = {
    "str": LineEditor,
    "path": LineEditor,
    "int": NumberEditor,
    "float": NumberEditor,
    "bool": BoolEditor,
    "choice": ChoiceEditor,
    "text": TextEditor,
    "json": TextEditor,
}


def make_editor(info: ParamInfo) -> ParamEditor:
    editor = EDITORS[info.type](info)
    editor.setToolTip(info.help)
    editor.set_value(info.default)
    return editor
