"""Will the selected model fit? The memory estimate of engine/fit.py (no torch) for the
settings a user is about to choose, before anything loads."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QGroupBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.fit import format_bytes
from engine.lora import LoraSettings
from engine.training.memory_defaults import CHECKPOINTING
from ui.messages import explain
from ui.session import ProjectSession
from ui.style import BAD, MUTED, OK
from ui.widgets import spin
from workbench.data.model_folders import model_dir
from workbench.data.models import ModelRecord
from workbench.project import Project

DTYPES = (
    ("float32", "float32"),
    ("bfloat16", "bfloat16"),
    ("float16", "float16"),
    ("4-bit (QLoRA, CUDA)", "4bit"),
)
PARTS = (
    ("Weights", "weights_bytes"),
    ("LoRA adapter", "adapter_bytes"),
    ("Gradients", "gradient_bytes"),
    ("Optimizer state", "optimizer_bytes"),
    ("Activations", "activations_bytes"),
    ("KV cache", "kv_cache_bytes"),
    ("Loading (extra peak)", "loading_bytes"),
)


def compute_fit(_project: Project, model: ModelRecord, settings: dict, device: str | None):
    """(estimate, what the available figure means)."""
    from engine.device import device_memory
    from engine.fit import estimate_fit

    available, where = None, "the GPU's free memory is read once the worker runs on it"
    if device is None or device.startswith(("cpu", "mps")):
        available = device_memory("cpu")[1]
        where = "free RAM of this computer"
    return estimate_fit(model_dir(model), available_bytes=available, **settings), where


def count_text(n: int) -> str:
    for size, unit in ((1e9, "B"), (1e6, "M")):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n:,}"


class FitPanel(QGroupBox):
    def __init__(self, session: ProjectSession, parent: QWidget | None = None):
        super().__init__("Memory fit", parent)
        self.session = session
        self.model: ModelRecord | None = None
        self.estimate = None
        self._timer = QTimer(self, singleShot=True, interval=120)
        self._timer.timeout.connect(self.recompute)

        self.dtype = QComboBox()
        for label, value in DTYPES:
            self.dtype.addItem(label, value)
        # The rank a run uses unless told otherwise, so the estimate matches the Train form.
        self.rank = spin(0, 1024, LoraSettings().r, special="no LoRA")
        self.batch = spin(1, 4096, 1)
        self.seq_len = spin(16, 262144, 512, step=128)
        self.checkpointing = QComboBox()
        self.checkpointing.addItems(list(CHECKPOINTING))
        self.checkpointing.setToolTip(
            "Gradient checkpointing, as the run's setting: auto is on for models of 100 M "
            "parameters or more; it keeps one input per layer instead of its activations"
        )
        self.training = QCheckBox("Training (gradients, optimizer)")
        grid = QGridLayout()
        grid.setHorizontalSpacing(10)
        for i, (label, widget) in enumerate(
            (
                ("Dtype", self.dtype),
                ("LoRA rank", self.rank),
                ("Batch size", self.batch),
                ("Sequence length", self.seq_len),
                ("Checkpointing", self.checkpointing),
            )
        ):
            grid.addWidget(QLabel(label), i // 2, (i % 2) * 2)
            grid.addWidget(widget, i // 2, (i % 2) * 2 + 1)
        grid.addWidget(self.training, 2, 2, 1, 2)
        for signal in (
            self.dtype.currentIndexChanged,
            self.rank.valueChanged,
            self.batch.valueChanged,
            self.seq_len.valueChanged,
            self.checkpointing.currentIndexChanged,
            self.training.toggled,
        ):
            signal.connect(self._timer.start)

        self.table = QTableWidget(len(PARTS) + 1, 2, objectName="fitTable")
        self.table.setHorizontalHeaderLabels(["Part", "Memory"])
        self.table.verticalHeader().hide()
        self.table.setShowGrid(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.setColumnWidth(1, 110)
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.horizontalHeader().setDefaultAlignment(
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        )
        header_height = self.table.horizontalHeader().sizeHint().height()
        # Tall enough for every row when there is room; scrolls on a short window.
        self.table.setMinimumHeight(header_height + 22 * 5)
        self.table.setMaximumHeight(header_height + 22 * (len(PARTS) + 1) + 4)
        self.verdict = QLabel("Select a model to estimate its memory.", objectName="fitVerdict")
        self.verdict.setWordWrap(True)
        # Its height comes from a narrower width than it gets: at the top, the text stays
        # next to the table instead of centred in the spare lines.
        self.verdict.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        # Word-wrapped labels report no height-for-width to the layout: reserve two lines.
        self.verdict.setMinimumHeight(self.verdict.fontMetrics().lineSpacing() * 2 + 6)
        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.verdict)

    def set_model(self, model: ModelRecord | None) -> None:
        self.model = model
        self.recompute()

    def settings(self) -> dict:
        return {
            "dtype": self.dtype.currentData(),
            "lora_rank": self.rank.value(),
            "batch_size": self.batch.value(),
            "seq_len": self.seq_len.value(),
            "training": self.training.isChecked(),
            "gradient_checkpointing": self.checkpointing.currentText(),
        }

    def set_checkpointing(self, value: str | bool) -> None:
        """A run config's value (auto, on, off, or an older true/false)."""
        text = ("on" if value else "off") if isinstance(value, bool) else str(value)
        self.checkpointing.setCurrentIndex(max(self.checkpointing.findText(text), 0))

    @Slot()
    def recompute(self) -> None:
        if self.model is None:
            return
        device = self.session.worker_status.device
        self.session.runner.call(
            compute_fit,
            self.model,
            self.settings(),
            device,
            on_done=self._show,
            on_error=self._failed,
        )

    def _show(self, result) -> None:
        estimate, where = result
        self.estimate = estimate
        rows = [(name, getattr(estimate, field, 0)) for name, field in PARTS]
        rows.append(("Total", estimate.total_bytes))
        for i, (name, value) in enumerate(rows):
            part = QTableWidgetItem(name)
            size = QTableWidgetItem(format_bytes(value) if value else "–")
            size.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if name == "Total":
                font = part.font()
                font.setBold(True)
                part.setFont(font)
                size.setFont(font)
            self.table.setItem(i, 0, part)
            self.table.setItem(i, 1, size)
        need = format_bytes(estimate.total_bytes)
        params = f"{count_text(estimate.num_parameters)} parameters"
        if estimate.fits is None:
            self._say(f"Needs about {need} ({params}); {where}.", MUTED)
        elif estimate.fits:
            have = format_bytes(estimate.available_bytes)
            self._say(f"✓ Fits: needs about {need} of {have} ({where}); {params}.", OK)
        else:
            have = format_bytes(estimate.available_bytes)
            self._say(
                f"✗ Does not fit: needs about {need}, {have} available ({where}). Try a smaller "
                "batch, a shorter sequence, LoRA instead of full training, or a 16-bit dtype.",
                BAD,
            )

    def _failed(self, error) -> None:
        self.estimate = None
        self.table.clearContents()
        problem = explain(error)
        self._say(f"{problem.what} {problem.todo}".strip(), BAD)

    def _say(self, text: str, color: str) -> None:
        self.verdict.setText(text)
        self.verdict.setStyleSheet(f"color: {color}; font-weight: 600;")
