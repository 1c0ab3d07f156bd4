"""One completion of the pair under review: which side it was shown on, its text, and
who picked it (the judge, with how sure it was; a person; a rule)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QLabel, QPlainTextEdit, QVBoxLayout, QWidget

from ui.style import MUTED, OK

PANE_STYLE = """
QFrame#reviewPane { background: white; border: 1px solid #dfe2e8; border-radius: 8px; }
QFrame#reviewPane[picked="true"] { border: 2px solid #1c7c3c; }
QFrame#reviewPane QPlainTextEdit { border: none; font-size: 13pt; background: white; }
QLabel#paneTitle { font-weight: 600; }
"""


class ReviewPane(QFrame):
    def __init__(self, title: str, parent: QWidget | None = None):
        super().__init__(parent, objectName="reviewPane")
        self.setStyleSheet(PANE_STYLE)
        self.title = QLabel(title, objectName="paneTitle")
        self.text = QPlainTextEdit(readOnly=True)
        self.text.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys review, never move a caret
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.picks = QLabel("")
        self.picks.setTextFormat(Qt.TextFormat.PlainText)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 8)
        layout.addWidget(self.title)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.picks)

    def show_completion(self, text: str, picks: list[str], judge_picked: bool) -> None:
        self.text.setPlainText(text if text.strip() else "(empty completion)")
        self.picks.setText(" · ".join(picks))
        self.picks.setStyleSheet(f"color: {OK if judge_picked else MUTED};")
        self.setProperty("picked", judge_picked)
        self.style().unpolish(self)
        self.style().polish(self)
