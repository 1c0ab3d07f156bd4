"""One completion in the Label view: a title that says its key, the text in a large font,
and how it ended (length in tokens, stopped by the model or cut)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from ui.style import MUTED
from workbench.labels.queue import Shown

TEXT_POINTS = 14  # the size PANE_STYLE gives the text
MIN_LINES = 2
FINISH = {"stop": "ended by the model", "length": "cut at max new tokens"}
PANE_STYLE = """
QFrame#completionPane { background: white; border: 1px solid #dfe2e8; border-radius: 8px; }
QFrame#completionPane QPlainTextEdit { border: none; font-size: 14pt; background: white; }
QLabel#paneTitle { font-weight: 600; font-size: 11pt; }
"""


def text_height(lines: int) -> int:
    """The height of `lines` lines of the pane's text (its 14pt font) and the editor's margins."""
    font = QFont(QApplication.font())
    font.setPointSize(TEXT_POINTS)
    return lines * QFontMetrics(font).lineSpacing() + 12


def finish_text(shown: Shown) -> str:
    tokens = f"{shown.num_tokens} tokens" if shown.num_tokens is not None else "imported"
    finish = FINISH.get(shown.finish_reason or "", "")
    return f"{tokens} · {finish}" if finish else tokens


class CompletionPane(QFrame):
    def __init__(self, title: str, parent: QWidget | None = None):
        super().__init__(parent, objectName="completionPane")
        self.setStyleSheet(PANE_STYLE)
        self.title = QLabel(title, objectName="paneTitle")
        self.text = QPlainTextEdit(readOnly=True)
        # Never focused: arrow keys and Space label instead of moving a caret.
        self.text.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # A few lines however short the window (at 1280x720 the Arena's panes showed none).
        self.text.setMinimumHeight(text_height(MIN_LINES))
        self.meta = QLabel("")
        self.meta.setStyleSheet(f"color: {MUTED};")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 8)
        layout.addWidget(self.title)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.meta)

    def show_completion(self, shown: Shown) -> None:
        self.text.setPlainText(shown.text if shown.text.strip() else "(empty completion)")
        self.meta.setText(finish_text(shown))
