"""The detail pane under the grid: the selected prompt, and for a selected cell the
entrant's full answers with their rule marks, reward and length, each diffed word by word
against the baseline's answer to the same prompt (and seed)."""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtWidgets import QTextBrowser, QWidget

from ui.style import MUTED
from ui.views.compare.cells import DELETED, INSERTED, marks, number, word_diff_html

EMPTY = "Select a cell to read its full answer and its difference from the baseline."
VERDICT_COLORS = {"improved": "#1c7c3c", "regressed": "#b3261e", "all-fail": MUTED}


def _paragraph(text: str) -> str:
    return html.escape(text).replace("\n", "<br>")


def _answer_html(answer: dict, rules: list[str], baseline: dict | None) -> str:
    head = (
        f"<b>seed {answer['seed']}</b> &nbsp; {html.escape(marks([answer], rules))} &nbsp; "
        f"reward {number(answer['reward'])} &nbsp; {answer['num_tokens'] or '–'} tok"
    )
    parts = [f"<p>{head}</p>", f"<p>{_paragraph(answer['text'])}</p>"]
    if baseline is not None:
        parts.append(
            f'<p style="color: {MUTED};">Against the baseline (<span style="{INSERTED}">'
            f'added</span>, <span style="{DELETED}">dropped</span>):</p>'
        )
        parts.append(f"<p>{word_diff_html(baseline['text'], answer['text'])}</p>")
    return "".join(parts)


def detail_html(row: dict[str, Any], position: int | None, rules: list[str]) -> str:
    """The prompt; with `position` (an entrant's index, 0 the baseline) that cell too."""
    parts = [
        f"<p><b>Prompt #{row['prompt_id']}</b><br>{_paragraph(row['prompt'])}</p>",
        f'<p style="color: {MUTED};">Reference: {_paragraph(str(row["reference"]))}</p>',
    ]
    if position is None:
        return "".join(parts)
    cell = row["entrants"][position]
    verdict = cell["verdict"]
    tail = (
        f' — <span style="color: {VERDICT_COLORS.get(verdict, "#1d2127")};">{verdict}</span>'
        if verdict
        else (" (the baseline)" if position == 0 else "")
    )
    parts.append(f"<h3>{html.escape(cell['label'])}{tail}</h3>")
    if not cell["answers"]:
        parts.append("<p>No answer yet: the comparison was stopped before this one.</p>")
    baseline = {a["seed"]: a for a in row["entrants"][0]["answers"]}
    for answer in cell["answers"]:
        parts.append(
            _answer_html(answer, rules, baseline.get(answer["seed"]) if position else None)
        )
    return "".join(parts)


class DetailPane(QTextBrowser):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setOpenLinks(False)
        self.clear_detail()

    def clear_detail(self) -> None:
        self.setHtml(f'<p style="color: {MUTED};">{EMPTY}</p>')

    def show_cell(self, row: dict[str, Any], position: int | None, rules: list[str]) -> None:
        self.setHtml(detail_html(row, position, rules))
