"""The blind arena: two answers to the same prompt by two models of a stored comparison,
sides drawn at random and names hidden until the vote; the Label view's keys (1/←, 2/→,
T, B, S, Undo). Each vote is stored as a preference label and an arena battle
(workbench/arena/voting.py), the ratings on the right follow, an AI judge can play too
(its votes kept apart), and Next round starts a DPO run from the winner.

All database work runs on the session's database thread, in order; the keys are ignored
while a vote is being stored, so one key press is one vote."""

from __future__ import annotations

import functools
import time
from typing import Any

from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ui.fitted_scroll import FittedScrollArea
from ui.messages import explain
from ui.session import ProjectSession
from ui.style import BAD, MUTED, OK, say
from ui.views.arena.judge_play import JudgePlay
from ui.views.arena.next_round_panel import NextRoundPanel
from ui.views.arena.ratings_panel import RatingsPanel
from ui.views.arena.reads import arena_choices
from ui.views.common.label_keys import add_shortcuts
from ui.views.label.pair_panel import UNDO_KEYS, LabelPairPanel
from ui.widgets import view_header
from workbench.arena import voting
from workbench.arena.board import arena_board
from workbench.arena.next_round import NextRound, check_startable, plan_next_round
from workbench.arena.voting import ArenaSitting, ArenaTask, NothingToUndo, Vote

BOOTSTRAP_ROUNDS = 1000
SAID = {"a": "left better", "b": "right better", "tie": "tie", "both_bad": "both bad"}
EMPTY = (
    "Nothing to vote on here: every pair of differing answers of this comparison has your "
    "vote (or was skipped). Pick another comparison, or make one in the Compare view."
)
NO_COMPARISON = (
    "The arena draws its battles from a stored comparison of two models or more. Make one "
    "in the Compare view, then come back."
)


