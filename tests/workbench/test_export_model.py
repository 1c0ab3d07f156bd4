"""`workbench export-model` and `export-data` on a trained demo project: each format's
folder, the card's lineage, refusals (existing folder, missing base, no room, GGUF's
architectures), nothing partial after a failure or a cancel; `install-desktop` and
`--version`."""

from __future__ import annotations

import errno
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import gguf
import pytest

from engine.export.formats import ExportCancelled, ExportError
from tests.workbench.train_helpers import FAST, labelled_demo
from workbench.cli import main
from workbench.exporting.operation import export_checkpoint
from workbench.exporting.request import ExportRequest, check_request
from workbench.project import Project


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[Path, int]:
    """A demo project with a 4-step DPO run; (project folder, its last checkpoint id)."""
    folder = tmp_path_factory.mktemp("export") / "project"
    labelled_demo(folder).close()
    argv = ["train", str(folder), "--json"]
    for setting in FAST:
        argv += ["--set", setting]
    assert main(argv) == 0
    project = Project.open(folder)
    checkpoint_id = project.db.execute("SELECT MAX(id) FROM checkpoints").fetchone()[0]
    project.close()
    return folder, checkpoint_id


def _export(capsys, project: Path, checkpoint: int, fmt: str, out: Path, *extra: str) -> dict:
    argv = ["export-model", str(project), "--checkpoint", str(checkpoint), "--format", fmt]
    code = main([*argv, str(out), "--json", *extra])
    result = json.loads(capsys.readouterr().out)
    assert (code == 0) == result["ok"], result
    return result


def _leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith((".tmp-", ".old-")))


def test_adapter_export_has_a_card_with_its_lineage(capsys, trained, tmp_path):
    project, checkpoint = trained
    result = _export(capsys, project, checkpoint, "adapter", tmp_path / "adapter")
    out = tmp_path / "adapter"
    assert result["files"] == ["README.md", "adapter_config.json", "adapter_model.safetensors"]
    config = json.loads((out / "adapter_config.json").read_text())
    base = (out / config["base_model_name_or_path"]).resolve()
    assert (base / "config.json").is_file()  # relative, and it resolves from the export
    card = (out / "README.md").read_text()
    run = Project.open(project)
    dataset_hash = run.db.execute("SELECT dataset_hash FROM runs").fetchone()[0]
    run.close()
    assert "library_name: peft" in card and "Algorithm: dpo" in card
    assert dataset_hash in card
    assert "| rule | 24 |" in card  # the labels by source
    assert "| loss |" in card  # final metrics
    assert '"beta": 1.0' in card  # the run's settings
    assert "training_state.pt" not in result["files"]


def test_ollama_export_writes_gguf_and_modelfile(capsys, trained, tmp_path):
    project, checkpoint = trained
    out = tmp_path / "ollama"
    result = _export(capsys, project, checkpoint, "ollama", out, "--dtype", "q8_0")
    gguf_name = next(name for name in result["files"] if name.endswith(".gguf"))
    assert sorted(result["files"]) == sorted(["Modelfile", gguf_name])
    assert gguf_name.endswith("-q8_0.gguf")
    modelfile = (out / "Modelfile").read_text()
    assert f"FROM ./{gguf_name}" in modelfile
    assert 'PARAMETER stop "<|end|>"' in modelfile
    assert "TEMPLATE" in modelfile and result["template_translated"] is True
    assert result["ollama_command"] in modelfile
    reader = gguf.GGUFReader(out / gguf_name)
    assert reader.get_field("general.architecture").contents() == "llama"
    assert reader.get_field("tokenizer.chat_template").contents().startswith("{%- for message")
    assert _leftovers(tmp_path) == []


def test_existing_folder_is_refused_unless_overwriting(capsys, trained, tmp_path):
    project, checkpoint = trained
    out = tmp_path / "taken"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    result = _export(capsys, project, checkpoint, "adapter", out)
    assert not result["ok"] and "already exists" in result["error"]
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    result = _export(capsys, project, checkpoint, "adapter", out, "--overwrite")
    assert result["ok"] and not (out / "keep.txt").exists()
    assert _leftovers(tmp_path) == []


def test_a_failure_mid_write_leaves_nothing(monkeypatch, trained, tmp_path):
    """The GGUF writer fails with a full disk after writing half a file: no output
    folder, no temporary folder, and a message that says what happened."""
    import engine.export.gguf_file as gguf_file

    def half_then_full(_folder, out_path, *_args, **_kwargs):
        Path(out_path).write_bytes(b"GGUF" + b"\0" * 4096)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(gguf_file, "write_gguf", half_then_full)
    project, checkpoint = trained
    out = tmp_path / "gguf"
    with pytest.raises(ExportError, match="disk filled up"):
        export_checkpoint(Project.open(project), ExportRequest(checkpoint, "gguf", str(out)))
    assert list(tmp_path.iterdir()) == []


def test_cancel_leaves_nothing(trained, tmp_path):
    project, checkpoint = trained
    out = tmp_path / "merged"
    with pytest.raises(ExportCancelled):
        export_checkpoint(
            Project.open(project),
            ExportRequest(checkpoint, "merged", str(out)),
            should_stop=lambda: True,
        )
    assert list(tmp_path.iterdir()) == []


