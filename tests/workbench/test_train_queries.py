import time

import pytest

from tests.workbench.train_helpers import labelled_demo
from workbench.jobs import queue as jobs
from workbench.training import runs
from workbench.training.config import RunConfig, load_config
from workbench.training.config_files import load_config_file, save_config_file
from workbench.training.data import dataset_counts
from workbench.training.history import run_metric_rows
from workbench.training.presets import delete_preset, list_presets, load_preset, save_preset
from workbench.training.progress import eta_seconds, logs_since, run_progress, run_update
from workbench.training.queue import move_job, train_queue
from workbench.training.samples import samples_at, samples_steps


@pytest.fixture
def project(tmp_path):
    project = labelled_demo(tmp_path / "p", prompts=10, eval_prompts=2)
    yield project
    project.close()


def new_run(project, job_id=None, max_steps=100) -> int:
    return runs.create_run(
        project,
        algorithm="dpo",
        config={},
        dataset={},
        dataset_hash="h",
        model_id=None,
        parent_checkpoint_id=None,
        job_id=job_id,
        name="r",
        max_steps=max_steps,
    )


def test_dataset_counts_split_like_a_run(project):
    counts = dataset_counts(project, ["rule"], None)
    assert counts["train"]["pairs"] == 10 and counts["eval"]["pairs"] == 2
    assert counts["train"]["by_source"] == {"rule": 10} and not counts["held_out"]
    assert dataset_counts(project, ["human"])["train"]["pairs"] == 0
    filtered = dataset_counts(project, ["rule"], min_confidence=1.5)
    assert filtered["train"]["filtered_out"] == 10


def test_dataset_counts_hold_out_when_no_eval_labels(tmp_path):
    project = labelled_demo(tmp_path / "q", prompts=10)
    counts = dataset_counts(project, ["rule", "human", "ai"], None, 0.2)
    assert counts["held_out"] and counts["train"]["pairs"] + counts["eval"]["pairs"] == 10
    assert counts["eval"]["pairs"] == 2


def test_queue_order_follows_claim_order_and_moves(project):
    ids = [
        jobs.submit(project, "train", {"config": {"name": f"n{i}", "algorithm": "kto"}})
        for i in range(3)
    ]
    other = jobs.submit(project, "generate", {})
    queue = train_queue(project)
    assert [q["job_id"] for q in queue] == ids and [q["position"] for q in queue] == [1, 2, 3]
    assert queue[0]["name"] == "n0" and queue[0]["algorithm"] == "kto"
    assert move_job(project, ids[2], up=True)
    assert [q["job_id"] for q in train_queue(project)] == [ids[0], ids[2], ids[1]]
    assert not move_job(project, ids[0], up=True)
    assert not move_job(project, other, up=True)
    claimed = [jobs.claim_next(project, worker_id=None).id for _ in range(4)]
    assert claimed == [ids[0], ids[2], ids[1], other]  # the worker agrees with the view


def test_running_job_is_first_with_its_run(project):
    job_id = jobs.submit(project, "train", {"config": {}})
    jobs.claim_next(project, worker_id=None)
    run_id = new_run(project, job_id)
    queue = train_queue(project)
    assert queue == [
        {
            "job_id": job_id,
            "position": 0,
            "status": "running",
            "run_id": run_id,
            "name": "r",
            "algorithm": "dpo",
            "message": "",
        }
    ]


def test_rows_since_and_progress(project):
    run_id = new_run(project, max_steps=100)
    runs.record_metrics(project, run_id, 1, {"loss": 1.0, "kl": float("nan")})
    rows, last = run_metric_rows(project, run_id, 0)
    assert [(r[0], r[2], r[3]) for r in rows] == [(1, "loss", 1.0), (1, "kl", None)]
    assert run_metric_rows(project, run_id, last) == ([], last)
    runs.record_metrics(project, run_id, 2, {"loss": 0.5})
    assert [r[3] for r in run_metric_rows(project, run_id, last)[0]] == [0.5]
    runs.log(project, run_id, "hello")
    logs, log_last = logs_since(project, run_id)
    assert logs[0][1] == "hello" and logs_since(project, run_id, log_last)[0] == []
    runs.record_samples(
        project, run_id, 2, [{"prompt": "p", "completion": "c", "rewards": {"answer": 1.0}}]
    )
    assert samples_steps(project, run_id) == [2]
    assert samples_at(project, run_id, 2)[0]["rewards"] == {"answer": 1.0}
    progress = run_progress(project, run_id)
    assert (
        progress["step"] == 2 and progress["max_steps"] == 100 and progress["status"] == "running"
    )
    assert progress["checkpoints"] == 0


def test_eta_from_the_step_rate(project):
    run_id = new_run(project, max_steps=100)
    now = time.time()
    project.db.conn.executemany(
        "INSERT INTO metrics (run_id, step, name, value, time) VALUES (?, ?, ?, ?, ?)",
        [(run_id, s, "loss", 1.0, now + s / 2) for s in range(1, 11)],
    )
    project.db.execute("UPDATE runs SET step = 10 WHERE id = ?", [run_id])
    progress = run_progress(project, run_id)
    assert progress["rate"] == pytest.approx(2.0) and progress["eta_s"] == pytest.approx(45.0)
    assert eta_seconds(5, 5, 2.0) is None


def test_run_update_follows_the_running_run(project):
    assert run_update(project, None, 0, 0) is None
    first = new_run(project)
    runs.end_run(project, first, "done")
    second = new_run(project)
    runs.end_run(project, second, "done")
    assert run_update(project, None, 0, 0)["run_id"] == second
    running = new_run(project)
    runs.record_metrics(project, running, 1, {"loss": 2.0})
    update = run_update(project, None, 0, 0)
    assert update["run_id"] == running and len(update["metrics"]) == 1


def test_presets_round_trip(project):
    config = RunConfig.from_dict({"algorithm": "kto", "desirable_weight": 2.0}).to_dict()
    save_preset(project, "kto strong", config)
    assert list_presets(project) == ["kto strong"]
    assert load_preset(project, "kto strong") == config
    with pytest.raises(Exception, match="batch_size"):
        save_preset(project, "bad", {"batch_size": 0})
    delete_preset(project, "kto strong")
    assert list_presets(project) == []


def test_toml_round_trips_through_load_config(tmp_path):
    config = RunConfig.from_dict(
        {
            "name": 'run "quoted"',
            "algorithm": "simpo",
            "learning_rate": 1e-5,
            "sources": ["rule"],
            "min_confidence": 0.5,
            "lora": {"r": 4, "target_modules": ["q_proj", "v_proj"], "use_rslora": True},
        }
    ).to_dict()
    path = save_config_file(config, tmp_path / "run.toml")
    text = path.read_text()
    assert "[lora]" in text and "\nbeta =" not in text  # None values keep their defaults
    assert load_config(path).to_dict() == config
    assert load_config_file(path) == config
