"""A table of completions × rules: each rule's score and reason (pass/fail tinted), the
total and whether a gate failed; the full text and reasons of a row as HTML."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from engine.rules import Item, RewardBatch
from ui.style import BAD, MUTED, OK
from ui.views.common.prompt_table import one_line

PASS_BG, FAIL_BG, PARTIAL_BG = QColor("#eaf6ee"), QColor("#fcedeb"), QColor("#fdf5e1")
ADHOC_MARK = "✎ "
FIXED = ("Completion", "Reference")
TAIL = ("Total", "Gate")
REFERENCE_W, TOTAL_W, GATE_W = 86, 54, 54
MIN_RULE_W, MAX_RULE_W, TEXT_SHARE = 96, 170, 1.5


def score_text(score: float, passed: bool, reason: str) -> str:
    return f"{'✓' if passed else '✗'} {score:.3g}  {reason}"


def score_background(score: float, passed: bool) -> QColor:
    if passed:
        return PASS_BG
    return PARTIAL_BG if score > 0 else FAIL_BG


class ScoreTable(QTableWidget):
    def __init__(self, parent=None):
        super().__init__(0, 0, parent)
        self.setObjectName("previewTable")
        self.verticalHeader().hide()
        self.verticalHeader().setDefaultSectionSize(26)
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        head = self.horizontalHeader()
        head.setHighlightSections(False)
        head.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        head.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.rules: list[str] = []

    def fill(self, items: list[Item], batch: RewardBatch, adhoc_rows: int) -> None:
        self.rules = list(batch.per_rule)
        selected = self.currentRow()
        self.clearContents()
        self.setColumnCount(len(FIXED) + len(self.rules) + len(TAIL))
        self.setHorizontalHeaderLabels([*FIXED, *self.rules, *TAIL])
        self.setRowCount(len(items))
        for row, item in enumerate(items):
            mark = ADHOC_MARK if row < adhoc_rows else ""
            completion = QTableWidgetItem(mark + one_line(item.completion))
            if mark:
                font = completion.font()
                font.setItalic(True)
                completion.setFont(font)
            reference = QTableWidgetItem(one_line(item.reference))
            for column, cell in enumerate((completion, reference)):
                cell.setToolTip(item_tooltip(item))
                self.setItem(row, column, cell)
            for offset, rule in enumerate(self.rules):
                self.setItem(row, len(FIXED) + offset, score_cell(batch, rule, row))
            self._tail(row, batch)
        self.size_columns()
        if 0 <= selected < len(items):
            self.selectRow(selected)

    def _tail(self, row: int, batch: RewardBatch) -> None:
        column = len(FIXED) + len(self.rules)
        total = QTableWidgetItem(f"{batch.total[row]:.3g}")
        font = total.font()
        font.setWeight(QFont.Weight.DemiBold)
        total.setFont(font)
        total.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        total.setToolTip("Σ weight × score (only the gate rules when a gate failed)")
        gated = batch.gated[row]
        gate = QTableWidgetItem("gated" if gated else "")
        gate.setForeground(QColor(BAD))
        gate.setToolTip("A gate rule failed: only the gate rules counted" if gated else "")
        self.setItem(row, column, total)
        self.setItem(row, column + 1, gate)

    def size_columns(self) -> None:
        if self.columnCount():
            share_columns(self, [0, REFERENCE_W], [TOTAL_W, GATE_W], len(self.rules))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.size_columns()


def share_columns(table: QTableWidget, head: list[int], tail: list[int], rules: int) -> None:
    """Column widths: `head` then one column per rule then `tail`. A 0 in `head` is the
    text column: it stretches, after the rule columns took their share of the width."""
    scrollbar = table.verticalScrollBar().sizeHint().width()  # may appear after filling
    free = table.width() - 2 * table.frameWidth() - scrollbar - sum(head) - sum(tail)
    rule_w = int(min(max(free / (TEXT_SHARE + rules), MIN_RULE_W), MAX_RULE_W))
    header = table.horizontalHeader()
    widths = [*head, *([rule_w] * rules), *tail]
    for column, width in enumerate(widths):
        mode = QHeaderView.ResizeMode.Stretch if width == 0 else QHeaderView.ResizeMode.Interactive
        header.setSectionResizeMode(column, mode)
        if width:
            table.setColumnWidth(column, width)


def score_cell(batch: RewardBatch, rule: str, row: int) -> QTableWidgetItem:
    score, passed = batch.per_rule[rule][row], batch.passed[rule][row]
    reason = batch.reasons[rule][row]
    cell = QTableWidgetItem(score_text(score, passed, reason))
    cell.setBackground(score_background(score, passed))
    cell.setForeground(QColor(OK if passed else BAD))
    verdict = "passed" if passed else "failed"
    cell.setToolTip(f"{rule}: score {score:.3g}, {verdict}\n{reason}")
    return cell


def item_tooltip(item: Item) -> str:
    parts = [f"Prompt:\n{item.prompt}"] if item.prompt else []
    parts.append(f"Completion:\n{item.completion}")
    if item.reference:
        parts.append(f"Reference: {item.reference}")
    return "\n\n".join(parts)[:3000]


def row_html(item: Item, batch: RewardBatch, row: int) -> str:
    """A row in full: prompt, completion, reference, then each rule's verdict."""

    def block(title: str, body: str) -> str:
        return (
            f"<p style='margin:0 0 2px 0'><b>{title}</b></p>"
            f"<pre style='white-space:pre-wrap; margin:0 0 8px 0'>{html.escape(body)}</pre>"
        )

    parts = [block("Prompt", item.prompt)] if item.prompt else []
    parts.append(block("Completion", item.completion))
    if item.reference:
        parts.append(block("Reference", item.reference))
    lines = []
    for rule in batch.per_rule:
        passed = batch.passed[rule][row]
        color = OK if passed else BAD
        lines.append(
            f"<span style='color:{color}'>{'✓' if passed else '✗'}</span> <b>{html.escape(rule)}"
            f"</b> {batch.per_rule[rule][row]:.3g} · {html.escape(batch.reasons[rule][row])}"
        )
    gated = f" · <span style='color:{BAD}'>a gate failed</span>" if batch.gated[row] else ""
    lines.append(f"<span style='color:{MUTED}'>Total</span> <b>{batch.total[row]:.3g}</b>{gated}")
    return "".join(parts) + "<br>".join(lines)
