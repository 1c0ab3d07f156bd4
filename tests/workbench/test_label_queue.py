"""The Label view's queue: what is served first, how answers are stored, undo, skip,
progress, the candidates job's params and the rater-consistency re-shows."""

from __future__ import annotations

import json
import sqlite3

import pytest

from tests.workbench.label_helpers import Tiny
from workbench.data.preference_data import build_dataset
from workbench.db.schema import MIGRATIONS, SCHEMA_VERSION
from workbench.labels.candidates import CandidateRequest, generate_params
from workbench.labels.consistency import agreement, set_recheck_share
from workbench.labels.queue import (
    LabelSession,
    NothingToUndo,
    record_pair,
    record_ranking,
    serve,
    skip,
    undo,
    unskip,
)
from workbench.labels.scope import LabelFilters
from workbench.project import DB_NAME, Project

ALL = LabelFilters()


@pytest.fixture
def tiny(tmp_path):
    tiny = Tiny(tmp_path / "p")
    set_recheck_share(tiny.project, 0.0)  # re-shows are tested on their own
    yield tiny
    tiny.project.close()


def three_prompts(tiny: Tiny) -> list[tuple[int, list[int]]]:
    """Three prompts, each with two different completions: (prompt id, completion ids)."""
    prompts = [tiny.prompt(f"What is {i} + {i}?") for i in range(3)]
    return [
        (prompt, tiny.completions(prompt, f"{2 * i}", f"{2 * i + 1}"))
        for i, prompt in enumerate(prompts)
    ]


def texts(task) -> list[str]:
    return [c.text for c in task.completions]


def test_prompts_without_a_human_label_come_first_then_open_pairs(tiny):
    (first, first_ids), (second, second_ids), (third, _) = three_prompts(tiny)
    tiny.completions(first, "0 or so")
    tiny.compare(first, first_ids, "a")
    tiny.compare(second, second_ids, "a", source="ai")  # not a human's label
    session = LabelSession(seed=1)
    served = [serve(tiny.project, session, ALL).task.prompt_id]
    record_pair(tiny.project, session, serve(tiny.project, session, ALL).task, "a", 1.0)
    served.append(serve(tiny.project, session, ALL).task.prompt_id)
    assert served == [second, third]
    record_pair(tiny.project, session, serve(tiny.project, session, ALL).task, "b", 1.0)
    task = serve(tiny.project, session, ALL).task  # the first prompt's pairs with "0 or so"
    assert task.prompt_id == first and "0 or so" in texts(task)
    record_pair(tiny.project, session, task, "tie", 1.0)
    task = serve(tiny.project, session, ALL).task
    assert task.prompt_id == first and "0 or so" in texts(task)
    record_pair(tiny.project, session, task, "both_bad", 1.0)
    final = serve(tiny.project, session, ALL)
    assert final.task is None
    assert (final.progress.labelled, final.progress.to_go, final.progress.more_pairs) == (3, 0, 0)


def test_sides_are_random_and_the_winner_is_right_on_either_side(tmp_path):
    lefts = set()
    for seed in range(8):
        tiny = Tiny(tmp_path / f"p{seed}")
        set_recheck_share(tiny.project, 0.0)
        prompt = tiny.prompt("What is 2 + 2?")
        tiny.completions(prompt, "4", "5")
        session = LabelSession(seed=seed)
        task = serve(tiny.project, session, ALL).task
        lefts.add(task.completions[0].text)
        outcome = "a" if task.completions[0].text == "4" else "b"
        label_id = record_pair(tiny.project, session, task, outcome, 2.5, "four").row_id
        stored = tiny.project.db.execute(
            "SELECT completion_ids, outcome, seconds, note FROM comparisons WHERE id = ?",
            [label_id],
        ).fetchone()
        assert (json.loads(stored[0]), stored[1:]) == (task.ids, (outcome, 2.5, "four"))
        pairs = build_dataset(tiny.project).pairs
        assert [(p.chosen, p.rejected) for p in pairs] == [("4", "5")]
        tiny.project.close()
    assert lefts == {"4", "5"}  # both sides occurred


