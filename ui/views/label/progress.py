"""How far the labelling has come: prompts labelled of those that can be, what is left,
today's count, and this sitting's pace."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QVBoxLayout, QWidget

from ui.style import set_muted
from workbench.labels.progress import LabelProgress


def progress_text(p: LabelProgress) -> str:
    parts = [f"{p.labelled:,} of {p.servable:,} prompts labelled", f"{p.to_go:,} to go"]
    if p.more_pairs:
        parts.append(f"{p.more_pairs:,} with more pairs to compare")
    parts.append(f"{p.today:,} labels today")
    return " · ".join(parts)


def pace_text(p: LabelProgress) -> str:
    if not p.session_labels:
        return "This sitting: no labels yet"
    text = (
        f"This sitting: {p.session_labels:,} labels, {p.per_minute:.1f} per minute, "
        f"{p.mean_seconds:.1f} s each"
    )
    return text + (f" · {p.skipped} skipped" if p.skipped else "")


class LabelProgressBar(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.progress: LabelProgress | None = None
        self.bar = QProgressBar(textVisible=False)
        self.bar.setFixedWidth(160)
        self.counts = QLabel("Counting…")
        self.pace = QLabel("")
        set_muted(self.pace)
        lines = QVBoxLayout()
        lines.setSpacing(2)
        lines.addWidget(self.counts)
        lines.addWidget(self.pace)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.bar)
        layout.addLayout(lines, 1)

    def show_progress(self, progress: LabelProgress) -> None:
        self.progress = progress
        self.bar.setRange(0, max(progress.servable, 1))
        self.bar.setValue(progress.labelled)
        self.counts.setText(progress_text(progress))
        self.pace.setText(pace_text(progress))
