"""What a run trains on: which labels (sources, minimum confidence, held-out share), and
the counts of the dataset they give, recomputed on the database thread as they change;
for an algorithm that trains on demonstrations (SFT), how many it would imitate."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from engine.rules import ParamInfo
from ui.messages import explain
from ui.session import ProjectSession
from ui.style import BAD, MUTED, WARN, say
from ui.views.common.param_editors import make_editor
from workbench.labels.comparisons import SOURCES
from workbench.training.config import RUN_KEYS
from workbench.training.data import dataset_counts
from workbench.training.launch_warnings import launch_warnings

ROWS = (
    ("demonstrations", "Demonstrations (SFT)"),  # shown only for a run that trains on them
    ("pairs", "Pairs"),
    ("unpaired", "Single examples (KTO)"),
    ("ties", "Ties (left out)"),
    ("both_bad", "Both bad"),
    ("duplicates", "Duplicates (dropped)"),
    ("conflicts", "Conflicts (dropped)"),
    ("filtered_out", "Below min. confidence"),
)
SOURCE_NAMES = {"human": "Human", "ai": "AI judge", "rule": "Rules"}


class DataSelection(QGroupBox):
    """Run name and the labels to train on; `values()` gives their config keys. An online
    run trains on prompts, not labels: `set_online(True)` leaves only the name."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Labels to train on", parent)
        self.online = False
        self.name = QLineEdit(placeholderText="algorithm and time")
        self.name.setToolTip(RUN_KEYS["name"][1])
        self.sources = {s: QCheckBox(SOURCE_NAMES[s], checked=True) for s in SOURCES}
        row = QHBoxLayout()
        for box in self.sources.values():
            box.setToolTip(RUN_KEYS["sources"][1])
            box.toggled.connect(self.changed)
            row.addWidget(box)
        row.addStretch(1)
        self.min_confidence = make_editor(
            ParamInfo(
                "min_confidence", "float", None, RUN_KEYS["min_confidence"][1], minimum=0, maximum=1
            )
        )
        self.eval_fraction = make_editor(
            ParamInfo(
                "eval_fraction", "float", 0.1, RUN_KEYS["eval_fraction"][1], minimum=0, maximum=0.9
            )
        )
        form = self.form = QFormLayout(self)
        form.addRow("Run name", self.name)
        form.addRow("Sources", row)
        form.addRow("Min. confidence", self.min_confidence)
        form.addRow("Eval share", self.eval_fraction)
        self.name.textChanged.connect(self.changed)
        self.min_confidence.changed.connect(self.changed)
        self.eval_fraction.changed.connect(self.changed)

    def set_online(self, online: bool) -> None:
        self.online = online
        self.setTitle("Run" if online else "Labels to train on")
        for row in range(1, self.form.rowCount()):
            self.form.setRowVisible(row, not online)

    def values(self) -> dict[str, Any]:
        values = (
            {}
            if self.online
            else {
                "sources": [s for s, box in self.sources.items() if box.isChecked()],
                "eval_fraction": self.eval_fraction.value(),
            }
        )
        if self.name.text().strip():
            values["name"] = self.name.text().strip()
        if self.min_confidence.value() is not None and not self.online:
            values["min_confidence"] = self.min_confidence.value()
        return values

    def set_values(self, config: dict[str, Any]) -> None:
        self.name.setText(config.get("name") or "")
        chosen = config.get("sources") or list(SOURCES)
        for source, box in self.sources.items():
            box.setChecked(source in chosen)
        self.min_confidence.set_value(config.get("min_confidence"))
        self.eval_fraction.set_value(config.get("eval_fraction", 0.1))