def test_identical_texts_are_one_candidate(tiny):
    prompt = tiny.prompt("Say hi")
    tiny.completions(prompt, "hi", "hi ", "hello")
    session = LabelSession(seed=0)
    task = serve(tiny.project, session, ALL).task
    assert sorted(texts(task)) == ["hello", "hi"]
    record_pair(tiny.project, session, task, "a", 1.0)
    assert serve(tiny.project, session, ALL).task is None
    lone = tiny.prompt("Only one")
    tiny.completions(lone, "same", "same")
    served = serve(tiny.project, session, ALL)
    assert served.task is None and served.progress.servable == 1 and served.progress.prompts == 2
    assert served.progress.alike == 1


def test_a_label_on_a_duplicate_text_counts_for_that_text(tiny):
    prompt = tiny.prompt("Say hi")
    first, copy, other = tiny.completions(prompt, "hi", "hi\n", "hello")
    tiny.compare(prompt, [copy, other], "b")  # made on the copy, e.g. by an import
    served = serve(tiny.project, LabelSession(seed=0), ALL)
    assert served.task is None and served.progress.labelled == 1


def test_a_ranking_of_four_gives_its_six_pairs(tiny):
    prompt = tiny.prompt("Rank these")
    tiny.completions(prompt, "w", "x", "y", "z")
    session = LabelSession(seed=3)
    task = serve(tiny.project, session, ALL, mode="rank", size=4).task
    assert task.mode == "rank" and sorted(texts(task)) == ["w", "x", "y", "z"]
    by_text = {c.text: c.id for c in task.completions}
    best_first = [by_text[t] for t in "zxwy"]
    label_id = record_ranking(tiny.project, session, task, best_first, 7.0).row_id
    row = tiny.project.db.execute(
        "SELECT outcome, ranking, completion_ids FROM comparisons WHERE id = ?", [label_id]
    ).fetchone()
    assert row[0] == "ranking" and json.loads(row[1]) == best_first
    assert json.loads(row[2]) == task.ids
    pairs = {(p.chosen, p.rejected) for p in build_dataset(tiny.project).pairs}
    assert pairs == {("z", "x"), ("z", "w"), ("z", "y"), ("x", "w"), ("x", "y"), ("w", "y")}
    assert serve(tiny.project, session, ALL, mode="rank").task is None  # all pairs covered
    with pytest.raises(ValueError, match="ranking"):
        record_pair(tiny.project, session, task, "a", 1.0)


def test_a_ranking_task_shows_at_most_size_with_one_not_yet_compared(tiny):
    prompt = tiny.prompt("Many")
    a, b, c, d = tiny.completions(prompt, *"abcd")
    tiny.compare(prompt, [a, b, c], "ranking", ranking=[a, b, c])  # only d is new
    for seed in range(6):
        task = serve(tiny.project, LabelSession(seed=seed), ALL, mode="rank", size=3).task
        assert len(task.ids) == 3 and d in task.ids


def test_tie_both_bad_and_skip(tiny):
    third = three_prompts(tiny)[2][0]
    session = LabelSession(seed=2)
    record_pair(tiny.project, session, serve(tiny.project, session, ALL).task, "tie", 1.0)
    record_pair(tiny.project, session, serve(tiny.project, session, ALL).task, "both_bad", 1.0)
    task = serve(tiny.project, session, ALL).task
    assert task.prompt_id == third
    skip(tiny.project, session, task)
    served = serve(tiny.project, session, ALL)
    assert served.task is None and served.progress.skipped == 1
    unskip(tiny.project, session)
    assert serve(tiny.project, session, ALL).task.prompt_id == third
    outcomes = [r[0] for r in tiny.project.db.execute("SELECT outcome FROM comparisons")]
    assert outcomes == ["tie", "both_bad"]
    counts = build_dataset(tiny.project).counts
    assert (counts["pairs"], counts["ties"], counts["both_bad"]) == (0, 1, 1)


