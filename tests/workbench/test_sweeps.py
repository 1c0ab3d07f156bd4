"""Sweeps: a grid parsed from --grid, every point validated before anything is stored,
one queued train job per point, and a sweep's runs with their final pass rates."""

from __future__ import annotations

import json

import pytest

from engine.errors import SettingsError
from tests.workbench.train_helpers import FAST, labelled_demo
from workbench.cli import main
from workbench.jobs import queue as jobs
from workbench.project import Project
from workbench.training.config import project_defaults
from workbench.training.sweeps import get_sweep, parse_grid, queue_sweep


def test_grid_values_are_read_like_set_values():
    grid = parse_grid(["beta=0.1, 0.5,1", "loss_type=sigmoid,ipo"])
    assert grid == {"beta": [0.1, 0.5, 1], "loss_type": ["sigmoid", "ipo"]}


@pytest.mark.parametrize(
    ("items", "said"),
    [
        (["beta"], "setting=value"),
        (["beta="], "setting=value"),
        (["beta=0.1", "beta=0.2"], "given twice"),
        (["beta=0.1,0.1"], "twice"),
        (["beta=0.1", "seed=1,2", "learning_rate=1e-3"], "at most 2"),
        ([], "at least one"),
    ],
)
def test_bad_grids_are_explained(items, said):
    with pytest.raises(SettingsError, match=said):
        parse_grid(items)


def test_queue_sweep_queues_one_job_per_point_over_the_project_defaults(tmp_path):
    project = labelled_demo(tmp_path / "p")
    grid = parse_grid(["beta=0.1,0.5", "learning_rate=5e-4,1e-3"])
    sweep_id, job_ids = queue_sweep(
        project, {"algorithm": "dpo", "max_steps": 7}, grid, project_defaults(project)
    )
    assert len(job_ids) == 4
    configs = [jobs.get(project, j).params for j in job_ids]
    points = [(p["config"]["beta"], p["config"]["learning_rate"]) for p in configs]
    assert points == [(0.1, 5e-4), (0.1, 1e-3), (0.5, 5e-4), (0.5, 1e-3)]
    assert all(p["sweep_id"] == sweep_id and p["config"]["max_steps"] == 7 for p in configs)
    assert all(p["config"]["rpo_alpha"] == 1.0 for p in configs)  # the demo's defaults kept
    sweep = get_sweep(project, sweep_id)
    assert [r.status for r in sweep.runs] == ["queued"] * 4
    assert sweep.runs[1].point == {"beta": 0.1, "learning_rate": 1e-3}


def test_a_bad_point_stores_nothing(tmp_path):
    project = labelled_demo(tmp_path / "p")
    grid = parse_grid(["beta=0.1,-1"])
    with pytest.raises(SettingsError, match="beta=-1"):
        queue_sweep(project, {"algorithm": "dpo"}, grid, {})
    assert project.db.execute("SELECT COUNT(*) FROM sweeps").fetchone()[0] == 0
    assert project.db.execute("SELECT COUNT(*) FROM jobs").fetchone()[0] == 0


def test_sweep_now_runs_each_point_and_reports_its_runs(tmp_path, capsys):
    labelled_demo(tmp_path / "p", prompts=16, eval_prompts=8).close()
    argv = ["sweep", str(tmp_path / "p"), "--grid", "beta=0.5,1.0", "--now", "--json"]
    for item in [*FAST, "max_steps=2", "samples_per_eval=8"]:
        argv += ["--set", item]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert [r["point"] for r in out["runs"]] == [{"beta": 0.5}, {"beta": 1.0}]
    assert all(r["status"] == "done" and r["checkpoint_id"] for r in out["runs"])
    assert all(set(r["pass_rate"]) == {"format", "answer"} for r in out["runs"])
    assert out["best"]["rule"] == "answer"
    assert out["best"]["run_id"] in {r["run_id"] for r in out["runs"]}
    project = Project.open(tmp_path / "p")
    stored = project.db.execute("SELECT sweep_id, sweep_point FROM runs ORDER BY id").fetchall()
    assert [(s, json.loads(p)) for s, p in stored] == [
        (out["sweep_id"], {"beta": 0.5}),
        (out["sweep_id"], {"beta": 1.0}),
    ]
    assert main(["sweeps", str(tmp_path / "p"), "--sweep", "99", "--json"]) != 0
    assert "no sweep 99" in json.loads(capsys.readouterr().out)["error"]


def test_sweep_command_queues_and_sweeps_lists(tmp_path, capsys):
    labelled_demo(tmp_path / "p").close()
    argv = ["sweep", str(tmp_path / "p"), "--grid", "seed=1,2,3", "--name", "seeds", "--json"]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["runs"] == 3 and len(out["job_ids"]) == 3
    assert main(["sweeps", str(tmp_path / "p"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["sweeps"] == [
        {"id": out["sweep_id"], "name": "seeds"}
    ]
    assert main(["sweep", str(tmp_path / "p"), "--grid", "seed", "--json"]) != 0
    assert "setting=value" in json.loads(capsys.readouterr().out)["error"]