def test_missing_base_model_is_explained(trained, tmp_path):
    project_dir, checkpoint = trained
    project = Project.open(project_dir)
    run_id, model_id = project.db.execute(
        "SELECT r.id, r.model_id FROM runs r JOIN checkpoints c ON c.run_id = r.id WHERE c.id = ?",
        [checkpoint],
    ).fetchone()
    gone = tmp_path / "moved-away"
    project.db.execute(
        "UPDATE models SET source = 'local', path = ? WHERE id = ?", [str(gone), model_id]
    )
    try:
        with pytest.raises(ExportError, match="not on this machine any more"):
            check_request(project, ExportRequest(checkpoint, "merged", str(tmp_path / "out")))
    finally:
        project.db.execute(
            "UPDATE models SET source = 'demo', path = 'workbench-demo-arith' WHERE id = ?",
            [model_id],
        )
        project.close()
    assert not (tmp_path / "out").exists() and run_id


def test_no_room_and_no_permission_are_refused(monkeypatch, trained, tmp_path):
    import workbench.exporting.staging as staging

    project_dir, checkpoint = trained
    project = Project.open(project_dir)
    request = ExportRequest(checkpoint, "merged", str(tmp_path / "out"))

    class Tiny:
        free = 1000

    monkeypatch.setattr(staging.shutil, "disk_usage", lambda _path: Tiny())
    with pytest.raises(ExportError, match="needs about .* only 1000 B is free"):
        check_request(project, request)
    monkeypatch.undo()
    monkeypatch.setattr(staging.os, "access", lambda *_args: False)
    with pytest.raises(ExportError, match="permission denied"):
        check_request(project, request)
    project.close()
    assert list(tmp_path.iterdir()) == []


def test_dtype_that_does_not_apply_is_refused(capsys, trained, tmp_path):
    project, checkpoint = trained
    result = _export(capsys, project, checkpoint, "merged", tmp_path / "m", "--dtype", "q8_0")
    assert not result["ok"] and "does not apply to a merged export" in result["error"]


def test_export_data_metrics_samples_and_battles(capsys, trained, tmp_path):
    import csv

    from workbench.arena.battles import add_battle

    project_dir, _ = trained
    metrics = tmp_path / "metrics.csv"
    assert main(["export-data", str(project_dir), "metrics", str(metrics), "--id", "1"]) == 0
    rows = list(csv.DictReader(metrics.open()))
    assert [int(r["step"]) for r in rows] == [1, 2, 3, 4]
    assert float(rows[0]["loss"]) == pytest.approx(0.6931, abs=1e-3)  # DPO starts at ln 2

    samples = tmp_path / "samples.jsonl"
    assert main(["export-data", str(project_dir), "samples", str(samples), "--id", "1"]) == 0
    lines = [json.loads(line) for line in samples.read_text().splitlines()]
    assert lines and {"step", "prompt", "completion", "rewards"} <= set(lines[0])

    project = Project.open(project_dir)
    add_battle(project, "base", "checkpoint-1", "model_b", "human")
    project.close()
    battles = tmp_path / "battles.jsonl"
    capsys.readouterr()
    code = main(["export-data", str(project_dir), "battles", str(battles), "--json"])
    assert code == 0 and json.loads(capsys.readouterr().out)["exported"] == 1
    battle = json.loads(battles.read_text())
    assert (battle["model_a"], battle["model_b"], battle["winner"]) == (
        "base",
        "checkpoint-1",
        "model_b",
    )

    assert (
        main(["export-data", str(project_dir), "metrics", str(tmp_path / "m.txt"), "--id", "1"])
        == 1
    )
    assert (
        main(["export-data", str(project_dir), "metrics", str(tmp_path / "m.csv"), "--id", "9"])
        == 1
    )


def test_install_desktop_and_version(capsys, tmp_path):
    assert main(["install-desktop", "--prefix", str(tmp_path), "--json"]) == 0
    files = [Path(p) for p in json.loads(capsys.readouterr().out)["files"]]
    entry, icon, metainfo = files
    assert entry.parent == tmp_path / "applications" and entry.suffix == ".desktop"
    text = entry.read_text()
    assert "Exec=" in text and "-m workbench.cli" in text
    assert f"Icon={icon.stem}" in text
    assert ET.parse(icon).getroot().tag.endswith("svg")
    component = ET.parse(metainfo).getroot()
    assert component.findtext("launchable") == entry.name

    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    from importlib.metadata import version

    assert capsys.readouterr().out.strip() == f"workbench {version('alignment-workbench')}"


def test_cancelled_export_job_is_marked_cancelled_and_leaves_nothing(trained, tmp_path):
    """Cancel sent to a running export_model job: the worker records it as cancelled
    (not failed) and the destination's parent holds nothing."""
    from workbench.jobs import control
    from workbench.jobs import queue as jobs
    from workbench.jobs.worker import Worker

    project_dir, checkpoint = trained
    project = Project.open(project_dir)
    out = tmp_path / "gguf"
    job_id = jobs.submit(
        project, "export_model", ExportRequest(checkpoint, "gguf", str(out)).to_params()
    )
    control.request(project, job_id, "cancel")  # read at the export's first check
    worker = Worker(project, session=None)
    try:
        worker.execute(jobs.get(project, job_id))
    finally:
        worker.close()
    job = jobs.get(project, job_id)
    project.close()
    assert job.status == "cancelled"
    assert "nothing was written" in job.result["message"]
    assert list(tmp_path.iterdir()) == []
