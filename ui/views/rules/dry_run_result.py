"""What a rules dry run found, in figures and words: the reward histogram, the share of
prompts whose samples all score the same (no signal for group-relative RL), whether the
reward follows length, the pass rate of each rule, and the samples themselves."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ui.style import BAD, MUTED, OK, WARN
from ui.views.common.prompt_table import one_line
from ui.views.rules.score_table import score_background, share_columns
from ui.widgets import StatCard

TEXT = "#1d2127"
CORRELATION_NOTICEABLE = 0.2
EQUAL_SHARE_WARN = 0.5
PROMPT_W, TOKENS_W, TOTAL_W = 130, 64, 54


def equal_share_reading(share: float) -> tuple[str, str]:
    """(sentence, colour) about the prompts whose samples all got the same reward."""
    if share <= 0:
        return (
            "Every prompt's samples differ in reward, so each one gives group-relative RL "
            "(GRPO, RLOO) something to learn from.",
            OK,
        )
    text = (
        f"{share:.0%} of prompts gave all their samples the same reward: group-relative RL "
        "(GRPO, RLOO) gets no signal from these prompts."
    )
    if share >= EQUAL_SHARE_WARN:
        advice = (
            " Grade the reward more finely, sample more per prompt, or use prompts that "
            "are neither too easy nor too hard."
        )
        return text + advice, WARN
    return text, TEXT


def length_reading(r: float | None) -> tuple[str, str]:
    """(plain reading, colour) of the Pearson correlation of reward and length."""
    if r is None:
        return "Reward vs. length is undefined: the rewards or the lengths are all equal.", MUTED
    if abs(r) < CORRELATION_NOTICEABLE:
        return f"Reward barely depends on length (r = {r:+.2f}).", OK
    if r > 0:
        return (
            f"Longer completions score higher (r = {r:+.2f}): check the rule is not "
            "rewarding length.",
            WARN,
        )
    return (
        f"Shorter completions score higher (r = {r:+.2f}): check the rule is not rewarding "
        "brevity.",
        WARN,
    )


def pass_rate_html(pass_rate: dict[str, float]) -> str:
    if not pass_rate:
        return f"<span style='color:{MUTED}'>No rule was scored.</span>"
    parts = []
    for rule, rate in pass_rate.items():
        color = OK if rate >= 0.5 else BAD
        parts.append(f"{html.escape(rule)} <b style='color:{color}'>{rate:.0%}</b>")
    return f"<span style='color:{MUTED}'>Pass rate</span>&nbsp; " + " · ".join(parts)


def reading_label(object_name: str) -> QLabel:
    label = QLabel(objectName=object_name, wordWrap=True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


class DryRunResult(QWidget):
    """`show_result(result)` renders the result dict of a `rules_dry_run` job."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        from ui.views.rules.reward_histogram import RewardHistogram  # pyqtgraph: only when shown

        self.result: dict | None = None
        self.histogram = RewardHistogram()
        self.mean_card = StatCard("mean reward")
        self.equal_card = StatCard("prompts with all-equal rewards")
        self.length_card = StatCard("reward ~ length (Pearson r)")
        self.equal_text = reading_label("allEqualReading")
        self.length_text = reading_label("lengthReading")
        self.pass_rate = QLabel(objectName="passRates", wordWrap=True)
        self.samples = self._samples_table()

        grid = QGridLayout()
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(6)
        grid.addWidget(self.histogram, 0, 0, 3, 1)
        for row, card in enumerate((self.mean_card, self.equal_card, self.length_card)):
            grid.addWidget(card, row, 1)
        grid.setColumnStretch(0, 3)
        grid.setColumnStretch(1, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addLayout(grid)
        for label in (self.equal_text, self.length_text, self.pass_rate):
            layout.addWidget(label)
        layout.addWidget(self.samples, 1)

    @staticmethod
    def _samples_table() -> QTableWidget:
        table = QTableWidget(0, 0, objectName="dryRunSamples")
        table.verticalHeader().hide()
        table.verticalHeader().setDefaultSectionSize(24)
        table.setShowGrid(False)
        table.setWordWrap(False)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        head = table.horizontalHeader()
        head.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        head.setHighlightSections(False)
        table.setMinimumHeight(110)
        return table

    def show_result(self, result: dict) -> None:
        self.result = result
        rewards = [float(r) for r in result.get("rewards", [])]
        self.histogram.set_rewards(rewards)
        mean = sum(rewards) / len(rewards) if rewards else None
        self.mean_card.set(
            "–" if mean is None else f"{mean:.3f}",
            f"{len(rewards)} completions, {result.get('prompts', '?')} prompts",
        )
        share = float(result.get("frac_all_equal", 0.0))
        self.equal_card.set(f"{share:.0%}", "no signal for GRPO there")
        self._read(self.equal_text, *equal_share_reading(share))
        r = result.get("length_correlation")
        self.length_card.set("–" if r is None else f"{r:+.2f}", "length in tokens")
        self._read(self.length_text, *length_reading(r))
        self.pass_rate.setText(pass_rate_html(result.get("pass_rate", {})))
        self._fill_samples(result.get("samples", []))

    @staticmethod
    def _read(label: QLabel, text: str, color: str) -> None:
        label.setText(text)
        label.setStyleSheet(f"color: {color};")

    def _fill_samples(self, samples: list[dict]) -> None:
        rules = list(samples[0]["scores"]) if samples else []
        table = self.samples
        table.clearContents()
        table.setColumnCount(4 + len(rules))
        table.setHorizontalHeaderLabels(["Prompt", "Completion", "Tokens", "Total", *rules])
        table.setRowCount(len(samples))
        for row, sample in enumerate(samples):
            self._sample_row(row, sample, rules)
        self._size_samples()

    def _sample_row(self, row: int, sample: dict, rules: list[str]) -> None:
        tip = f"Prompt:\n{sample['prompt']}\n\nCompletion:\n{sample['text']}"
        if sample.get("reference"):
            tip += f"\n\nReference: {sample['reference']}"
        cells = [
            one_line(sample["prompt"]),
            one_line(sample["text"]),
            str(sample.get("num_tokens", "")),
            f"{sample['total']:.3g}",
        ]
        for column, text in enumerate(cells):
            cell = QTableWidgetItem(text)
            cell.setToolTip(tip[:3000])
            if column >= 2:
                cell.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.samples.setItem(row, column, cell)
        for offset, rule in enumerate(rules):
            score, reason = sample["scores"][rule]
            cell = QTableWidgetItem(f"{score:.3g}  {reason}")
            cell.setBackground(score_background(score, score >= 1.0))
            cell.setForeground(QColor(OK if score >= 1.0 else BAD))
            cell.setToolTip(f"{rule}: {score:.3g}\n{reason}")
            self.samples.setItem(row, 4 + offset, cell)

    def _size_samples(self) -> None:
        rules = self.samples.columnCount() - 4
        if rules >= 0:
            share_columns(self.samples, [PROMPT_W, 0, TOKENS_W, TOTAL_W], [], rules)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._size_samples()
