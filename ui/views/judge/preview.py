"""The judge prompt exactly as rendered for a real pair of the project, in both orders the
judge is asked (the pair as stored, then swapped), so a template's effect is seen before
anything runs."""

from __future__ import annotations

from PySide6.QtWidgets import QGridLayout, QLabel, QPlainTextEdit, QWidget

from engine.errors import EngineError
from engine.judge.templates import render_pair
from ui.style import set_muted
from ui.views.judge.template import mono_editor
from workbench.judging.setup import PreviewPair

NO_PAIR = (
    "The project has no prompt with two different completions yet, so there is "
    "nothing to preview. Generate candidates (here with Generate first, or in the "
    "Label view)."
)
LOCAL_NOTE = (
    "A local judge model reads this as the user turn of its chat template; the "
    "verdict is its probability of answering A rather than B."
)


class JudgePreview(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.pair: PreviewPair | None = None
        self.orders: list[QPlainTextEdit] = []
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        for column, title in enumerate(("Order 1: as stored", "Order 2: swapped")):
            editor = mono_editor(6)
            editor.setReadOnly(True)
            grid.addWidget(QLabel(title), 0, column)
            grid.addWidget(editor, 1, column)
            self.orders.append(editor)
        self.note = QLabel("", wordWrap=True)
        set_muted(self.note)
        grid.addWidget(self.note, 2, 0, 1, 2)
        grid.setRowStretch(1, 1)

    def set_pair(self, pair: PreviewPair | None) -> None:
        self.pair = pair

    def render(self, template: str, criteria: str, local: bool) -> None:
        texts = [NO_PAIR, ""]
        if self.pair is not None:
            p = self.pair
            try:
                texts = [
                    render_pair(template, p.prompt, p.first, p.second, criteria),
                    render_pair(template, p.prompt, p.second, p.first, criteria),
                ]
            except EngineError:  # the editor says why, next to the template
                texts = ["(fix the template to see the judge prompt)", ""]
        for editor, text in zip(self.orders, texts, strict=True):
            editor.setPlainText(text)
        self.note.setText(LOCAL_NOTE if local and self.pair is not None else "")
