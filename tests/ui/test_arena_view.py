"""The Arena view on a stored comparison of the demo base model and two checkpoints whose
answers are written directly: votes by key become labels linked to the checkpoints and
battles, the names show only after the vote, Undo and Skip, the ratings panel, and the
next round's plan."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from tests.workbench.arena_helpers import arena_comparison
from workbench.demo_project import build_demo_project
from workbench.project import Project

Key = Qt.Key


@pytest.fixture
def arena_demo(tmp_path):
    project = build_demo_project(tmp_path / "demo")
    comparison, checkpoints = arena_comparison(project, prompts=4, split="train")
    path = project.path
    project.close()
    return path, comparison.id, checkpoints


def rows(path, sql: str) -> list[tuple]:
    project = Project.open(path)
    try:
        return project.db.execute(sql).fetchall()
    finally:
        project.close()


def open_arena(open_window, qtbot, path):
    window = open_window(path)
    window.activateWindow()
    view = window.show_view("Arena")
    qtbot.waitUntil(lambda: view.arena is not None and not view.busy, timeout=10000)
    return window, view


def press(qtbot, view, key) -> None:
    qtbot.keyClick(QApplication.focusWidget() or view, key)
    qtbot.waitUntil(lambda: not view.busy, timeout=10000)


def test_a_vote_by_key_is_a_label_linked_to_both_checkpoints_and_names_show_after(
    open_window, qtbot, arena_demo
):
    path, comparison_id, checkpoints = arena_demo
    window, view = open_arena(open_window, qtbot, path)
    assert view.comparison.currentData() == comparison_id
    shown = view.arena
    # Blind: neither the panes nor the reveal line name a model before the vote.
    for label in (shown.left.label, shown.right.label):
        assert label not in view.pair.left.title.text() + view.pair.right.title.text()
    assert view.reveal.text() == ""

    press(qtbot, view, Key.Key_1)
    labels = rows(path, "SELECT id, completion_ids, outcome, source FROM comparisons")
    assert len(labels) == 1 and labels[0][2:] == ("a", "human")
    writers = rows(
        path,
        "SELECT c.checkpoint_id FROM comparisons l JOIN json_each(l.completion_ids) j "
        "JOIN completions c ON c.id = j.value ORDER BY j.key",
    )
    assert [w[0] for w in writers] == [shown.left.checkpoint_id, shown.right.checkpoint_id]
    battles = rows(
        path, "SELECT model_a, model_b, winner, source, comparison_id FROM arena_battles"
    )
    assert battles == [(shown.left.name, shown.right.name, "model_a", "human", labels[0][0])]
    assert shown.left.label in view.reveal.text() and shown.right.label in view.reveal.text()
    qtbot.waitUntil(lambda: view.ratings.table.rowCount() == 2)
    assert view.ratings.wins.rowCount() == 2 and "1 battle(s)" in view.ratings.summary.text()

    # Undo takes the vote and its label back, and shows the same pair again.
    press(qtbot, view, Key.Key_U)
    assert rows(path, "SELECT count(*) FROM comparisons") == [(0,)]
    assert rows(path, "SELECT count(*) FROM arena_battles") == [(0,)]
    assert view.arena == shown

    # Arrow keys, tie, both bad and skip, as in the Label view.
    outcomes = []
    for key, outcome in ((Key.Key_Right, "b"), (Key.Key_T, "tie"), (Key.Key_B, "both_bad")):
        press(qtbot, view, key)
        outcomes.append(outcome)
    before = view.arena
    press(qtbot, view, Key.Key_S)
    assert view.arena != before
    stored = rows(path, "SELECT outcome FROM comparisons ORDER BY id")
    assert [o[0] for o in stored] == outcomes
    assert rows(path, "SELECT winner FROM arena_battles ORDER BY id") == [
        ("model_b",),
        ("tie",),
        ("tie (bothbad)",),
    ]


def test_next_round_plans_from_the_winner_and_queues_a_dpo_run(open_window, qtbot, arena_demo):
    path, _, checkpoints = arena_demo
    window, view = open_arena(open_window, qtbot, path)
    for _ in range(6):
        press(qtbot, view, Key.Key_1)
    qtbot.mouseClick(view.round.plan_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.round.plan is not None, timeout=10000)
    plan = view.round.plan
    assert plan.winner.startswith("checkpoint-") or plan.winner == "base"
    assert "training pair(s)" in view.round.text.text()
    assert plan.winner_label in view.round.text.text()
    assert plan.counts["train"]["pairs"] > 0 and view.round.start_button.isEnabled()
    qtbot.mouseClick(view.round.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "queued" in view.round.text.text(), timeout=10000)
    queued = rows(path, "SELECT json_extract(params, '$.config') FROM jobs WHERE kind = 'train'")
    assert len(queued) == 1
    config = json.loads(queued[0][0])
    assert config["algorithm"] == "dpo"
    assert config.get("init_checkpoint") == plan.checkpoint_id
    assert config.get("labels_since") == plan.since