class ArenaView(QWidget):
    def __init__(self, session: ProjectSession, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.sitting = ArenaSitting()  # touched only through session.runner
        self.arena: ArenaTask | None = None
        self.busy = False
        self._shown_at = 0.0
        self.comparison = QComboBox()
        self.comparison.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.pair = LabelPairPanel()
        self.empty = QLabel(NO_COMPARISON, wordWrap=True, alignment=Qt.AlignmentFlag.AlignCenter)
        self.empty.setStyleSheet(f"color: {MUTED}; font-size: 12pt;")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.pair)
        self.reveal = QLabel("", wordWrap=True)
        self.reveal.setTextFormat(Qt.TextFormat.PlainText)
        self.reveal.hide()
        self.ratings = RatingsPanel()
        self.judge = JudgePlay(session)
        self.round = NextRoundPanel()
        self.status = QLabel("", wordWrap=True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self._layout()
        self._connect()
        self.reload()

    def _layout(self) -> None:
        header, _, _ = view_header(
            "Arena",
            "Two answers to the same prompt by two models, sides drawn at random; who wrote "
            "which is shown after your vote. Each vote is a label the next DPO run trains on.",
        )
        picker = QHBoxLayout()
        picker.addWidget(QLabel("Battles from"))
        picker.addWidget(self.comparison, 1)
        voting = QWidget()  # the full width: the answer buttons say their keys
        voting_layout = QVBoxLayout(voting)
        voting_layout.setContentsMargins(0, 0, 0, 6)
        voting_layout.addLayout(picker)
        voting_layout.addWidget(self.stack, 1)
        voting_layout.addWidget(self.reveal)
        actions = QVBoxLayout()
        for title, widget in (("AI judge", self.judge), ("Iterative DPO", self.round)):
            box = QGroupBox(title)
            QVBoxLayout(box).addWidget(widget)
            actions.addWidget(box)
        actions.addStretch(1)
        below = QWidget()
        below_layout = QHBoxLayout(below)
        below_layout.setContentsMargins(0, 6, 0, 0)
        below_layout.addWidget(self.ratings, 3)
        below_layout.addLayout(actions, 2)
        # The ratings and actions take the height they ask for and scroll when the window
        # is short: the answers above keep a few lines (at 1280x720 they were squeezed to
        # nothing); a taller window gives the answers the extra room.
        self.below = FittedScrollArea(below)
        self.below.contentResized.connect(self._fit_ratings_later)
        self.splitter = splitter = QSplitter(Qt.Orientation.Vertical, childrenCollapsible=False)
        splitter.addWidget(voting)
        splitter.addWidget(self.below)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 0)
        splitter.splitterMoved.connect(self._sized_by_hand)
        self._hand_sized = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 16)
        layout.addWidget(header)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.status)

    def _connect(self) -> None:
        self.comparison.currentIndexChanged.connect(self._comparison_changed)
        self.pair.answered.connect(self.vote)
        self.pair.skipped.connect(self.skip)
        self.pair.undoRequested.connect(self.undo)
        add_shortcuts(self, UNDO_KEYS, self.undo)
        self.ratings.sourceChanged.connect(lambda _s: self.refresh_ratings())
        self.judge.finished.connect(self.refresh_ratings)
        self.round.planRequested.connect(self.plan_round)
        self.round.startRequested.connect(self.start_round)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit_ratings_later()

    def _fit_ratings_later(self) -> None:
        QTimer.singleShot(0, self, self._fit_ratings)  # once the layout has settled

    def _fit_ratings(self) -> None:
        """The ratings as tall as they ask, the answers above them never below their
        minimum; until the user drags the divider."""
        if self._hand_sized:
            return
        total = sum(self.splitter.sizes())
        voting = self.splitter.widget(0).minimumSizeHint().height()
        below = min(self.below.content_height(), max(total - voting, 0))
        if total > 0 and self.splitter.sizes()[1] != below:
            self.splitter.setSizes([total - below, below])

    @Slot()
    def _sized_by_hand(self, *_args) -> None:
        self._hand_sized = True

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.reload()  # comparisons and judges may have been added since

    # Loading ---------------------------------------------------------------------------
    def reload(self) -> None:
        self._call(arena_choices, on_done=self._fill_choices)
        self.refresh_ratings()

    def _fill_choices(self, choices: dict[str, Any]) -> None:
        self.judge.set_judges(choices["judges"])
        current = self.comparison_id()
        self.comparison.blockSignals(True)
        self.comparison.clear()
        for item in choices["comparisons"]:
            self.comparison.addItem(item["label"], item["id"])
        index = self.comparison.findData(current)
        self.comparison.setCurrentIndex(max(index, 0) if self.comparison.count() else -1)
        self.comparison.blockSignals(False)
        if self.comparison_id() != current or self.arena is None:
            self._comparison_changed()

    def comparison_id(self) -> int | None:
        return self.comparison.currentData()

    @Slot()
    def _comparison_changed(self, *_args) -> None:
        comparison_id = self.comparison_id()
        self.judge.set_comparison(comparison_id)
        if comparison_id is None:
            self.arena = None
            self.empty.setText(NO_COMPARISON)
            self.stack.setCurrentWidget(self.empty)
            return
        self.serve()

    def serve(self) -> None:
        comparison_id = self.comparison_id()
        if comparison_id is None:
            return
        self.busy = True
        self.arena = None
        self._call(voting.next_battle, self.sitting, comparison_id, on_done=self._served)

    def _served(self, arena: ArenaTask | None) -> None:
        self.busy = False
        self.arena = arena
        if arena is None:
            self.empty.setText(EMPTY)
            self.stack.setCurrentWidget(self.empty)
            return
        self.pair.show_task(arena.task)
        self.stack.setCurrentWidget(self.pair)
        self._shown_at = time.monotonic()
        self.pair.setFocus()

    def refresh_ratings(self) -> None:
        self._call(
            arena_board, self.ratings.current_source(), BOOTSTRAP_ROUNDS, on_done=self._rated
        )

    def _rated(self, board: dict[str, Any]) -> None:
        self.ratings.show_board(board)

    # Votes -----------------------------------------------------------------------------
    def _ready(self) -> bool:
        return self.arena is not None and not self.busy and self.isVisible()

    @Slot(str)
    def vote(self, outcome: str) -> None:
        if not self._ready():
            return
        self.busy = True
        note = self.pair.note.take()
        self.session.runner.call(
            functools.partial(voting.record_vote, note=note or None),
            self.sitting,
            self.arena,
            outcome,
            time.monotonic() - self._shown_at,
            on_done=functools.partial(self._voted, outcome),
            on_error=functools.partial(self._not_voted, note),
        )

    def _voted(self, outcome: str, vote: Vote) -> None:
        self.reveal.setText(f"You voted {SAID[outcome]}. {voting.reveal(vote)}")
        self.reveal.setStyleSheet(f"color: {OK};")
        self.reveal.show()
        self._say("Stored as a preference label. Undo with Ctrl+Z or U.", MUTED)
        self.serve()
        self.refresh_ratings()

    def _not_voted(self, note: str, error) -> None:
        self.pair.note.setText(note)
        self._failed(error)

    @Slot()
    def skip(self) -> None:
        if not self._ready():
            return
        self.busy = True
        self.reveal.setText("")
        self.reveal.hide()  # its line goes to the answers until the next vote
        self._say("Skipped; that pair is not shown again in this sitting.", MUTED)
        self._call(voting.skip, self.sitting, self.arena, on_done=lambda _r: self.serve())

    @Slot()
    def undo(self) -> None:
        if self.busy or not self.isVisible():
            return
        self.busy = True
        self._call(voting.undo_vote, self.sitting, on_done=self._undone)

    def _undone(self, arena: ArenaTask) -> None:
        self.reveal.setText("")
        self.reveal.hide()  # its line goes to the answers until the next vote
        self._say("Undone: that vote and its label are deleted. Vote again, or skip.", MUTED)
        if arena.comparison_id != self.comparison_id():
            index = self.comparison.findData(arena.comparison_id)
            self.comparison.blockSignals(True)
            self.comparison.setCurrentIndex(index)
            self.comparison.blockSignals(False)
        self._served(arena)
        self.refresh_ratings()

    # The next round --------------------------------------------------------------------
    @Slot()
    def plan_round(self) -> None:
        self.round.show_message("Planning the next round…")
        self.session.runner.call(
            plan_next_round,
            self.ratings.current_source(),
            on_done=self.round.show_plan,
            on_error=lambda error: self.round.show_message(explain(error).what),
        )

    @Slot()
    def start_round(self) -> None:
        plan: NextRound | None = self.round.plan
        if plan is None:
            return
        try:
            check_startable(plan)
        except ValueError as error:
            self.round.show_message(str(error))
            return
        self.round.start_button.setEnabled(False)
        self.session.submit_job("train", {"config": plan.config}, self._round_started, self._failed)

    def _round_started(self, job_id: int) -> None:
        self.round.show_message(
            f"The next round is queued (job {job_id}); follow it in the Train view."
        )

    # Plumbing --------------------------------------------------------------------------
    def _call(self, fn, *args, on_done) -> None:
        self.session.runner.call(fn, *args, on_done=on_done, on_error=self._failed)

    def _failed(self, error) -> None:
        self.busy = False
        original = getattr(error, "original", error)
        if isinstance(original, NothingToUndo):
            self._say(str(original), MUTED)
        else:
            self._say(explain(error).what, BAD)

    def _say(self, text: str, color: str) -> None:
        say(self.status, text, color)
