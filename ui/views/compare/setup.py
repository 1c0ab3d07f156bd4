"""What to compare: the baseline and up to 8 other entrants (base models and checkpoints),
the prompts (a split and how many), the decoding (greedy, or K sampled seeds at a
temperature), an optional judge and reward model. Compare finds the stored comparison of these choices or creates it, then
queues a `compare` job for what it still lacks, with progress and Cancel; a comparison
that lacks nothing is shown at once."""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ui.job_follow import JobFollowing
from ui.messages import explain
from ui.poller import JobState
from ui.session import ProjectSession
from ui.style import BAD, MUTED, OK, set_primary
from ui.views.compare.reads import EntrantOption, prepare_comparison
from ui.widgets import double_spin, spin
from workbench.comparing.choices import MAX_OTHER_ENTRANTS, MAX_SEEDS, Decoding, PromptSet

GREEDY, SAMPLED = "Greedy", "Sampled"
DEFAULT_LIMIT = 50
DEFAULT_TEMPERATURE = 0.8
# Long run names must not widen the panel: the combo boxes elide them instead.
SHRINK = QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon


class CompareSetup(JobFollowing, QWidget):
    RUNNING_TEXT = "Comparing…"
    JOB_NOUN = "the comparison"
    ready = Signal(int)  # a comparison id whose grid can be shown

    def __init__(self, session: ProjectSession, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.job_id: int | None = None
        self.comparison_id: int | None = None
        self.running = False
        self.options: list[EntrantOption] = []
        self._started = 0.0
        self._build()
        session.jobsChanged.connect(self._on_jobs)
        session.workerStatusChanged.connect(self._on_worker)
        self._set_running(False)

    def _build(self) -> None:
        self.baseline = QComboBox(minimumContentsLength=12, sizeAdjustPolicy=SHRINK)
        self.baseline.setToolTip("The model every other one is compared against")
        self.others = QListWidget()
        self.others.setMinimumHeight(96)
        # Long run names keep their "· step N" end visible; the tooltip has them in full.
        self.others.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.others.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.others.setToolTip(f"Up to {MAX_OTHER_ENTRANTS} models or checkpoints to compare")
        self.split = QComboBox(minimumContentsLength=8, sizeAdjustPolicy=SHRINK)
        self.limit = spin(1, 100000, DEFAULT_LIMIT)
        self.limit.setToolTip("How many prompts of the split (the first ones)")
        self.decoding = QComboBox()
        self.decoding.addItems([GREEDY, SAMPLED])
        self.seeds = spin(1, MAX_SEEDS, 4)
        self.seeds.setToolTip("Sampled completions per prompt and model (seeds 0..K-1)")
        self.temperature = double_spin(0.05, 2.0, DEFAULT_TEMPERATURE, 0.05)
        self.judge = QComboBox(minimumContentsLength=8, sizeAdjustPolicy=SHRINK)
        self.judge.setToolTip(
            "A pairwise judge compares each model's answers with the baseline's, both "
            "orders; the column headers then give its win rate against the baseline"
        )
        self.reward_model = QComboBox(minimumContentsLength=8, sizeAdjustPolicy=SHRINK)
        self.reward_model.setToolTip(
            "A reward model trained in this project (a checkpoint of a reward run) scores "
            "every answer; cells then show its reward and the difference from the baseline's"
        )
        self.compare_button = QPushButton("Compare")
        set_primary(self.compare_button)
        self.cancel_button = QPushButton("Cancel")
        self.progress = QProgressBar()
        self.progress.setFormat("%v / %m completions")
        self.status = QLabel("", wordWrap=True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        form = QFormLayout()
        form.addRow("Baseline", self.baseline)
        form.addRow("Compare with", self.others)
        form.addRow("Prompts from", self.split)
        form.addRow("First", self.limit)
        form.addRow("Decoding", self.decoding)
        form.addRow("Seeds", self.seeds)
        form.addRow("Temperature", self.temperature)
        form.addRow("Judge", self.judge)
        form.addRow("Reward model", self.reward_model)
        row = QHBoxLayout()
        row.addWidget(self.compare_button)
        row.addWidget(self.cancel_button)
        row.addWidget(self.progress, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)
        layout.addLayout(row)
        layout.addWidget(self.status)
        self.baseline.currentIndexChanged.connect(self._baseline_changed)
        self.others.itemChanged.connect(self._other_checked)
        self.decoding.currentIndexChanged.connect(self._decoding_changed)
        self.compare_button.clicked.connect(self.compare)
        self.cancel_button.clicked.connect(self.cancel)
        self._decoding_changed()

    # Choices ---------------------------------------------------------------------------
    def set_choices(self, choices: dict[str, Any]) -> None:
        """The entrants, splits and default temperature; what was picked stays picked."""
        picked = {o.choice for o in self.picked_others()}
        baseline = self.baseline.currentIndex()
        kept = self.options[baseline].choice if 0 <= baseline < len(self.options) else None
        self.options = list(choices["entrants"])
        self.baseline.blockSignals(True)
        self.baseline.clear()
        for option in self.options:
            self.baseline.addItem(option.label)
            self.baseline.setItemData(
                self.baseline.count() - 1, option.detail, Qt.ItemDataRole.ToolTipRole
            )
        found = (
            [o.choice for o in self.options].index(kept)
            if kept in [o.choice for o in self.options]
            else 0
        )
        self.baseline.setCurrentIndex(found if self.options else -1)
        self.baseline.blockSignals(False)
        self.others.blockSignals(True)
        self.others.clear()
        for option in self.options:
            item = QListWidgetItem(option.label)
            item.setToolTip(option.detail)
            item.setCheckState(
                Qt.CheckState.Checked if option.choice in picked else Qt.CheckState.Unchecked
            )
            self.others.addItem(item)
        self.others.blockSignals(False)
        self._baseline_changed()
        current = self.split.currentData()
        self.split.clear()
        for name, count in choices["splits"].items():
            self.split.addItem(f"{name} ({count:,})", name)
        self.split.setCurrentIndex(max(self.split.findData(current or "eval"), 0))
        if choices["temperature"]:
            self.temperature.setValue(float(choices["temperature"]))
        judge = self.judge.currentData()
        self.judge.clear()
        self.judge.addItem("none", None)
        for name in choices.get("judges", []):
            self.judge.addItem(name, name)
        self.judge.setCurrentIndex(max(self.judge.findData(judge), 0))
        reward_model = self.reward_model.currentData()
        self.reward_model.clear()
        self.reward_model.addItem("none", None)
        for checkpoint_id, label in choices.get("reward_models", []):
            self.reward_model.addItem(label, checkpoint_id)
        self.reward_model.setCurrentIndex(max(self.reward_model.findData(reward_model), 0))
        self._update_button()

    def picked_others(self) -> list[EntrantOption]:
        return [
            option
            for index, option in enumerate(self.options)
            if index < self.others.count()
            and self.others.item(index).checkState() == Qt.CheckState.Checked
            and index != self.baseline.currentIndex()
        ]

    def pick(self, baseline: int, others: list[int]) -> None:
        """Select the baseline and the others by their place in the list (as a user would)."""
        self.baseline.setCurrentIndex(baseline)
        for index in others:
            self.others.item(index).setCheckState(Qt.CheckState.Checked)

    @Slot()
    def _baseline_changed(self) -> None:
        baseline = self.baseline.currentIndex()
        self.others.blockSignals(True)
        for index in range(self.others.count()):
            item = self.others.item(index)
            flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable
            if index == baseline:  # the baseline is never its own competitor
                item.setCheckState(Qt.CheckState.Unchecked)
                flags = Qt.ItemFlag.NoItemFlags
            item.setFlags(flags)
        self.others.blockSignals(False)
        self._update_button()

    @Slot(QListWidgetItem)
    def _other_checked(self, item: QListWidgetItem) -> None:
        if len(self.picked_others()) > MAX_OTHER_ENTRANTS:
            self.others.blockSignals(True)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.others.blockSignals(False)
            self._say(
                f"A comparison takes at most {MAX_OTHER_ENTRANTS} models besides the baseline.", BAD
            )
        self._update_button()

    @Slot()
    def _decoding_changed(self) -> None:
        sampled = self.decoding.currentText() == SAMPLED
        self.seeds.setEnabled(sampled)
        self.temperature.setEnabled(sampled)

    def _blocker(self) -> str | None:
        if not self.options:
            return "Loading…"
        if self.split.count() == 0:
            return "The project has no prompts: import some in the Data view."
        return None

    def _update_button(self) -> None:
        blocker = self._blocker()
        self.compare_button.setEnabled(blocker is None and not self.running)
        others = len(self.picked_others())
        self.compare_button.setToolTip(
            blocker
            or f"Answer the prompts with the baseline and {others} other model(s), score them "
            "with the project's rules; what is stored already is not generated again"
        )

    # Comparing -------------------------------------------------------------------------
    def request(self) -> tuple[list, PromptSet, Decoding, str]:
        """The entrant choices (baseline first), prompts, decoding and a name."""
        entrants = [self.options[self.baseline.currentIndex()], *self.picked_others()]
        prompt_set = PromptSet(split=self.split.currentData(), limit=self.limit.value())
        if self.decoding.currentText() == GREEDY:
            decoding = Decoding()
        else:
            decoding = Decoding(False, self.seeds.value(), self.temperature.value())
        name = " vs ".join(option.label for option in entrants)
        return [option.choice for option in entrants], prompt_set, decoding, name

    @Slot()
    def compare(self) -> None:
        if self.running or self._blocker() is not None:
            return
        self._set_running(True)
        self.cancel_button.setEnabled(False)
        self._say("Preparing the comparison…", MUTED)
        self.session.runner.call(
            prepare_comparison,
            *self.request(),
            self.reward_model.currentData(),
            on_done=self._prepared,
            on_error=self._prepare_failed,
        )

    def _prepared(self, info: dict[str, Any]) -> None:
        self.comparison_id = info["comparison_id"]
        judge = self.judge.currentData()
        if info["missing"] == 0 and judge is None:
            self._set_running(False)
            self._say(
                f"Comparison #{self.comparison_id} is stored complete: shown without generating.",
                OK,
            )
            self.ready.emit(self.comparison_id)
            return
        params: dict[str, Any] = {"comparison_id": self.comparison_id}
        if judge is not None:
            params["judge"] = judge
        if self.reward_model.currentData() is not None:
            params["reward_model"] = self.reward_model.currentData()
        self._submit("compare", params)

    def _prepare_failed(self, error) -> None:
        self._set_running(False)
        self._say(explain(error).what, BAD)

    def _set_running(self, running: bool) -> None:
        self.running = running
        self.progress.setVisible(running)
        self.cancel_button.setVisible(running)
        self.cancel_button.setEnabled(running)
        if running:
            self._started = time.monotonic()
            self.progress.setRange(0, 0)  # busy until the job reports its completions
        self._update_button()

    def _finish(self, job: JobState) -> None:
        self.job_id = None
        self._set_running(False)
        seconds = time.monotonic() - self._started
        result = job.result or {}
        if job.status == "done":
            judged = result.get("judge")
            by_judge = (
                f" The judge compared {judged['judged']} pair(s) with the baseline"
                + (f"; {judged['errors']} judgement(s) failed." if judged["errors"] else ".")
                if judged
                else ""
            )
            rewarded = result.get("reward") or {}
            by_reward_model = (
                f" The reward model scored {rewarded['scored']} answer(s)."
                if rewarded.get("scored")
                else ""
            )
            self._say(
                f"Done in {seconds:.0f} s: {result.get('generated', 0)} completion(s) "
                f"generated, {result.get('scored', 0)} scored.{by_judge}{by_reward_model}",
                OK,
            )
        elif job.status == "cancelled":
            self._say("Cancelled; the grid shows the batches finished before that.", MUTED)
        else:
            self._say(
                f"The comparison failed: {job.error or 'no reason was recorded'} "
                "(Worker › Show log has the details).",
                BAD,
            )
            return
        if self.comparison_id is not None:
            self.ready.emit(self.comparison_id)
