"""What the playground generates with: the model selected on the left, or a checkpoint of
any run (its adapter on its run's base model); and, optionally, a second one whose answer
is shown beside it, generated with the same prompt, settings and seed."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtWidgets import QComboBox, QFormLayout, QWidget

from workbench.project import Project

CHECKPOINTS_LISTED = 200
SELECTED = "selected"  # the data of "the model selected on the left"


@dataclass(frozen=True)
class Writer:
    label: str
    checkpoint_id: int | None  # None: the selected model itself
    model_id: int | None  # the checkpoint's base model (None: the project's default)


def checkpoint_writers(project: Project) -> list[Writer]:
    """Every checkpoint, newest run first, as "run name · step N"."""
    rows = project.db.execute(
        "SELECT c.id, c.step, r.id, r.name, r.model_id FROM checkpoints c "
        "JOIN runs r ON r.id = c.run_id ORDER BY r.id DESC, c.step DESC LIMIT ?",
        [CHECKPOINTS_LISTED],
    ).fetchall()
    return [
        Writer(f"{name or f'run {run_id}'} · step {step}", checkpoint_id, model_id)
        for checkpoint_id, step, run_id, name, model_id in rows
    ]


class WriterPicker(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.first = QComboBox()
        self.second = QComboBox()
        for box in (self.first, self.second):
            box.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
        self.writers: dict[int, Writer] = {}
        self.set_writers([])
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Generate with", self.first)
        form.addRow("Side by side with", self.second)

    def set_writers(self, writers: list[Writer]) -> None:
        self.writers = {w.checkpoint_id: w for w in writers if w.checkpoint_id is not None}
        for box, first in ((self.first, True), (self.second, False)):
            current = box.currentData()
            box.clear()
            if not first:
                box.addItem("nothing (one answer)", None)
            box.addItem("the model selected on the left", SELECTED)
            for writer in writers:
                box.addItem(writer.label, writer.checkpoint_id)
            index = box.findData(current)
            box.setCurrentIndex(max(index, 0))

    def chosen(self) -> list[Writer | None]:
        """The writers to generate with, in order; None stands for the selected model."""
        out: list[Writer | None] = []
        for box in (self.first, self.second):
            data = box.currentData()
            if data == SELECTED:
                out.append(None)
            elif data is not None:
                out.append(self.writers[data])
        return out
