"""The Compare view on the demo project, against a stand-in worker: the test claims the
`compare` job and fills it with the real backend (the demo model generates), so the grid,
its headers, the filters, reopening without generating and export are checked quickly."""

from __future__ import annotations

import contextlib
import csv
import json
import threading

import pytest
from PySide6.QtCore import Qt

from engine.demo import DEMO_MODEL_NAME
from ui.views.compare.cells import INSERTED
from workbench.comparing.choices import Decoding, EntrantChoice, PromptSet
from workbench.comparing.figures import figures
from workbench.comparing.fill import fill
from workbench.comparing.store import find_or_create, load
from workbench.data.completions import CompletionRecord, add_completions, count_completions
from workbench.data.models import add_model
from workbench.data.prompts import get_prompt
from workbench.demo_project import build_demo_project
from workbench.jobs import queue as jobs
from workbench.jobs import worker_registry
from workbench.project import Project
from workbench.rules.scoring import score_rows, store_scores
from workbench.training.runs import add_checkpoint, create_run

CLICK = Qt.MouseButton.LeftButton


@pytest.fixture
def demo(tmp_path):
    """The demo project with a second record of its model (a distinct entrant)."""
    project = build_demo_project(tmp_path / "demo")
    add_model(project, "demo copy", "demo", DEMO_MODEL_NAME)
    yield project
    project.close()


def open_compare(open_window, qtbot, project: Project):
    worker_id = worker_registry.register(project)  # a live worker: the window starts none
    window = open_window(project.path)
    view = window.show_view("Compare")
    qtbot.waitUntil(lambda: bool(view.setup.options) and view.setup.split.count() > 0)
    qtbot.waitUntil(lambda: window.session.live_external_worker() is not None)
    return window, view, worker_id


def place(view, label: str) -> int:
    return [option.label for option in view.setup.options].index(label)


def job_count(project: Project) -> int:
    return project.db.execute("SELECT count(*) FROM jobs").fetchone()[0]


@contextlib.contextmanager
def beating(project: Project, worker_id: int):
    """The stand-in worker's heartbeat, beaten from a thread (its own connection) as a real
    worker's is, so that a slow job on a loaded machine is not taken for a dead worker's."""
    stop = threading.Event()

    def beat() -> None:
        own = Project.open(project.path)
        while not stop.wait(1.0):
            worker_registry.update(own, worker_id)
        own.close()

    worker_registry.update(project, worker_id)
    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def run_claimed_job(project: Project, worker_id: int, job_id: int) -> None:
    """What the worker does with the view's job: fill the comparison, report, finish."""
    with beating(project, worker_id):
        job = jobs.claim_next(project, worker_id)
        assert job is not None and job.id == job_id and job.kind == "compare"
        comparison_id = job.params["comparison_id"]

        def progress(done: int, total: int, message: str) -> None:
            jobs.report_progress(project, job.id, done, total, message)

        outcome = fill(project, comparison_id, progress, job_id=job.id)
        jobs.finish(
            project,
            job.id,
            {**outcome.to_dict(), **figures(project, load(project, comparison_id))},
        )


def test_a_comparison_made_in_the_view_fills_the_grid_and_reopens_without_generating(
    open_window, qtbot, demo
):
    window, view, worker_id = open_compare(open_window, qtbot, demo)
    setup = view.setup
    assert [o.label for o in setup.options][:1] == [f"base: {DEMO_MODEL_NAME}"]
    setup.pick(place(view, f"base: {DEMO_MODEL_NAME}"), [place(view, "base: demo copy")])
    setup.split.setCurrentIndex(setup.split.findData("eval"))
    setup.limit.setValue(4)
    qtbot.waitUntil(lambda: setup.compare_button.isEnabled())
    qtbot.mouseClick(setup.compare_button, CLICK)
    qtbot.waitUntil(lambda: setup.job_id is not None)
    assert setup.cancel_button.isVisible() and not setup.compare_button.isEnabled()
    run_claimed_job(demo, worker_id, setup.job_id)
    qtbot.waitUntil(lambda: view.model.rowCount() == 4, timeout=15000)

    assert "Done in" in setup.status.text() and "8 completion(s) generated" in setup.status.text()
    assert view.model.columnCount() == 3  # the prompt, the baseline, the other
    header = view.model.headerData(1, Qt.Orientation.Horizontal)
    assert header.startswith(f"base: {DEMO_MODEL_NAME}\n") and header.endswith("the baseline")
    assert "format" in header and "answer" in header and "[" in header and "reward" in header
    assert "▲" in view.model.headerData(2, Qt.Orientation.Horizontal)
    row = view.model.rows[0]
    index = view.model.index(0, 2)
    shown = view.model.data(index)
    assert "tok" in shown and ("✓format" in shown or "✗format" in shown)
    assert view.model.data(index, Qt.ItemDataRole.ToolTipRole).startswith(
        row["entrants"][1]["answers"][0]["text"]
    )
    assert view.filters.count.text() == "4 of 4 prompts"
    view.grid.setCurrentIndex(view.proxy.index(0, 2))
    detail = view.detail.toPlainText()
    assert row["prompt"] in detail and "Against the baseline" in detail
    qtbot.waitUntil(lambda: len(view.stored.ids()) == 1)

    # Reopened from the list, and asked again with the same choices: nothing generated.
    stored, jobs_before = count_completions(demo), job_count(demo)
    view.model.set_result(None)
    view.stored.list.setCurrentRow(0)
    qtbot.mouseClick(view.stored.open_button, CLICK)
    qtbot.waitUntil(lambda: view.model.rowCount() == 4)
    qtbot.mouseClick(setup.compare_button, CLICK)
    qtbot.waitUntil(lambda: "shown without generating" in setup.status.text())
    assert setup.job_id is None and setup.compare_button.isEnabled()
    assert count_completions(demo) == stored and job_count(demo) == jobs_before
    assert len(view.stored.ids()) == 1


