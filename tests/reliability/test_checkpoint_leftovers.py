"""What a killed process leaves among a run's checkpoints is tidied at the next start of
training: `.tmp-step-*` folders are removed, a complete step folder renamed into place
without its database row is registered, a damaged one without a row removed, and a live
run's folders are left alone."""

from __future__ import annotations

from pathlib import Path

from engine.checkpoints import write_checkpoint
from tests.workbench.train_helpers import labelled_demo
from workbench.cli import main
from workbench.project import Project
from workbench.training import runs
from workbench.training.checkpoint_sweep import sweep_checkpoints


def _run(project: Project, status: str) -> int:
    run_id = runs.create_run(
        project,
        algorithm="dpo",
        config={},
        dataset={},
        dataset_hash="",
        model_id=None,
        parent_checkpoint_id=None,
        job_id=None,
        name="killed",
        max_steps=10,
    )
    runs.update_run(project, run_id, status=status)
    return run_id


def _checkpoint(folder: Path, step: int) -> tuple[Path, dict]:
    def write(tmp: Path) -> None:
        (tmp / "adapter_model.safetensors").write_bytes(bytes(range(256)) * step)

    dest = folder / f"step-{step}"
    return dest, write_checkpoint(dest, write, {"step": step, "kind": "training"})


def _leave_behind(project: Project, run_id: int) -> Path:
    """step-2 with its row; step-4 renamed into place, no row; a kill mid-checkpoint of
    step 6; step-8 damaged (its manifest lost) and without a row."""
    folder = project.runs_dir / str(run_id) / "checkpoints"
    path, manifest = _checkpoint(folder, 2)
    runs.add_checkpoint(project, run_id, 2, path, manifest)
    _checkpoint(folder, 4)
    tmp = folder / ".tmp-step-6-x1y2z3"
    tmp.mkdir()
    (tmp / "adapter_model.safetensors").write_bytes(b"half")
    damaged, _ = _checkpoint(folder, 8)
    (damaged / "manifest.json").unlink()
    return folder


def test_a_quiet_run_is_tidied_and_a_live_one_left_alone(tmp_path):
    project = Project.create(tmp_path / "p")
    failed, live = _run(project, "failed"), _run(project, "running")
    quiet_folder = _leave_behind(project, failed)
    live_folder = _leave_behind(project, live)

    report = sweep_checkpoints(project)

    assert sorted(p.name for p in quiet_folder.iterdir()) == ["step-2", "step-4"]
    assert [r["step"] for r in runs.checkpoint_rows(project, failed)] == [2, 4]
    assert [p.name for p in report.registered] == ["step-4"]
    assert [p.name for p in report.removed_tmp] == [".tmp-step-6-x1y2z3"]
    assert [p.name for p in report.removed_damaged] == ["step-8"]
    assert len(list(live_folder.iterdir())) == 4  # untouched: its process may be writing
    assert [r["step"] for r in runs.checkpoint_rows(project, live)] == [2]
    logs = [
        r[0] for r in project.db.execute("SELECT message FROM run_logs WHERE run_id = ?", [failed])
    ]
    assert "checkpoint folder step-4 registered" in logs
    assert sweep_checkpoints(project).registered == []  # a second look finds nothing to do


def test_the_next_training_start_tidies_what_a_kill_left(tmp_path, capsys):
    labelled_demo(tmp_path / "p", prompts=8).close()
    project = Project.open(tmp_path / "p")
    killed = _run(project, "interrupted")
    folder = _leave_behind(project, killed)
    project.close()
    argv = ["train", str(tmp_path / "p"), "--json"]
    for item in ("max_steps=1", "eval_every=0", "batch_size=4", "samples_per_eval=0"):
        argv += ["--set", item]
    assert main(argv) == 0
    assert sorted(p.name for p in folder.iterdir()) == ["step-2", "step-4"]
    project = Project.open(tmp_path / "p")
    assert [r["step"] for r in runs.checkpoint_rows(project, killed)] == [2, 4]
