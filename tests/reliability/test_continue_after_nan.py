"""After a NaN: the message says what to change and how to continue; `train --resume RUN
--set key=value` continues from the last checkpoint as a new run whose lineage names the
checkpoint and the changed settings; with no checkpoint the message says so."""

from __future__ import annotations

import json

import pytest

from tests.workbench.train_helpers import FAST, labelled_demo
from workbench.cli import main
from workbench.project import Project
from workbench.training.history import lineage
from workbench.training.runs import checkpoint_rows, get_run


def _poison_from(monkeypatch, call: int) -> None:
    """DPO's loss becomes NaN from its `call`-th micro-batch on (one per step here)."""
    import engine.training.offline.dpo as objectives

    real, calls = objectives.dpo_loss, {"n": 0}

    def poisoned(*args, **kwargs):
        losses, chosen, rejected = real(*args, **kwargs)
        calls["n"] += 1
        return (losses * float("nan") if calls["n"] >= call else losses), chosen, rejected

    monkeypatch.setattr(objectives, "dpo_loss", poisoned)


def _train(capsys, *argv: str) -> tuple[int, dict]:
    code = main(["train", *argv, "--json"])
    return code, json.loads(capsys.readouterr().out)


def _fast() -> list[str]:
    return [a for item in [*FAST, "eval_every=0", "learning_rate=0.0001"] for a in ("--set", item)]


def test_a_nan_run_continues_from_its_checkpoint_with_a_lower_learning_rate(
    tmp_path, capsys, monkeypatch
):
    labelled_demo(tmp_path / "p", prompts=12).close()
    _poison_from(monkeypatch, 3)
    code, out = _train(capsys, str(tmp_path / "p"), *_fast())
    assert code == 1 and out["status"] == "failed"
    error = out["error"]
    assert "lower learning_rate (now 0.0001; try 2.5e-05)" in error
    assert "max_grad_norm" in error and "beta" in error
    assert "Continue from the last checkpoint (step-2)" in error
    assert "--resume 1 --set learning_rate=2.5e-05" in error

    monkeypatch.undo()  # the cause is gone: the continuation trains cleanly
    code, out = _train(
        capsys, str(tmp_path / "p"), "--resume", "1", "--set", "learning_rate=2.5e-5"
    )
    assert code == 0 and out["status"] == "done" and out["step"] == 4, out
    project = Project.open(tmp_path / "p")
    old, new = get_run(project, 1), get_run(project, 2)
    assert old.status == "failed" and old.config["learning_rate"] == 0.0001  # left as it was
    assert new.config["learning_rate"] == 2.5e-5
    parent = checkpoint_rows(project, 1)[-1]
    assert parent["step"] == 2 and new.parent_checkpoint_id == parent["id"]
    found = lineage(project, 2)
    assert found["parent_checkpoint"]["run_id"] == 1
    assert found["changed_settings"] == [("learning_rate", 0.0001, 2.5e-5)]
    steps = [r[0] for r in project.db.execute("SELECT DISTINCT step FROM metrics WHERE run_id = 2")]
    assert min(steps) == 3  # it went on from the checkpoint's step, not from the start
    logged = project.db.execute(
        "SELECT value FROM metrics WHERE run_id = 2 AND name = 'learning_rate' ORDER BY step"
    ).fetchall()
    assert logged and all(v[0] <= 2.5e-5 for v in logged)


def test_a_nan_before_any_checkpoint_says_there_is_none(tmp_path, capsys, monkeypatch):
    labelled_demo(tmp_path / "p", prompts=12).close()
    _poison_from(monkeypatch, 1)
    code, out = _train(capsys, str(tmp_path / "p"), *_fast())
    assert code == 1
    assert "No checkpoint was written before this step" in out["error"]
    code, out = _train(capsys, str(tmp_path / "p"), "--resume", "1", "--set", "learning_rate=1e-5")
    assert code == 1 and "has no checkpoint to continue from" in out["error"]


@pytest.mark.parametrize(
    ("change", "said"),
    [("lora.r=16", "cannot change lora"), ("max_steps=2", "set max_steps above 2")],
)
def test_a_continuation_refuses_what_the_checkpoint_fixes(tmp_path, capsys, change, said):
    labelled_demo(tmp_path / "p", prompts=12).close()
    fast = [a for item in [*FAST, "max_steps=2", "eval_every=0"] for a in ("--set", item)]
    assert _train(capsys, str(tmp_path / "p"), *fast)[0] == 0
    code, out = _train(capsys, str(tmp_path / "p"), "--resume", "1", "--set", change)
    assert code == 1 and said in out["error"]