def test_undo_deletes_this_sittings_labels_last_first(tiny):
    three_prompts(tiny)
    earlier = LabelSession(seed=0)
    kept = record_pair(tiny.project, earlier, serve(tiny.project, earlier, ALL).task, "a", 1.0)
    session = LabelSession(seed=0)
    with pytest.raises(NothingToUndo, match="Nothing to undo"):
        undo(tiny.project, session)
    tasks = []
    for _ in range(2):
        tasks.append(serve(tiny.project, session, ALL).task)
        record_pair(tiny.project, session, tasks[-1], "b", 1.0)
    assert undo(tiny.project, session).task == tasks[1]
    assert serve(tiny.project, session, ALL).task.prompt_id == tasks[1].prompt_id
    assert undo(tiny.project, session).task == tasks[0]
    with pytest.raises(NothingToUndo):
        undo(tiny.project, session)
    ids = [r[0] for r in tiny.project.db.execute("SELECT id FROM comparisons")]
    assert ids == [kept.row_id]


def test_undo_makes_a_label_it_overrode_active_again(tiny):
    prompt = tiny.prompt("q")
    ids = tiny.completions(prompt, "x", "y")
    ai = tiny.compare(prompt, ids, "a", source="ai")
    session = LabelSession(seed=0)
    task = serve(tiny.project, session, ALL).task
    human = record_pair(tiny.project, session, task, "a", 1.0).row_id
    tiny.project.db.execute("UPDATE comparisons SET superseded_by = ? WHERE id = ?", [human, ai])
    undo(tiny.project, session)
    rows = tiny.project.db.execute("SELECT id, superseded_by FROM comparisons").fetchall()
    assert rows == [(ai, None)]


def test_filters_by_split_and_by_model_or_checkpoint(tiny):
    from workbench.data.models import add_model

    project = tiny.project
    model = add_model(project, "m", "local", "/nowhere")
    project.db.execute(
        "INSERT INTO runs (algorithm, model_id, created_at) VALUES ('dpo', ?, 0)", [model]
    )
    project.db.execute(
        "INSERT INTO checkpoints (run_id, step, path, created_at) "
        "VALUES (1, 10, 'runs/1/step-10', 0)"
    )
    train = tiny.prompt("train q")
    held = tiny.prompt("eval q", split="eval")
    rows = [(train, "b1", None), (train, "b2", None), (held, "c1", 1), (held, "c2", 1)]
    for prompt, text, checkpoint in rows:
        project.db.execute(
            "INSERT INTO completions (prompt_id, text, model_id, checkpoint_id, created_at) "
            "VALUES (?, ?, ?, ?, 0)",
            [prompt, text, model, checkpoint],
        )
    session = LabelSession(seed=0)
    for filters, prompt in (
        (LabelFilters(split="eval"), held),
        (LabelFilters(model_id=model), train),
        (LabelFilters(checkpoint_id=1), held),
    ):
        assert serve(project, session, filters).task.prompt_id == prompt
    assert serve(project, session, LabelFilters(split="eval", model_id=model)).task is None
    with pytest.raises(ValueError, match="not both"):
        LabelFilters(model_id=model, checkpoint_id=1)
    request = CandidateRequest(model_id=None, checkpoint_id=1, n=2, sampling={"seed": 3})
    params = generate_params(project, request)
    assert (params["checkpoint_id"], params["model_id"], params["n"]) == (1, model, 2)
    assert params["prompt_ids"] == [train, held] and params["store"] is True


def test_progress_counts_today_and_rate(tiny):
    three_prompts(tiny)
    tiny.prompt("no completions yet")
    session = LabelSession(seed=0)
    served = serve(tiny.project, session, ALL)
    assert (served.progress.prompts, served.progress.servable, served.progress.to_go) == (4, 3, 3)
    assert served.progress.per_minute is None and served.progress.today == 0
    record_pair(tiny.project, session, served.task, "a", 4.0)
    record_pair(tiny.project, session, serve(tiny.project, session, ALL).task, "a", 2.0)
    progress = serve(tiny.project, session, ALL).progress
    assert (progress.labelled, progress.to_go, progress.today) == (2, 1, 2)
    assert progress.session_labels == 2 and progress.mean_seconds == 3.0
    assert 0 < progress.per_minute <= 2 * 60 / 4.0  # at least the 4 s since the first was shown


def test_candidate_params_take_unlabelled_prompts_and_refuse_when_none(tiny):
    second = three_prompts(tiny)[1][0]
    session = LabelSession(seed=0)
    record_pair(tiny.project, session, serve(tiny.project, session, ALL).task, "a", 1.0)
    request = CandidateRequest(model_id=None, checkpoint_id=None, n=3, sampling={}, limit=1)
    assert generate_params(tiny.project, request)["prompt_ids"] == [second]
    with pytest.raises(ValueError, match="No prompts without a human label in the 'eval' split"):
        generate_params(tiny.project, CandidateRequest(None, None, 2, {}, split="eval"))
    with pytest.raises(ValueError, match="at least 2"):
        generate_params(tiny.project, CandidateRequest(None, None, 1, {}))


