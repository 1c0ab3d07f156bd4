"""A full disk is named and survived: every command says "only N MB free on PATH; free
space and resume" (in JSON with --json), whatever error the disk caused; exports,
generation and checkpoints check the free space first; a checkpoint that fails mid-write
leaves nothing behind and no C++ message; nothing partial is stored."""

from __future__ import annotations

import json
import re

import pytest

from engine.checkpoints import write_checkpoint
from engine.disk_space import DiskFullError
from tests.reliability.disk import fill, small_disk
from tests.workbench.train_helpers import labelled_demo
from workbench.cli import main
from workbench.demo_project import build_demo_project
from workbench.project import Project

SAID = re.compile(r"^only \d+ MB free on (.+); free space and resume$")


def _fails_with_disk_message(capsys, argv: list[str]) -> str:
    code = main([*argv, "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 1 and out["ok"] is False, out
    error = out["error"]
    assert SAID.match(error), error
    return error


def _prompts(path) -> int:
    project = Project.open(path)
    try:
        return project.db.execute("SELECT COUNT(*) FROM prompts").fetchone()[0]
    finally:
        project.close()


def test_every_command_names_a_full_disk(tmp_path, capsys):
    with small_disk(tmp_path / "disk", 4) as disk:
        Project.create(disk / "p").close()
        fill(disk)
        seed = tmp_path / "one.jsonl"
        seed.write_text('{"prompt": "a"}\n')
        for argv in (
            ["jobs", str(disk / "p")],
            ["runs", str(disk / "p")],
            ["import", str(disk / "p"), str(seed)],
            ["rules", str(disk / "p"), "list"],
        ):
            error = _fails_with_disk_message(capsys, argv)
            assert str(disk / "p") in error


def test_an_import_that_fills_the_disk_stores_nothing(tmp_path, capsys):
    rows = tmp_path / "many.jsonl"
    rows.write_text(
        "".join(json.dumps({"prompt": f"{i} " + "x" * 2000}) + "\n" for i in range(3000))
    )
    with small_disk(tmp_path / "disk", 8) as disk:
        Project.create(disk / "p").close()
        filler = fill(disk, leave_kb=600)
        _fails_with_disk_message(capsys, ["import", str(disk / "p"), str(rows)])
        filler.unlink()
        assert _prompts(disk / "p") == 0


def test_an_export_checks_the_free_space_first(tmp_path, capsys):
    with small_disk(tmp_path / "disk", 8) as disk:
        labelled_demo(disk / "p", prompts=2).close()
        out = disk / "p" / "exports" / "prompts.jsonl"
        error = _fails_with_disk_message(capsys, ["export", str(disk / "p"), str(out)])
        assert "exports" in error
        assert list((disk / "p" / "exports").iterdir()) == []  # no file, no temporary


@pytest.mark.parametrize(
    "command",
    [["generate", "--limit", "2"], ["label", "--by", "rules", "--generate", "2", "--limit", "2"]],
    ids=["generate", "label --generate"],
)
def test_generation_stops_before_a_batch_and_its_job_says_why(tmp_path, capsys, command):
    with small_disk(tmp_path / "disk", 8) as disk:
        build_demo_project(disk / "p").close()
        _fails_with_disk_message(capsys, [command[0], str(disk / "p"), *command[1:]])
        project = Project.open(disk / "p")
        status, error = project.db.execute("SELECT status, error FROM jobs").fetchone()
        project.close()
        assert status == "failed" and SAID.match(error)  # not left "running"


def test_a_checkpoint_that_fills_the_disk_leaves_nothing_and_says_so(tmp_path):
    import torch

    with small_disk(tmp_path / "disk", 2) as disk:

        def write(folder):
            torch.save({"w": torch.zeros(1024 * 1024)}, folder / "training_state.pt")  # 4 MiB

        with pytest.raises(DiskFullError) as caught:
            write_checkpoint(disk / "checkpoints" / "step-2", write, {"step": 2})
        assert SAID.match(caught.value.message)
        assert "enforce fail" not in str(caught.value)
        assert list((disk / "checkpoints").iterdir()) == []  # no .tmp-step-2-* left

        with pytest.raises(DiskFullError):  # too little space: refused before writing
            write_checkpoint(disk / "checkpoints" / "step-4", write, {"step": 4}, need_mb=4)
        assert list((disk / "checkpoints").iterdir()) == []


@pytest.mark.slow
def test_a_run_on_a_nearly_full_disk_fails_with_the_message(tmp_path, capsys):
    with small_disk(tmp_path / "disk", 16) as disk:
        labelled_demo(disk / "p", prompts=8).close()
        argv = ["train", str(disk / "p"), "--json"]
        for item in ("max_steps=2", "checkpoint_every=1", "eval_every=0", "batch_size=4"):
            argv += ["--set", item]
        assert main(argv) == 1
        out = json.loads(capsys.readouterr().out)
        assert out["status"] == "failed" and SAID.match(out["error"]), out
        assert str(disk / "p" / "runs" / "1") in out["error"]  # its snapshot or checkpoint
        project = Project.open(disk / "p")
        run_status, run_error = project.db.execute("SELECT status, error FROM runs").fetchone()
        project.close()
        assert run_status == "failed" and run_error == out["error"]
        written = [p.name for p in (disk / "p" / "runs" / "1").rglob("*")]
        assert not [name for name in written if name.startswith((".tmp-", ".dataset"))]
