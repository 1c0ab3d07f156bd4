"""Labels written while a run trains: a worker process writes the run's metrics, samples
and checkpoints while two threads of this process (each with its own connection, as the
UI's database thread and a terminal would have) add labels as fast as they can. None is
lost, none fails with "database is locked", and the run's curve has every step once."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest

from tests.workbench.test_train_resume import start_worker
from tests.workbench.train_helpers import labelled_demo
from workbench.data.completions import CompletionRecord, add_completions
from workbench.jobs import queue as jobs
from workbench.labels.comparisons import add_comparison
from workbench.project import Project
from workbench.training.config import load_config
from workbench.training.runs import get_run, metric_series

STEPS = 12


def _label_until(path, prompt_ids, done: threading.Event, added: list, errors: list) -> None:
    """Label fresh pairs of the given prompts (not the ones the run trains on) until the
    run is done, and at least 50 times."""
    project = Project.open(path)
    try:
        pairs = {
            p: add_completions(project, [CompletionRecord(p, "one"), CompletionRecord(p, "two")])
            for p in prompt_ids
        }
        i = 0
        while not done.is_set() or i < 50:
            prompt_id = prompt_ids[i % len(prompt_ids)]
            try:
                added.append(add_comparison(project, prompt_id, pairs[prompt_id], "a", "human"))
            except sqlite3.Error as exc:
                errors.append(str(exc))
            i += 1
            time.sleep(0.002)  # a fast labeller, not a spin that starves the run of a core
    finally:
        project.close()


@pytest.mark.slow
def test_labels_added_while_a_run_trains_are_all_kept(tmp_path):
    project = labelled_demo(tmp_path / "p", prompts=16)
    before = project.db.execute("SELECT COUNT(*) FROM comparisons").fetchone()[0]
    prompt_ids = [
        r[0]
        for r in project.db.execute(
            "SELECT id FROM prompts WHERE id NOT IN (SELECT prompt_id FROM comparisons) LIMIT 8"
        )
    ]
    settings = ["batch_size=4", "eval_every=4", "checkpoint_every=4", f"max_steps={STEPS}"]
    jobs.submit(project, "train", {"config": load_config(None, settings).to_dict()})

    done, added, errors = threading.Event(), [], []
    writers = [
        threading.Thread(target=_label_until, args=(project.path, ids, done, added, errors))
        for ids in (prompt_ids[::2], prompt_ids[1::2])
    ]
    for writer in writers:
        writer.start()
    try:
        assert start_worker(project.path).wait(timeout=300) == 0
    finally:
        done.set()
        for writer in writers:
            writer.join(timeout=60)

    print(f"{len(added)} labels added by 2 threads while the run trained")
    assert errors == []  # no "database is locked", nothing else
    stored = {r[0] for r in project.db.execute("SELECT id FROM comparisons WHERE source = 'human'")}
    assert len(added) >= 100 and set(added) <= stored and len(stored) == len(added)
    assert project.db.execute("SELECT COUNT(*) FROM comparisons").fetchone()[0] == before + len(
        added
    )
    run = get_run(project, 1)
    assert run.status == "done", run.error
    assert [step for step, _ in metric_series(project, 1, "loss")] == list(range(1, STEPS + 1))
    checkpoints = project.db.execute("SELECT step FROM checkpoints ORDER BY step").fetchall()
    assert [r[0] for r in checkpoints] == [4, 8, 12]
