"""How far the AI labels can be trusted: their agreement with human and with rule labels on
the same pairs (percent and Cohen's kappa, which discounts agreement by chance), and how
often reviews kept the judge's verdict. One judge identity, or all of them."""

from __future__ import annotations

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QComboBox, QGridLayout, QLabel, QVBoxLayout, QWidget

from ui.style import set_muted
from workbench.judging.agreement import Agreement
from workbench.judging.review import ReviewTally

NONE_YET = "no pairs labelled by both yet"
KAPPA_TIP = (
    "Cohen's kappa: 1 is perfect agreement, 0 is what chance alone would give, "
    "below 0 worse than chance. Undefined when both always say the same thing."
)
REVIEW_TIP = (
    "Reviewed AI labels whose verdict the person kept. The review queue shows the "
    "least sure labels first, so this understates the judge's accuracy."
)


def agreement_text(figures: Agreement) -> str:
    if not figures.pairs:
        return NONE_YET
    kappa = "n/a" if figures.kappa is None else f"{figures.kappa:.2f}"
    return (
        f"{figures.percent:.1f}% agree · kappa {kappa} · "
        f"{figures.pairs:,} pair{'s' if figures.pairs != 1 else ''} compared"
    )


def review_text(tally: ReviewTally) -> str:
    if not tally.reviewed:
        return "none reviewed yet"
    return f"{tally.percent:.1f}% confirmed · {tally.confirmed:,} of {tally.reviewed:,} reviewed"


class AgreementPanel(QWidget):
    judgeChanged = Signal(object)  # an identity, or None for all AI labels

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.figures: dict | None = None
        self.judge = QComboBox(minimumContentsLength=20)
        self.judge.addItem("All AI labels", None)
        self.judge.setToolTip(
            "A judge's identity names its model and a hash of its template: "
            "another template is another judge"
        )
        self.judge.currentIndexChanged.connect(self._judge_changed)
        self.values: dict[str, QLabel] = {}
        grid = QGridLayout()
        grid.setColumnStretch(1, 1)
        rows = (
            ("human", "AI vs human", KAPPA_TIP),
            ("rule", "AI vs rules", KAPPA_TIP),
            ("review", "Your reviews", REVIEW_TIP),
        )
        for row, (key, title, tip) in enumerate(rows):
            name, value = QLabel(title), QLabel("–", wordWrap=True)
            name.setToolTip(tip)
            value.setToolTip(tip)
            grid.addWidget(name, row, 0)
            grid.addWidget(value, row, 1)
            self.values[key] = value
        self.count = QLabel("", wordWrap=True)
        set_muted(self.count)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.judge)
        layout.addLayout(grid)
        layout.addWidget(self.count)

    def set_identities(self, identities: list[tuple[str, int]], select: str | None = None) -> None:
        before = self.judge.currentData()
        current = select or before
        self.judge.blockSignals(True)
        self.judge.clear()
        self.judge.addItem("All AI labels", None)
        for identity, count in identities:
            self.judge.addItem(f"{identity} ({count:,})", identity)
        self.judge.setCurrentIndex(max(self.judge.findData(current), 0))
        self.judge.blockSignals(False)
        if self.judge.currentData() != before:
            self.judgeChanged.emit(self.judge.currentData())

    def identity(self) -> str | None:
        return self.judge.currentData()

    def show_figures(self, figures: dict) -> None:
        self.figures = figures
        self.values["human"].setText(agreement_text(figures["human"]))
        self.values["rule"].setText(agreement_text(figures["rule"]))
        self.values["review"].setText(review_text(figures["review"]))
        count = figures["ai_labels"]
        self.count.setText(
            f"{count:,} active AI label{'s' if count != 1 else ''}; a label a "
            "person reviewed counts under Your reviews only."
        )

    @Slot()
    def _judge_changed(self, *_args) -> None:
        self.judgeChanged.emit(self.judge.currentData())
