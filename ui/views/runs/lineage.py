"""The "Lineage" panel of the current run: back to the dataset snapshot it trained on and
the labels in it, forward to the checkpoints it wrote, and the checkpoint it started from."""

from __future__ import annotations

import functools
import html
import time
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ui.db_runner import DbRunner
from ui.messages import explain
from ui.style import MUTED
from ui.table_columns import fit_columns
from workbench.training.history import lineage

HINT = "Select a run to see the labels it was trained on and the checkpoints it wrote."
LABEL_COLUMNS = ("ID", "Prompt", "Outcome", "Source", "Judge", "Confidence")
CHECKPOINT_COLUMNS = ("ID", "Step", "Path", "Saved")
MAX_WRITERS = 6  # the writers of the most answers; the rest are few


def make_table(columns: tuple[str, ...]) -> QTableWidget:
    table = QTableWidget(0, len(columns))
    table.setHorizontalHeaderLabels(list(columns))
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setAlternatingRowColors(True)
    table.verticalHeader().hide()
    table.verticalHeader().setDefaultSectionSize(24)
    fit_columns(table)  # texts (prompt, judge, path) told from numbers by their values
    return table


def fill(table: QTableWidget, rows: list[tuple]) -> None:
    table.setRowCount(len(rows))
    for r, values in enumerate(rows):
        for c, value in enumerate(values):
            text = "–" if value is None else str(value)
            item = QTableWidgetItem(text)
            item.setToolTip(text)
            table.setItem(r, c, item)


def counts_text(dataset: dict[str, Any]) -> str:
    parts = []
    for split in ("train", "eval"):
        counts = dataset.get("counts", {}).get(split) or {}
        if "demonstrations" in counts:  # SFT's
            parts.append(f"{split}: {counts['demonstrations']} demonstrations")
        elif counts:
            unpaired = f", {counts.get('unpaired', 0)} unpaired" if counts.get("unpaired") else ""
            parts.append(
                f"{split}: {counts.get('pairs', 0)} pairs{unpaired} "
                f"on {counts.get('prompts', 0)} prompts"
            )
    held = " (eval held out from the labelled train prompts)" if dataset.get("held_out") else ""
    return "; ".join(parts) + held if parts else "no counts recorded"


def _saved(when: float | None) -> str:
    return time.strftime("%m-%d %H:%M", time.localtime(when)) if when else "–"


class LineagePanel(QWidget):
    def __init__(self, runner: DbRunner, parent: QWidget | None = None):
        super().__init__(parent)
        self.runner = runner
        self.run_id: int | None = None
        self.result: dict[str, Any] | None = None
        self.summary = QLabel(HINT, wordWrap=True, objectName="lineageSummary")
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.labels_title = QLabel("Labels in the dataset")
        self.labels = make_table(LABEL_COLUMNS)
        self.checkpoints_title = QLabel("Checkpoints")
        self.checkpoints = make_table(CHECKPOINT_COLUMNS)
        for title in (self.labels_title, self.checkpoints_title):
            title.setStyleSheet("font-weight: 600;")
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(_stack(self.labels_title, self.labels))
        splitter.addWidget(_stack(self.checkpoints_title, self.checkpoints))
        splitter.setSizes([560, 440])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self.summary)
        layout.addWidget(splitter, 1)

    def show_run(self, run_id: int | None, refresh: bool = False) -> None:
        if run_id == self.run_id and not refresh:
            return
        if run_id != self.run_id:
            self.result = None
            fill(self.labels, [])
            fill(self.checkpoints, [])
        self.run_id = run_id
        if run_id is None:
            self.summary.setText(HINT)
            return
        self.runner.call(
            lineage,
            run_id,
            on_done=functools.partial(self._show, run_id),
            on_error=functools.partial(self._failed, run_id),
        )

    def _show(self, run_id: int, found: dict[str, Any]) -> None:
        if run_id != self.run_id or found == self.result:
            return
        self.result = found
        self.summary.setText(summary_html(found))
        fill(
            self.labels,
            [
                (
                    r["id"],
                    r["prompt"],
                    _outcome(r),
                    r["source"],
                    r["judge"],
                    _confidence(r["confidence"]),
                )
                for r in found["labels"] + found["unpaired_labels"]
            ],
        )
        fill(self.checkpoints, [(c[0], c[1], c[2], _saved(c[3])) for c in found["checkpoints"]])
        shown = len(found["labels"]) + len(found["unpaired_labels"])
        total = found["labels_total"] + found["unpaired_total"]
        more = f" (first {shown} of {total})" if shown < total else f" ({total})"
        self.labels_title.setText(f"Labels in the dataset{more}")
        self.checkpoints_title.setText(f"Checkpoints ({len(found['checkpoints'])})")

    def _failed(self, run_id: int, error) -> None:
        if run_id == self.run_id:
            self.summary.setText(html.escape(f"Cannot read the lineage: {explain(error).what}"))


def _stack(title: QLabel, table: QTableWidget) -> QWidget:
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 4, 4, 0)
    layout.addWidget(title)
    layout.addWidget(table, 1)
    return box


def _outcome(row: dict[str, Any]) -> str:
    return f"{row['outcome']} (overridden)" if row.get("superseded_by") else row["outcome"]


def _confidence(value: float | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def summary_html(found: dict[str, Any]) -> str:
    run, dataset = found["run"], found["dataset"]
    digest = dataset.get("hash") or "–"
    parent = found.get("parent_checkpoint")
    start = "the base model"
    if parent:
        start = (
            f"checkpoint #{parent['id']} (step {parent['step']} of run "
            f"#{parent['run_id']} {html.escape(parent.get('run_name') or '')})"
        )
    changed = ", ".join(f"{k} {a} → {b}" for k, a, b in found.get("changed_settings") or [])
    if changed:  # a continuation with new settings (workbench/training/continuation.py)
        start += f" with {html.escape(changed)}"
    sources = ", ".join(dataset.get("filters", {}).get("sources") or []) or "–"
    muted = f'style="color:{MUTED}"'
    writers = "; ".join(
        f"{a['label']}: {a['answers']}" for a in found.get("answers_from", [])[:MAX_WRITERS]
    )
    return (
        f"<b>Run #{run['id']} {html.escape(run.get('name') or '')}</b> "
        f"<span {muted}>({html.escape(run['algorithm'])}, {html.escape(run['status'])})</span>"
        f"<br>Labels → dataset <code>{html.escape(digest[:16])}</code>: "
        f"{html.escape(counts_text(dataset))}; sources {html.escape(sources)}"
        f"<br>Started from {start} → {len(found['checkpoints'])} checkpoint(s)"
        + (f"<br>Learned from the answers of {html.escape(writers)}" if writers else "")
    )
