"""The judge's prompt template and criteria, checked as they are typed.

"Default" is what the judge is asked with when it sets no template of its own: a local
judge model's judge.json, else the app's default. A run always uses the text shown here;
Save judge stores it only where it differs from that default.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from engine.errors import EngineError
from engine.judge.templates import DEFAULT_CRITERIA, DEFAULT_PAIR_TEMPLATE, check_template
from ui.style import BAD, OK, set_muted

PLACEHOLDERS = (
    "Placeholders: {prompt} the request · {first} the response shown as A · "
    "{second} the one shown as B · {criteria} the criteria below. Write {{ and }} "
    "for literal braces. Each pair is asked in both orders, so position bias cancels."
)


def mono_editor(lines: int) -> QPlainTextEdit:
    editor = QPlainTextEdit()
    editor.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
    editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
    editor.setMinimumHeight(editor.fontMetrics().lineSpacing() * lines + 12)
    return editor


class TemplateEditor(QWidget):
    changed = Signal()  # after a short pause in typing

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.base = (DEFAULT_PAIR_TEMPLATE, DEFAULT_CRITERIA)
        self.error: str | None = None
        self.template = mono_editor(8)
        self.criteria = mono_editor(3)
        self.criteria.setToolTip("What makes a response better; inserted at {criteria}")
        self.help = QLabel(PLACEHOLDERS, wordWrap=True)
        set_muted(self.help)
        self.check = QLabel("", wordWrap=True)
        self.check.setTextFormat(Qt.TextFormat.PlainText)
        self.reset_button = QPushButton("Reset to default")
        self.reset_button.setToolTip(
            "The template and criteria the judge uses when it sets "
            "none: a judge model's own judge.json, else the app's"
        )
        self.reset_button.clicked.connect(self.reset)
        self._timer = QTimer(self, singleShot=True, interval=200)
        self._timer.timeout.connect(self._validate)
        for editor in (self.template, self.criteria):
            editor.textChanged.connect(self._timer.start)
        row = QHBoxLayout()
        row.addWidget(self.check, 1)
        row.addWidget(self.reset_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("Template"))
        layout.addWidget(self.template, 3)
        layout.addWidget(self.help)
        layout.addWidget(QLabel("Criteria"))
        layout.addWidget(self.criteria, 1)
        layout.addLayout(row)
        self._validate()

    def set_texts(self, template: str | None, criteria: str | None, base: tuple[str, str]) -> None:
        """Show a judge's own ``template``/``criteria`` (None: the ``base`` ones)."""
        self.base = base
        self.template.setPlainText(base[0] if template is None else template)
        self.criteria.setPlainText(base[1] if criteria is None else criteria)
        self._validate()

    @Slot()
    def reset(self) -> None:
        self.set_texts(None, None, self.base)

    def values(self) -> tuple[str, str]:
        return self.template.toPlainText(), self.criteria.toPlainText()

    def stored_values(self) -> tuple[str | None, str | None]:
        """What Save judge stores: None where the text is the default."""
        template, criteria = self.values()
        return (
            None if template == self.base[0] else template,
            None if criteria == self.base[1] else criteria,
        )

    @Slot()
    def _validate(self) -> None:
        self._timer.stop()
        try:
            check_template(self.template.toPlainText(), "pairwise")
        except EngineError as error:
            self.error = error.user_message
            self.check.setText(self.error)
            self.check.setStyleSheet(f"color: {BAD};")
        else:
            self.error = None
            same = self.values() == self.base
            self.check.setText("The template is valid" + (" (the default)." if same else "."))
            self.check.setStyleSheet(f"color: {OK};")
        self.changed.emit()
