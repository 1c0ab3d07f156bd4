"""The project's runs as a table model: one row per run, updated in place each time the
overview is read again, so a sorted view keeps its selection while runs progress."""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, Qt
from PySide6.QtGui import QColor

from ui.style import ACCENT, BAD, MUTED, OK, WARN

COLUMNS = (
    "ID",
    "Name",
    "Status",
    "Phase",
    "Algorithm",
    "Base model",
    "Duration",
    "Steps",
    "Train loss",
    "Eval loss",
    "Eval acc.",
    "Ckpt.",
    "Health",
)
HEADER_TIPS = {
    "Phase": "What a live run is doing now (loading the model, the reference pass, sampling, "
    "scoring, a training step, evaluating, checkpointing); hover for its time per step and ETA",
    "Duration": "From the start to the end of the run (to its last sign of life while running)",
    "Train loss": "The last training loss logged",
    "Eval loss": "The final evaluation loss",
    "Eval acc.": "The final evaluation accuracy: preference accuracy (share of pairs whose "
    "chosen completion gets the higher implicit reward), or the reward model's",
    "Ckpt.": "The run's final checkpoint (the Lineage tab lists them all)",
    "Health": "Warnings about the run's learning (chosen log-prob falling, eval reward "
    "falling, a KL stuck at 0, rewards without variance, a rule collapsing, a flat loss), "
    "each with what to try; hover the cell to read them. The run goes on regardless.",
}
STATUS_COLORS = {
    "running": ACCENT,
    "paused": WARN,
    "interrupted": BAD,
    "done": OK,
    "failed": BAD,
    "stopped": WARN,
    "cancelled": MUTED,
    "queued": MUTED,
    "silent": WARN,
}
SILENT_AFTER_S = 600  # a running run silent this long (no metric, no heartbeat): maybe killed
SORT_ROLE = Qt.ItemDataRole.UserRole
RUN_ID_ROLE = Qt.ItemDataRole.UserRole + 1


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


def format_number(value: float | None) -> str:
    return "–" if value is None else f"{value:.4g}"


def shown_status(row: dict[str, Any], now: float | None = None) -> str:
    """The status, or "silent" for a run marked running whose heartbeat stopped."""
    heartbeat = row.get("heartbeat")
    now = time.time() if now is None else now
    if row["status"] == "running" and heartbeat is not None and now - heartbeat > SILENT_AFTER_S:
        return "silent"
    return row["status"]


def run_label(row: dict[str, Any]) -> str:
    return f"#{row['id']} {row.get('name') or row['algorithm']}"


def _steps(row: dict[str, Any]) -> str:
    return f"{row['step']} / {row['max_steps']}" if row.get("max_steps") else str(row["step"])


def _started(row: dict[str, Any]) -> str:
    start = row.get("started_at") or row.get("created_at")
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(start)) if start else "–"


def display(row: dict[str, Any], column: int) -> str:
    name = COLUMNS[column]
    if name == "Status":
        status = shown_status(row)
        return "running (no heartbeat)" if status == "silent" else status
    checkpoint = row.get("checkpoint_id")
    return {
        "ID": str(row["id"]),
        "Name": name_text(row),
        "Phase": row.get("phase_text") or "",
        "Algorithm": row["algorithm"],
        "Base model": row.get("model_name") or "–",
        "Duration": format_duration(row.get("duration")),
        "Steps": _steps(row),
        "Train loss": format_number(row.get("train_loss")),
        "Eval loss": format_number(row.get("eval_loss")),
        "Eval acc.": format_number(row.get("eval_accuracy")),
        "Ckpt.": f"#{checkpoint}" if checkpoint is not None else "–",
        "Health": health_text(row),
    }[name]


EVAL_COLUMNS = ("Eval loss", "Eval acc.")
METRIC_COLUMNS = ("Train loss", *EVAL_COLUMNS)
FEW_EVAL = 20  # below this, one example moves an accuracy by 5 points or more


def few_eval_examples(row: dict[str, Any]) -> bool:
    count = row.get("eval_examples")
    return isinstance(count, int) and count < FEW_EVAL


def sample_count_text(row: dict[str, Any], column: str) -> str | None:
    """How many examples a metric cell's figure comes from."""
    key = "eval_examples" if column in EVAL_COLUMNS else "train_examples"
    count = row.get(key)
    if count is None:
        return None
    where = "eval" if column in EVAL_COLUMNS else "training"
    text = f"{display_value(row, column)} over {count:,} {where} examples"
    if column in EVAL_COLUMNS and few_eval_examples(row):
        text += f": fewer than {FEW_EVAL}, so one example moves it a lot"
    return text


def display_value(row: dict[str, Any], column: str) -> str:
    return display(row, COLUMNS.index(column))


def name_text(row: dict[str, Any]) -> str:
    """The name, then its tags (#baseline) and a mark when it has a note."""
    tags = " ".join(f"#{tag}" for tag in row.get("tags") or [])
    return " ".join(p for p in (row.get("name") or "", tags, "✎" if row.get("note") else "") if p)


def name_tooltip(row: dict[str, Any]) -> str:
    lines = [row.get("name") or row["algorithm"]]
    if row.get("tags"):
        lines.append("Tags: " + ", ".join(row["tags"]))
    if row.get("note"):
        lines.append(f"Note: {row['note']}")
    lines.append("Right-click for rename, tags, note, export, compare, delete…")
    return "\n".join(lines)


