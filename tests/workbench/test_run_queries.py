import json

import pytest

from tests.workbench.train_helpers import labelled_demo
from workbench.cli import main
from workbench.project import Project
from workbench.training import history as run_queries

TINY = ["batch_size=4", "eval_every=2", "checkpoint_every=2", "samples_per_eval=0"]


def train(project_dir, *settings) -> dict:
    argv = ["train", str(project_dir), "--json"]
    for item in [*TINY, *settings]:
        argv += ["--set", item]
    assert main(argv) == 0
    return argv


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """Run 1: DPO, 2 steps. Run 2: 4 steps from run 1's last checkpoint, other settings."""
    folder = tmp_path_factory.mktemp("runs") / "p"
    labelled_demo(folder, prompts=12).close()
    train(folder, "max_steps=2", "name=first")
    train(
        folder,
        "max_steps=4",
        "learning_rate=1e-4",
        "lora.dropout=0.1",
        "init_checkpoint=1",
        "name=second",
    )
    project = Project.open(folder)
    yield project
    project.close()


def test_overview_lists_runs_with_status_model_duration_and_results(two_runs):
    rows = run_queries.runs_overview(two_runs)
    assert [r["id"] for r in rows] == [2, 1]
    second, first = rows
    assert first["name"] == "first" and second["name"] == "second"
    for row in rows:
        assert row["status"] == "done" and row["algorithm"] == "dpo"
        assert row["model_name"] == "workbench-demo-arith"
        assert row["duration"] is not None and row["duration"] > 0
        assert row["train_loss"] is not None and row["eval_loss"] is not None
        assert 0 <= row["eval_accuracy"] <= 1
        assert row["checkpoint_id"] is not None
    assert (first["step"], first["max_steps"]) == (2, 2)
    assert (second["step"], second["max_steps"]) == (4, 4)


def test_overview_of_a_running_run_shows_its_last_loss():
    results = run_queries.key_results({}, last_loss=0.5)
    assert results["train_loss"] == 0.5 and results["eval_loss"] is None


def test_metric_rows_come_in_increments(two_runs):
    everything, last = run_queries.run_metric_rows(two_runs, 2)
    assert everything and last > 0
    assert {name for _step, _time, name, _value in everything} >= {"loss", "eval_loss"}
    assert sorted({step for step, *_ in everything}) == [1, 2, 3, 4]
    head, middle = run_queries.run_metric_rows(two_runs, 2, limit=5)
    rest, end = run_queries.run_metric_rows(two_runs, 2, after_id=middle)
    assert head + rest == everything and end == last
    assert run_queries.run_metric_rows(two_runs, 2, after_id=last) == ([], last)
    first_rows, _ = run_queries.run_metric_rows(two_runs, 1)
    assert {step for step, *_ in first_rows} == {1, 2}


def test_config_diff_lists_only_differing_keys_with_lora_flattened(two_runs):
    diff = {key: (a, b) for key, a, b in run_queries.config_diff(two_runs, 1, 2)}
    assert diff["max_steps"] == (2, 4)
    assert diff["learning_rate"][1] == 1e-4
    assert diff["lora.dropout"] == (0.05, 0.1)
    assert diff["init_checkpoint"] == (None, 1)
    assert diff["name"] == ("first", "second")
    assert "batch_size" not in diff and "lora.r" not in diff
    assert run_queries.config_diff(two_runs, 1, 1) == []


def test_lineage_goes_back_to_the_labels_and_forward_to_the_checkpoints(two_runs):
    found = run_queries.lineage(two_runs, 2)
    dataset = found["dataset"]
    stored = two_runs.db.execute("SELECT dataset_hash, dataset FROM runs WHERE id = 2").fetchone()
    assert dataset["hash"] == stored[0] and dataset["held_out"] is True
    assert dataset["counts"] == json.loads(stored[1])["counts"]
    assert found["labels_total"] == 12 and len(found["labels"]) == 12
    label = found["labels"][0]
    assert label["outcome"] == "a" and label["source"] == "rule" and label["judge"] == "test"
    assert label["confidence"] == 1.0 and label["prompt"]
    assert [c[1] for c in found["checkpoints"]] == [2, 4]
    assert found["checkpoints"][0][2].startswith("runs/2/")
    parent = found["parent_checkpoint"]
    assert parent["id"] == 1 and parent["run_id"] == 1 and parent["step"] == 2
    assert run_queries.lineage(two_runs, 1)["parent_checkpoint"] is None
    limited = run_queries.lineage(two_runs, 1, limit=5)
    assert len(limited["labels"]) == 5 and limited["labels_total"] == 12


def test_flatten_and_short_prompt():
    assert run_queries.flatten({"a": 1, "lora": {"r": 8, "x": {"y": 2}}}) == {
        "a": 1,
        "lora.r": 8,
        "lora.x.y": 2,
    }
    assert run_queries.short("a  b\nc") == "a b c"
    assert len(run_queries.short("x" * 500)) == run_queries.PROMPT_CHARS