def scripted_comparison(project: Project) -> int:
    """A checkpoint (never loaded) against the base model on 4 eval prompts, its answers
    and scores stored as if generated: unchanged, regressed, improved, all-fail."""
    run_id = create_run(
        project,
        algorithm="dpo",
        config={},
        dataset={},
        dataset_hash="x",
        model_id=1,
        parent_checkpoint_id=None,
        job_id=None,
        name="tiny run",
        max_steps=4,
    )
    adapter = project.path / "runs" / "tiny" / "checkpoint-4"
    adapter.mkdir(parents=True)
    checkpoint = add_checkpoint(project, run_id, 4, adapter, {})
    comparison, _ = find_or_create(
        project,
        [EntrantChoice(), EntrantChoice(checkpoint_id=checkpoint)],
        PromptSet(split="eval", limit=4),
        Decoding(),
    )
    prompts = [get_prompt(project, p) for p in comparison.prompt_ids]
    right = [f"The answer is {p.reference}." for p in prompts]
    wrong = [f"The answer is {int(p.reference) + 1}." for p in prompts]
    texts = (
        [right[0], right[1], wrong[2], "no idea"],
        [right[0], wrong[1], right[2], "still no idea"],
    )
    for entry, answers in zip(comparison.entries, texts, strict=True):
        records = [
            CompletionRecord(
                p.id, text, entry.model_id, entry.checkpoint_id, None, comparison.sampling, 0, 5
            )
            for p, text in zip(prompts, answers, strict=True)
        ]
        ids = add_completions(project, records)
        rows = [
            {"prompt": p.display_text, "text": t, "reference": p.reference}
            for p, t in zip(prompts, answers, strict=True)
        ]
        store_scores(project, ids, score_rows(comparison.rules, rows), entry.evaluation_id)
    return checkpoint


def shown_prompts(view) -> list[int]:
    return [row["prompt_id"] for row in view.shown_rows()]


def test_filters_follow_the_verdicts_and_export_writes_the_rows_shown(
    open_window, qtbot, demo, tmp_path
):
    scripted_comparison(demo)
    prompt_ids = load(demo, 1).prompt_ids
    window, view, _ = open_compare(open_window, qtbot, demo)
    qtbot.waitUntil(lambda: len(view.stored.ids()) == 1)
    view.setup.pick(place(view, f"base: {DEMO_MODEL_NAME}"), [place(view, "tiny run · step 4")])
    view.setup.limit.setValue(4)
    qtbot.mouseClick(view.setup.compare_button, CLICK)
    qtbot.waitUntil(lambda: view.model.rowCount() == 4)
    assert job_count(demo) == 0  # everything was stored: no job, nothing generated

    expected = {
        "improved": [prompt_ids[2]],
        "regressed": [prompt_ids[1]],
        "unchanged": [prompt_ids[0]],
        "all-fail": [prompt_ids[3]],
        "all": prompt_ids,
    }
    for verdict, ids in expected.items():
        view.filters.set_verdict(verdict)
        assert shown_prompts(view) == ids, verdict
        assert view.filters.count.text() == f"{len(ids)} of 4 prompts"
    view.filters.set_rule("answer")
    assert shown_prompts(view) == prompt_ids[1:]
    view.filters.set_rule("format")
    assert shown_prompts(view) == [prompt_ids[3]]
    view.filters.set_rule(None)
    view.filters.search.setText("STILL no")
    assert shown_prompts(view) == [prompt_ids[3]]
    view.filters.search.clear()

    improved = view.model.index(2, 2)
    assert view.model.data(improved, Qt.ItemDataRole.BackgroundRole).name() == "#e3f5e8"
    assert view.model.data(view.model.index(1, 2), Qt.ItemDataRole.BackgroundRole).name() == (
        "#fbe5e3"
    )
    assert view.model.data(view.model.index(0, 2), Qt.ItemDataRole.BackgroundRole) is None
    view.filters.set_verdict("regressed")
    view.grid.setCurrentIndex(view.proxy.index(0, 2))
    assert "regressed" in view.detail.toPlainText()
    assert "#c8efd4" in INSERTED and "#c8efd4" in view.detail.toHtml()  # the inserted word

    view.export_to(tmp_path / "regressed.csv")
    with (tmp_path / "regressed.csv").open(newline="", encoding="utf-8") as handle:
        table = list(csv.reader(handle))
    assert len(table) == 2 and table[1][0] == str(prompt_ids[1])
    assert "tiny run step 4: verdict" in table[0]
    assert table[1][table[0].index("tiny run step 4: verdict")] == "regressed"
    assert "Exported 1 row(s)" in view.status.text()
    view.filters.set_verdict("all")
    view.export_to(tmp_path / "all.jsonl")
    lines = [json.loads(line) for line in (tmp_path / "all.jsonl").read_text().splitlines()]
    assert [line["prompt_id"] for line in lines] == prompt_ids
    assert [line["entrants"][1]["verdict"] for line in lines] == [
        "unchanged",
        "regressed",
        "improved",
        "all-fail",
    ]
    view.export_to(tmp_path / "rows.txt")
    assert "Not exported" in view.status.text() and not (tmp_path / "rows.txt").exists()