class DatasetCounts(QGroupBox):
    """Counts of the train and eval parts, refreshed shortly after the selection changes."""

    def __init__(self, session: ProjectSession, parent: QWidget | None = None):
        super().__init__("Dataset from labels", parent)
        self.session = session
        self.counts: dict[str, Any] | None = None
        self._selection: dict[str, Any] = {}
        self._timer = QTimer(self, singleShot=True, interval=250)
        self._timer.timeout.connect(self._query)
        self.cells: dict[tuple[str, str], QLabel] = {}
        self.row_titles: dict[str, QLabel] = {}
        grid = QGridLayout()
        grid.setHorizontalSpacing(14)
        grid.setVerticalSpacing(2)
        for col, title in enumerate(("", "Train", "Eval")):
            grid.addWidget(QLabel(f"<b>{title}</b>"), 0, col)
        for row, (key, title) in enumerate((*ROWS, ("by_source", "By source")), 1):
            self.row_titles[key] = QLabel(title)
            grid.addWidget(self.row_titles[key], row, 0)
            for col, split in enumerate(("train", "eval"), 1):
                cell = QLabel("–", alignment=Qt.AlignmentFlag.AlignRight)
                # "ai 32 · rule 32" wraps rather than widen the form past a 1280 window
                cell.setWordWrap(key == "by_source")
                self.cells[(key, split)] = cell
                grid.addWidget(cell, row, col)
        self.note = QLabel(wordWrap=True)
        self.note.setStyleSheet(f"color: {MUTED};")
        self.warnings = QLabel(wordWrap=True)
        self.warnings.setStyleSheet(f"color: {WARN};")
        self.warnings.hide()
        self.run: dict[str, Any] = {}
        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        layout.addWidget(self.note)
        layout.addWidget(self.warnings)

    def refresh(
        self,
        selection: dict[str, Any],
        seed: int = 0,
        demonstrations: str | None = None,
        run: dict[str, Any] | None = None,
    ) -> None:
        """``demonstrations``: the sft_source of a run that trains on demonstrations;
        ``run``: the run's settings, for the warnings about data too small for them."""
        self._selection = {**selection, "seed": seed, "demonstrations": demonstrations}
        self.run = run or {}
        self._timer.start()

    @Slot()
    def _query(self) -> None:
        s = self._selection
        if not s.get("sources"):
            self._say("Choose at least one source of labels.", BAD)
            return
        self.session.runner.call(
            dataset_counts,
            s["sources"],
            s.get("min_confidence"),
            s.get("eval_fraction") or 0.0,
            s.get("seed", 0),
            s.get("demonstrations"),
            on_done=self._show,
            on_error=self._failed,
        )

    def _show(self, counts: dict[str, Any]) -> None:
        self.counts = counts
        demonstrations = "demonstrations" in counts["train"]
        self.row_titles["demonstrations"].setVisible(demonstrations)
        for (key, split), cell in self.cells.items():
            value = counts[split].get(key, 0)
            if key == "by_source":
                value = " · ".join(f"{s} {n}" for s, n in value.items() if n) or "0"
            cell.setText(str(value))
            if key == "demonstrations":
                cell.setVisible(demonstrations)
        held = (
            "eval holds a share of the labelled prompts"
            if counts["held_out"]
            else "eval uses the labels on eval-split prompts"
        )
        if self._selection.get("demonstrations") == "references":
            held = "demonstrations are the prompts' references; eval-split ones are the eval set"
        text = (
            f"{held.capitalize()}. Examples longer than max_length are left out and counted "
            "when the run starts (in its log)."
        )
        self._show_warnings(counts, demonstrations)
        if demonstrations and not counts["train"]["demonstrations"]:
            self._say(
                "No demonstrations: give train-split prompts reference answers (import a "
                "chat dataset), or imitate the chosen completions of the labels.",
                BAD,
            )
        elif not demonstrations and not (counts["train"]["pairs"] or counts["train"]["unpaired"]):
            self._say("No labels match: label pairs, or run the judge or the rules first.", BAD)
        else:
            self._say(text, MUTED)

    def _show_warnings(self, counts: dict[str, Any], demonstrations: bool) -> None:
        keys = ("demonstrations",) if demonstrations else ("pairs", "unpaired")
        train, held = (sum(counts[split].get(k, 0) for k in keys) for split in ("train", "eval"))
        unit = "demonstrations" if demonstrations else "examples"
        found = launch_warnings(self.run, train, held, unit=unit) if self.run else []
        self.warnings.setText("\n".join(f"⚠ {w}" for w in found))
        self.warnings.setVisible(bool(found))

    def _failed(self, error) -> None:
        self.counts = None
        self._say(explain(error).what, BAD)

    def _say(self, text: str, color: str) -> None:
        say(self.note, text, color)