def phase_tooltip(row: dict[str, Any]) -> str:
    lines = [row["phase_text"]]
    if row.get("step_seconds"):
        lines.append(f"{row['step_seconds']:.2f} s per training step (smoothed)")
    if row.get("eta_s") is not None:
        lines.append(f"about {format_duration(row['eta_s'])} left")
    return "\n".join(lines)


def health_text(row: dict[str, Any]) -> str:
    count = len(row.get("warnings") or [])
    return "" if not count else f"⚠ {count} warning{'s' if count > 1 else ''}"


def sort_key(row: dict[str, Any], column: int) -> Any:
    """Numbers sort as numbers; a missing value sorts first."""
    key = {
        "ID": row["id"],
        "Duration": row.get("duration"),
        "Steps": row["step"],
        "Train loss": row.get("train_loss"),
        "Eval loss": row.get("eval_loss"),
        "Eval acc.": row.get("eval_accuracy"),
        "Ckpt.": row.get("checkpoint_id"),
    }.get(COLUMNS[column])
    if key is None and COLUMNS[column] in ("Name", "Status", "Phase", "Algorithm", "Base model"):
        return display(row, column).lower()
    return float("-inf") if key is None else float(key)


class RunsTableModel(QAbstractTableModel):
    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.rows: list[dict[str, Any]] = []
        self._index: dict[int, int] = {}  # run id -> row
        self.colors: dict[int, QColor] = {}  # charted runs: their curves' colour

    def set_colors(self, colors: dict[int, QColor]) -> None:
        changed = set(colors) ^ set(self.colors) | {
            i for i in colors if self.colors.get(i) != colors[i]
        }
        self.colors = colors
        for run_id in changed:
            if run_id in self._index:
                cell = self.index(self._index[run_id], 0)
                self.dataChanged.emit(cell, cell, [Qt.ItemDataRole.DecorationRole])

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        if role == Qt.ItemDataRole.ToolTipRole:
            return HEADER_TIPS.get(COLUMNS[section])
        return None

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row, column = self.rows[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return display(row, column)
        if role == SORT_ROLE:
            return sort_key(row, column)
        if role == RUN_ID_ROLE:
            return row["id"]
        if role == Qt.ItemDataRole.ForegroundRole and COLUMNS[column] == "Status":
            return QColor(STATUS_COLORS.get(shown_status(row), MUTED))
        if role == Qt.ItemDataRole.ForegroundRole and COLUMNS[column] == "Health":
            return QColor(WARN)
        if role == Qt.ItemDataRole.ForegroundRole and COLUMNS[column] in EVAL_COLUMNS:
            if few_eval_examples(row):
                return QColor(MUTED)  # a figure from a handful of examples says little
        if role == Qt.ItemDataRole.DecorationRole and column == 0:
            return self.colors.get(row["id"])
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(row, column)
        if role == Qt.ItemDataRole.TextAlignmentRole and column >= COLUMNS.index("Duration"):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _tooltip(self, row: dict[str, Any], column: int) -> str | None:
        if COLUMNS[column] == "Status" and row.get("error"):
            return row["error"]
        if COLUMNS[column] == "Status" and shown_status(row) == "silent":
            return (
                "Marked running, but its process has written nothing for over "
                f"{SILENT_AFTER_S // 60} minutes; it may have been killed."
            )
        if COLUMNS[column] in ("ID", "Duration"):
            return f"Started {_started(row)}"
        if COLUMNS[column] == "Phase" and row.get("phase"):
            return phase_tooltip(row)
        if COLUMNS[column] == "Health" and row.get("warnings"):
            return "\n\n".join(row["warnings"])
        if COLUMNS[column] in METRIC_COLUMNS:
            return sample_count_text(row, COLUMNS[column])
        if COLUMNS[column] == "Name":
            return name_tooltip(row)
        return display(row, column) if COLUMNS[column] == "Base model" else None

    def position(self, run_id: int) -> int | None:
        return self._index.get(run_id)

    def row_of(self, run_id: int) -> dict[str, Any] | None:
        position = self._index.get(run_id)
        return self.rows[position] if position is not None else None

    def set_rows(self, rows: list[dict[str, Any]]) -> None:
        """Update rows in place, append new runs, drop vanished ones (selection survives)."""
        fresh = {r["id"]: r for r in rows}
        for run_id in [i for i in self._index if i not in fresh]:
            position = self._index[run_id]
            self.beginRemoveRows(QModelIndex(), position, position)
            del self.rows[position]
            self._reindex()
            self.endRemoveRows()
        for position, old in enumerate(self.rows):
            new = fresh[old["id"]]
            if new != old:
                self.rows[position] = new
                self.dataChanged.emit(
                    self.index(position, 0), self.index(position, len(COLUMNS) - 1)
                )
        added = [r for r in rows if r["id"] not in self._index]
        if added:
            start = len(self.rows)
            self.beginInsertRows(QModelIndex(), start, start + len(added) - 1)
            self.rows.extend(added)
            self._reindex()
            self.endInsertRows()

    def _reindex(self) -> None:
        self._index = {r["id"]: i for i, r in enumerate(self.rows)}
