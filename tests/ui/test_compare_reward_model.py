"""The Compare view's reward model: the setup lists the project's reward checkpoints (none
picked by default); with one picked, the compare job scores every answer with it, each
cell shows that reward and its difference from the baseline's, and the header its mean."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from engine.demo import DEMO_MODEL_NAME
from tests.ui.test_compare_view import beating, open_compare, place
from tests.workbench.test_compare_reward_model import _direct_scores
from tests.workbench.test_train_cli import train_json
from tests.workbench.train_helpers import labelled_demo
from workbench.comparing.store import load
from workbench.data.models import add_model
from workbench.jobs import queue as jobs
from workbench.jobs.worker import Worker
from workbench.project import Project

CLICK = Qt.MouseButton.LeftButton


@pytest.fixture
def rewarded(tmp_path, capsys):
    """The labelled demo, a reward model trained on it, and a second record of its model."""
    labelled_demo(tmp_path / "p", prompts=12).close()
    code, out = train_json(
        capsys, tmp_path / "p", "algorithm=reward", "max_steps=2", "checkpoint_every=0"
    )
    assert code == 0 and out["checkpoint_id"] is not None, out
    project = Project.open(tmp_path / "p")
    add_model(project, "demo copy", "demo", DEMO_MODEL_NAME)
    yield project, out["checkpoint_id"]
    project.close()


def run_claimed_job(project: Project, worker_id: int, job_id: int) -> None:
    """The worker's part: the view's compare job claimed and run by its real handler."""
    with beating(project, worker_id):
        job = jobs.claim_next(project, worker_id)
        assert job is not None and job.id == job_id and job.kind == "compare"
        worker = Worker(project)
        try:
            worker.execute(job)
        finally:
            worker.close()


def test_a_picked_reward_model_scores_the_cells_and_heads_the_columns(open_window, qtbot, rewarded):
    project, reward_model = rewarded
    window, view, worker_id = open_compare(open_window, qtbot, project)
    setup = view.setup
    assert setup.reward_model.currentData() is None  # none by default
    offered = [setup.reward_model.itemData(i) for i in range(setup.reward_model.count())]
    assert offered == [None, reward_model]
    assert "step 2" in setup.reward_model.itemText(1)

    setup.pick(place(view, f"base: {DEMO_MODEL_NAME}"), [place(view, "base: demo copy")])
    setup.split.setCurrentIndex(setup.split.findData("eval"))
    setup.limit.setValue(3)
    setup.reward_model.setCurrentIndex(setup.reward_model.findData(reward_model))
    qtbot.waitUntil(lambda: setup.compare_button.isEnabled())
    qtbot.mouseClick(setup.compare_button, CLICK)
    qtbot.waitUntil(lambda: setup.job_id is not None)
    assert jobs.get(project, setup.job_id).params["reward_model"] == reward_model
    run_claimed_job(project, worker_id, setup.job_id)
    qtbot.waitUntil(lambda: view.model.rowCount() == 3, timeout=20000)
    assert "The reward model scored 6 answer(s)" in setup.status.text()

    comparison = load(project, view.result["comparison_id"])
    texts = [row["entrants"][0]["answers"][0]["text"] for row in view.model.rows]
    direct = _direct_scores(project, reward_model, comparison.prompt_ids, texts)
    for number, (row, score) in enumerate(zip(view.model.rows, direct, strict=True)):
        assert row["entrants"][0]["reward"] == pytest.approx(score, abs=1e-5)
        assert f"· {score:.2f} ·" in view.model.data(view.model.index(number, 1))
    other = view.model.rows[0]["entrants"][1]
    shown = view.model.data(view.model.index(0, 2))
    assert f"{other['reward']:.2f} ({other['reward_delta']:+.2f})" in shown
    mean = view.result["models"][0]["mean_reward"]
    assert mean == pytest.approx(sum(direct) / len(direct), abs=1e-5)
    header = view.model.headerData(1, Qt.Orientation.Horizontal)
    assert f"reward model {mean:.2f}" in header
    tip = view.model.headerData(1, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole)
    assert f"checkpoint {reward_model}" in tip