def test_a_reshown_pair_is_swapped_and_its_agreement_recorded(tiny):
    three_prompts(tiny)
    earlier = LabelSession(seed=0)
    originals = []
    for outcome in ("a", "tie"):
        task = serve(tiny.project, earlier, ALL).task
        originals.append((task, record_pair(tiny.project, earlier, task, outcome, 1.0).row_id))
    set_recheck_share(tiny.project, 1.0)
    session = LabelSession(seed=0)
    answers = {}
    for _ in range(2):
        task = serve(tiny.project, session, ALL).task
        original, label_id = next((t, i) for t, i in originals if i == task.recheck_of)
        assert task.ids == original.ids[::-1] and texts(task) == texts(original)[::-1]
        # the same judgement for the first (the old left one is now on the right), a
        # different one for the tie
        answers[label_id] = "b" if original == originals[0][0] else "a"
        record_pair(tiny.project, session, task, answers[label_id], 3.0, "again")
    assert serve(tiny.project, session, ALL).task.recheck_of is None  # each once per sitting
    rows = tiny.project.db.execute(
        "SELECT comparison_id, outcome_as_shown, completion_ids, agrees, seconds, note "
        "FROM consistency_checks ORDER BY comparison_id"
    ).fetchall()
    assert [(r[0], r[1], r[3], r[4], r[5]) for r in rows] == [
        (originals[0][1], "b", 1, 3.0, "again"),
        (originals[1][1], "a", 0, 3.0, "again"),
    ]
    assert json.loads(rows[0][2]) == originals[0][0].ids[::-1]
    assert tiny.count("comparisons") == 2  # not a second label
    assert (agreement(tiny.project).agreed, agreement(tiny.project).total) == (1, 2)
    assert serve(tiny.project, session, ALL).progress.agreement.percent == 50.0
    undo(tiny.project, session)
    assert agreement(tiny.project).total == 1


def test_recheck_share_is_validated_and_off_at_zero(tiny):
    with pytest.raises(ValueError, match="between 0 and 100%"):
        set_recheck_share(tiny.project, 1.5)
    three_prompts(tiny)
    session = LabelSession(seed=0)
    for _ in range(3):
        task = serve(tiny.project, session, ALL).task
        assert task.recheck_of is None
        record_pair(tiny.project, session, task, "a", 1.0)


def test_a_version_3_database_gets_the_consistency_table(tmp_path):
    conn = sqlite3.connect(tmp_path / DB_NAME, isolation_level=None)
    for migration in MIGRATIONS[:3]:
        for statement in migration:
            conn.execute(statement)
    conn.execute("PRAGMA user_version = 3")
    conn.execute("INSERT INTO prompts (text, created_at) VALUES ('q', 1.0)")
    conn.close()
    project = Project.open(tmp_path)
    assert project.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION >= 4
    assert "consistency_checks" in project.db.table_names()
    assert project.db.execute("SELECT text FROM prompts").fetchall() == [("q",)]
    project.close()


def test_undo_right_after_a_skip_brings_the_skipped_task_back_and_deletes_nothing(tiny):
    three_prompts(tiny)
    session = LabelSession(seed=0)
    first = serve(tiny.project, session, ALL).task
    record_pair(tiny.project, session, first, "a", 1.0)
    shown = serve(tiny.project, session, ALL).task
    skip(tiny.project, session, shown)
    assert shown.prompt_id in session.skipped
    undone = undo(tiny.project, session)
    assert undone.kind == "skip" and undone.task == shown
    assert shown.prompt_id not in session.skipped  # it can be served again
    count = tiny.project.db.execute("SELECT COUNT(*) FROM comparisons").fetchone()[0]
    assert count == 1  # the label before the skip is kept
    assert session.label_seconds() == [1.0]  # a skip is no label in the timings
    assert undo(tiny.project, session).task == first  # the next Undo deletes that label
