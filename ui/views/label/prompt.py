"""The prompt above the completions: its text, or a chat as a transcript, with the
reference answer when the prompt has one."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QFrame, QTextBrowser, QWidget

from ui.style import MUTED
from workbench.labels.queue import Task

ROLE_COLOURS = {"system": "#fff6e0", "user": "#eaf1fd", "assistant": "#f1f4f8"}
MAX_HEIGHT = 200


def prompt_html(task: Task) -> str:
    # A re-shown pair is deliberately not marked: knowing it, a rater would answer from memory.
    head = f"Prompt {task.prompt_id} · {html.escape(task.split)}"
    parts = [f"<p style='color:{MUTED}; font-size:10pt; margin:0 0 4px 0'>{head}</p>"]
    if task.messages:
        for message in task.messages:
            role = str(message.get("role", "?"))
            colour = ROLE_COLOURS.get(role, "#f1f4f8")
            parts.append(
                f"<table width='100%' cellspacing='0' cellpadding='6' bgcolor='{colour}' "
                "style='margin-bottom:4px'><tr><td>"
                f"<span style='color:{MUTED}; font-size:small'>{html.escape(role.title())}</span>"
                f"<div style='white-space:pre-wrap'>{html.escape(str(message.get('content', '')))}"
                "</div></td></tr></table>"
            )
    else:
        parts.append(
            f"<div style='white-space:pre-wrap; font-weight:600'>"
            f"{html.escape(task.text or '')}</div>"
        )
    if task.reference:
        parts.append(
            f"<p style='color:{MUTED}; font-size:11pt; margin:6px 0 0 0'>Reference: "
            f"{html.escape(task.reference)}</p>"
        )
    return "".join(parts)


class PromptPane(QTextBrowser):
    """Read-only, never focused (arrow keys label, they do not scroll), as tall as its
    text up to a limit."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent, objectName="labelPrompt")
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setFrameShape(QFrame.Shape.NoFrame)
        font = self.font()
        font.setPointSize(13)
        self.setFont(font)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.document().documentLayout().documentSizeChanged.connect(self._fit)
        self.setMaximumHeight(MAX_HEIGHT)

    def show_task(self, task: Task) -> None:
        self.setHtml(prompt_html(task))
        # A long chat opens at its end: the last turn is the one the completions answer.
        QTimer.singleShot(0, self._to_end)

    def _to_end(self) -> None:
        self.verticalScrollBar().setValue(self.verticalScrollBar().maximum())

    def _fit(self, size) -> None:
        self.setFixedHeight(min(MAX_HEIGHT, int(size.height()) + 8))
