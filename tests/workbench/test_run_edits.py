"""Renaming, tagging, noting and deleting a run (workbench/training/run_edits.py) and
`workbench runs PROJECT rename|tag|note|delete|log RUN_ID`: clear refusals, nothing partial."""

from __future__ import annotations

import json

import pytest

from workbench.cli import main
from workbench.data.completions import CompletionRecord, add_completions
from workbench.project import Project
from workbench.training import runs
from workbench.training.run_edits import (
    add_tags,
    delete_run,
    plan_deletion,
    rename,
    set_note,
    set_tags,
    tags_of,
)


@pytest.fixture
def project(tmp_path):
    project = Project.create(tmp_path / "p")
    yield project
    project.close()


def ended_run(project, status="done", with_checkpoint=True) -> int:
    run_id = runs.create_run(
        project,
        algorithm="dpo",
        config={},
        dataset={},
        dataset_hash="h",
        model_id=None,
        parent_checkpoint_id=None,
        job_id=None,
        name="first",
        max_steps=10,
    )
    runs.record_metrics(project, run_id, 1, {"loss": 1.0, "kl": 0.1})
    runs.log(project, run_id, "hello")
    if with_checkpoint:
        folder = project.runs_dir / str(run_id) / "checkpoints" / "step-10"
        folder.mkdir(parents=True)
        (folder / "adapter_model.safetensors").write_bytes(b"x" * 2048)
        runs.add_checkpoint(project, run_id, 10, folder, {})
    runs.end_run(project, run_id, status)
    return run_id


def json_out(capsys, args: list[str]) -> tuple[int, dict]:
    code = main(args)
    return code, json.loads(capsys.readouterr().out)


def test_rename_tags_and_note(project):
    run_id = ended_run(project)
    assert rename(project, run_id, "  dpo   beta 0.1 ") == "dpo beta 0.1"
    assert runs.get_run(project, run_id).name == "dpo beta 0.1"
    with pytest.raises(ValueError, match="not empty"):
        rename(project, run_id, "   ")
    assert set_tags(project, run_id, ["best", " baseline ", "best", ""]) == ["best", "baseline"]
    assert add_tags(project, run_id, ["sweep"], ["best"]) == ["baseline", "sweep"]
    assert tags_of(project, run_id) == ["baseline", "sweep"]
    with pytest.raises(ValueError, match="comma"):
        set_tags(project, run_id, ["a,b"])
    assert tags_of(project, run_id) == ["baseline", "sweep"]  # a refused edit stores nothing
    assert set_note(project, run_id, " lr too high? ") == "lr too high?"
    assert set_note(project, run_id, "  ") is None
    with pytest.raises(ValueError, match="no run 99"):
        rename(project, 99, "x")


def test_delete_removes_the_rows_and_the_folder(project):
    keep = ended_run(project)
    run_id = ended_run(project, status="failed")
    deletion = plan_deletion(project, run_id)
    assert deletion.rows == {"metrics": 2, "samples": 0, "run_logs": 1, "checkpoints": 1}
    assert "2 metric values" in deletion.text() and "1 checkpoint" in deletion.text()
    delete_run(project, run_id)
    assert [r.id for r in runs.list_runs(project)] == [keep]
    for table in ("metrics", "run_logs", "checkpoints"):
        count = project.db.execute(
            f"SELECT COUNT(*) FROM {table} WHERE run_id = ?", [run_id]
        ).fetchone()[0]
        assert count == 0
    assert not (project.runs_dir / str(run_id)).exists()
    assert (project.runs_dir / str(keep)).is_dir()


def test_a_running_run_cannot_be_deleted(project):
    run_id = runs.create_run(
        project,
        algorithm="dpo",
        config={},
        dataset={},
        dataset_hash="h",
        model_id=None,
        parent_checkpoint_id=None,
        job_id=None,
        name="live",
        max_steps=10,
    )
    runs.update_run(project, run_id, status="paused")
    with pytest.raises(ValueError, match="paused: stop it first"):
        delete_run(project, run_id)
    assert runs.get_run(project, run_id).status == "paused"


def test_a_run_whose_checkpoint_made_completions_is_kept(project):
    run_id = ended_run(project)
    checkpoint_id = runs.checkpoint_rows(project, run_id)[0]["id"]
    prompt_id = (
        project.db.table("prompts")
        .insert({"text": "2+2?", "split": "train", "created_at": 0.0})
        .last_pk
    )
    add_completions(project, [CompletionRecord(prompt_id, "4", checkpoint_id=checkpoint_id)])
    with pytest.raises(ValueError, match="completions"):
        delete_run(project, run_id)
    assert (project.runs_dir / str(run_id)).is_dir()
    assert runs.get_run(project, run_id).status == "done"


def test_the_cli_edits_and_deletes_with_json(project, capsys):
    run_id = ended_run(project)
    path = str(project.path)
    code, out = json_out(capsys, ["runs", path, "rename", str(run_id), "baseline", "--json"])
    assert code == 0 and out["name"] == "baseline"
    code, out = json_out(capsys, ["runs", path, "tag", str(run_id), "a", "b", "--json"])
    assert code == 0 and out["tags"] == ["a", "b"]
    code, out = json_out(capsys, ["runs", path, "tag", str(run_id), "--remove", "a", "--json"])
    assert out["tags"] == ["b"]
    code, out = json_out(capsys, ["runs", path, "note", str(run_id), "keep this", "--json"])
    assert code == 0 and out["note"] == "keep this"
    code, out = json_out(capsys, ["runs", path, "--json"])
    listed = out["runs"][0]
    assert listed["name"] == "baseline" and listed["tags"] == ["b"]
    assert listed["note"] == "keep this"

    code, out = json_out(capsys, ["runs", path, "delete", str(run_id), "--json"])
    assert code == 1 and out["deleted"] is False and out["rows"]["checkpoints"] == 1
    assert runs.list_runs(project)  # without --yes nothing goes
    code, out = json_out(capsys, ["runs", path, "delete", str(run_id), "--yes", "--json"])
    assert code == 0 and out["deleted"] is True
    assert runs.list_runs(project) == []
    code, out = json_out(capsys, ["runs", path, "rename", str(run_id), "x", "--json"])
    assert code == 1 and out["ok"] is False and f"no run {run_id}" in out["error"]


def test_the_cli_prints_a_runs_log(project, capsys):
    run_id = ended_run(project)
    runs.log(project, run_id, "CPU threads: 1 (a model under 10 M parameters runs fastest on one)")
    code, out = json_out(capsys, ["runs", str(project.path), "log", str(run_id), "--json"])
    assert code == 0
    assert [line["message"] for line in out["log"]] == [
        "hello",
        "CPU threads: 1 (a model under 10 M parameters runs fastest on one)",
    ]
    assert main(["runs", str(project.path), "log", str(run_id)]) == 0
    assert (
        capsys.readouterr()
        .out.splitlines()[1]
        .endswith("CPU threads: 1 (a model under 10 M parameters runs fastest on one)")
    )
    code, out = json_out(capsys, ["runs", str(project.path), "log", "999", "--json"])
    assert code == 1 and "no run 999" in out["error"]
