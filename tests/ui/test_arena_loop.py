"""The whole loop in the window: a DPO checkpoint trained on the demo, compared with the
base model from the Compare view (the test plays the worker for the compare job), the
grid's verdict filters, a blind vote by key in the Arena stored as a label linked to both
writers, and the run that Next round launches training on that vote."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt

from engine.demo import DEMO_MODEL_NAME
from tests.ui.test_arena_view import press, rows
from tests.ui.test_compare_view import open_compare, place, run_claimed_job
from tests.workbench.train_helpers import FAST, labelled_demo
from workbench.cli import main
from workbench.jobs import queue as jobs
from workbench.jobs.worker import Worker
from workbench.project import Project

CLICK = Qt.MouseButton.LeftButton
VERDICTS = ("improved", "regressed", "unchanged", "all-fail")


@pytest.fixture
def trained(tmp_path, capsys):
    """The demo with rule labels and a 4-step DPO run named "round one"."""
    path = tmp_path / "p"
    labelled_demo(path).close()
    argv = ["train", str(path), "--json", "--set", "name=round one"]
    for item in FAST:
        argv += ["--set", item]
    assert main(argv) == 0, capsys.readouterr().out
    out = json.loads(capsys.readouterr().out)
    return Project.open(path), out["checkpoint_id"]


@pytest.mark.slow
def test_compare_vote_and_next_round_close_the_loop(open_window, qtbot, trained):
    project, checkpoint_id = trained
    window, view, worker_id = open_compare(open_window, qtbot, project)
    setup = view.setup
    setup.pick(place(view, f"base: {DEMO_MODEL_NAME}"), [place(view, "round one · step 4")])
    setup.split.setCurrentIndex(setup.split.findData("train"))
    setup.decoding.setCurrentText("Sampled")  # two seeds: answers that differ to vote on
    setup.seeds.setValue(2)
    setup.limit.setValue(6)
    qtbot.waitUntil(lambda: setup.compare_button.isEnabled())
    qtbot.mouseClick(setup.compare_button, CLICK)
    qtbot.waitUntil(lambda: setup.job_id is not None)
    run_claimed_job(project, worker_id, setup.job_id)
    qtbot.waitUntil(lambda: view.model.rowCount() == 6, timeout=30000)

    # The verdict filters split the rows: each shows only its own, together all of them.
    shown = 0
    for verdict in VERDICTS:
        view.filters.set_verdict(verdict)
        picked = view.shown_rows()
        assert all(row["entrants"][1]["verdict"] == verdict for row in picked)
        shown += len(picked)
    assert shown == 6
    view.filters.set_verdict("all")
    assert len(view.shown_rows()) == 6

    arena = window.show_view("Arena")
    window.activateWindow()
    qtbot.waitUntil(lambda: arena.arena is not None and not arena.busy, timeout=10000)
    battle = arena.arena
    assert {battle.left.checkpoint_id, battle.right.checkpoint_id} == {None, checkpoint_id}
    press(qtbot, arena, Qt.Key.Key_1)
    label_id, completion_ids = rows(
        project.path, "SELECT id, completion_ids FROM comparisons WHERE source = 'human'"
    )[0]
    writers = dict(
        rows(
            project.path,
            "SELECT id, checkpoint_id FROM completions WHERE id IN "
            f"(SELECT value FROM json_each('{completion_ids}'))",
        )
    )
    assert [writers[i] for i in json.loads(completion_ids)] == [
        battle.left.checkpoint_id,
        battle.right.checkpoint_id,
    ]
    for _ in range(4):  # a few more, so that some stay in training when a share is held out
        press(qtbot, arena, Qt.Key.Key_2)

    qtbot.mouseClick(arena.round.plan_button, CLICK)
    qtbot.waitUntil(lambda: arena.round.plan is not None, timeout=10000)
    plan = arena.round.plan
    assert plan.counts["train"]["pairs"] > 0, plan.counts
    qtbot.mouseClick(arena.round.start_button, CLICK)
    qtbot.waitUntil(lambda: "queued" in arena.round.text.text(), timeout=10000)
    job = rows(project.path, "SELECT id FROM jobs WHERE kind = 'train' AND status = 'queued'")
    assert len(job) == 1
    worker = Worker(project)
    try:
        assert worker.run(once=True) == 1
    finally:
        worker.close()
    done = jobs.get(project, job[0][0])
    assert done.status == "done", done.error
    run = project.db.execute(
        "SELECT dataset, parent_checkpoint_id FROM runs ORDER BY id DESC LIMIT 1"
    ).fetchone()
    dataset = json.loads(run[0])
    assert label_id in dataset["train"]["comparison_ids"] + dataset["eval"]["comparison_ids"]
    assert run[1] == plan.checkpoint_id
    project.close()
