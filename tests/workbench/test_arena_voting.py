"""The blind arena over a stored comparison: pairing, votes stored as labels and battles,
undo, the judge's agreement with people, lineage, and the plan of the next round."""

from __future__ import annotations

import random
import time

import pytest

from tests.workbench.arena_helpers import arena_comparison
from workbench.arena.board import arena_board, judge_agreement
from workbench.arena.next_round import NoWinner, plan_next_round, start_next_round
from workbench.arena.pairing import pair_weight, ranked_pairs
from workbench.arena.voting import (
    ArenaSitting,
    NothingToUndo,
    next_battle,
    record_vote,
    reveal,
    skip,
    undo_vote,
)
from workbench.jobs import queue as jobs
from workbench.labels.comparisons import add_comparison, get_comparison
from workbench.training.history import answers_from


def writers(project, completion_ids):
    rows = project.db.execute(
        "SELECT id, checkpoint_id FROM completions WHERE id IN (?, ?)", completion_ids
    ).fetchall()
    found = dict(rows)
    return [found[i] for i in completion_ids]


def test_pairing_prefers_unplayed_pairs_then_close_ratings():
    rng = random.Random(0)
    names = ["a", "b", "c"]
    played = {frozenset("ab"): 10, frozenset("ac"): 10}
    assert ranked_pairs(names, played, {}, rng)[0] == ("b", "c")
    # All played as often: the close pair (a, b) informs more than the lopsided (a, c).
    even = {frozenset(p): 5 for p in ("ab", "ac", "bc")}
    ratings = {"a": 1000.0, "b": 1010.0, "c": 1400.0}
    assert ranked_pairs(names, even, ratings, rng)[0] == ("a", "b")
    assert pair_weight(1000, 1000, 0) == pytest.approx(0.25)
    assert pair_weight(1000, 1000, 3) == pytest.approx(0.25 / 4)


def test_a_vote_is_a_label_and_a_battle_linked_to_both_checkpoints_and_undo_deletes_both(
    demo_project,
):
    comparison, checkpoints = arena_comparison(demo_project)
    sitting = ArenaSitting(seed=3)
    arena = next_battle(demo_project, sitting, comparison.id)
    assert arena is not None and arena.left.name != arena.right.name
    left, right = arena.task.completions
    assert left.text.strip() != right.text.strip()
    vote = record_vote(demo_project, sitting, arena, "a", 2.5)

    label = get_comparison(demo_project, vote.label_id)
    assert label.source == "human" and label.outcome == "a"
    assert label.completion_ids == [left.id, right.id]
    assert writers(demo_project, label.completion_ids) == [
        arena.left.checkpoint_id,
        arena.right.checkpoint_id,
    ]
    battle = demo_project.db.execute(
        "SELECT model_a, model_b, winner, source, checkpoint_a_id, checkpoint_b_id, "
        "comparison_id, completion_a_id, completion_b_id FROM arena_battles"
    ).fetchall()
    assert battle == [
        (
            arena.left.name,
            arena.right.name,
            "model_a",
            "human",
            arena.left.checkpoint_id,
            arena.right.checkpoint_id,
            vote.label_id,
            left.id,
            right.id,
        )
    ]
    assert arena.left.label in reveal(vote) and arena.right.label in reveal(vote)

    assert undo_vote(demo_project, sitting) == arena
    assert demo_project.db.execute("SELECT count(*) FROM arena_battles").fetchone() == (0,)
    assert demo_project.db.execute("SELECT count(*) FROM comparisons").fetchone() == (0,)
    with pytest.raises(NothingToUndo):
        undo_vote(demo_project, sitting)


def test_the_arena_serves_every_differing_pair_once_and_sides_vary(demo_project):
    comparison, _ = arena_comparison(demo_project, prompts=6)
    sitting = ArenaSitting(seed=0)
    served, lefts = [], set()
    while (arena := next_battle(demo_project, sitting, comparison.id)) is not None:
        served.append(frozenset(arena.task.ids))
        lefts.add(arena.left.name)
        record_vote(demo_project, sitting, arena, "tie")
    # 3 pairs of entrants x 6 prompts, less the one prompt where two answers are the same.
    assert len(served) == len(set(served)) == 17
    assert len(lefts) == 3
    # Skipping: the pair is not served again in this sitting, and other votes still are.
    other, _ = arena_comparison(demo_project, prompts=2)
    arena = next_battle(demo_project, sitting, other.id)
    skip(demo_project, sitting, arena)
    assert frozenset(next_battle(demo_project, sitting, other.id).task.ids) != frozenset(
        arena.task.ids
    )


def test_human_and_ai_votes_are_rated_apart_with_their_agreement(demo_project):
    comparison, _ = arena_comparison(demo_project)
    people, judge = ArenaSitting(seed=1), ArenaSitting(seed=1)
    for i in range(4):
        arena = next_battle(demo_project, people, comparison.id)
        record_vote(demo_project, people, arena, "a")
        # The judge votes on the same pair: agreeing on the first three, not on the last.
        record_vote(
            demo_project, judge, arena, "a" if i < 3 else "b", source="ai", judge="demo judge"
        )
    assert judge_agreement(demo_project).shared == 4
    assert judge_agreement(demo_project).agreed == 3
    human = arena_board(demo_project, "human", bootstrap_rounds=20)
    ai = arena_board(demo_project, "ai", bootstrap_rounds=20)
    assert sum(r.battles for r in human["table"].ratings) == 8  # 4 battles, 2 sides each
    assert sum(r.battles for r in ai["table"].ratings) == 8
    assert human["agreement"]["rate"] == pytest.approx(0.75)
    assert set(human["labels"].values()) >= {"base: demo-tiny"} or human["labels"]
    assert demo_project.db.execute(
        "SELECT count(*) FROM comparisons WHERE source = 'ai' AND judge = 'demo judge'"
    ).fetchone() == (4,)


def test_next_round_continues_from_the_winner_on_the_labels_since_its_run(demo_project):
    with pytest.raises(NoWinner):
        plan_next_round(demo_project)
    # On train prompts: votes on eval prompts are kept for the run's evaluation.
    comparison, checkpoints = arena_comparison(demo_project, split="train")
    # An older label from before the winner's run must stay out of the next round.
    old = demo_project.db.execute("SELECT id, prompt_id FROM completions LIMIT 2").fetchall()
    add_comparison(demo_project, old[0][1], [old[0][0], old[1][0]], "a", "human")
    demo_project.db.execute("UPDATE comparisons SET created_at = ?", [time.time() - 3600])
    demo_project.db.execute("UPDATE runs SET created_at = ?", [time.time() - 60])
    sitting = ArenaSitting(seed=2)
    while (arena := next_battle(demo_project, sitting, comparison.id)) is not None:
        # The second checkpoint wins every battle it is in; otherwise left is better.
        second = f"checkpoint-{checkpoints[1]}"
        outcome = "b" if arena.right.name == second else "a"
        record_vote(demo_project, sitting, arena, outcome)

    plan = plan_next_round(demo_project, overrides={"max_steps": 2})
    assert plan.winner == f"checkpoint-{checkpoints[1]}" and plan.checkpoint_id == checkpoints[1]
    assert plan.config["init_checkpoint"] == checkpoints[1]
    assert plan.config["labels_since"] == plan.since and plan.config["max_steps"] == 2
    votes = len(sitting.votes)
    counts = plan.counts
    # Every vote but the old label; the base and the first checkpoint wrote the same
    # answer to the first prompt, so two votes there make the same pair (one is dropped).
    train, evaluation = counts["train"], counts["eval"]
    assert train["pairs"] + evaluation["pairs"] + train["duplicates"] == votes
    assert train["pairs"] > 0 and evaluation["pairs"] > 0  # a share held out to evaluate
    job_id = start_next_round(demo_project, plan)
    assert jobs.get(demo_project, job_id).params["config"]["init_checkpoint"] == checkpoints[1]

    # Lineage: the votes' answers came from the base model and both checkpoints.
    ids = [v.label_id for v in sitting.votes]
    labels = {a["checkpoint_id"]: a["answers"] for a in answers_from(demo_project, ids)}
    assert set(labels) == {None, *checkpoints} and sum(labels.values()) == 2 * votes


@pytest.mark.slow
def test_the_demo_judge_plays_the_arena_as_ai_votes_kept_apart(demo_project, run_queue):
    comparison, _ = arena_comparison(demo_project)
    people = ArenaSitting(seed=5)
    for _ in range(3):
        record_vote(demo_project, people, next_battle(demo_project, people, comparison.id), "a")
    job_id = jobs.submit(
        demo_project, "arena_judge", {"comparison_id": comparison.id, "battles": 20}
    )
    assert run_queue(demo_project) == 1
    job = jobs.get(demo_project, job_id)
    assert job.status == "done", job.error
    result = job.result
    # 17 differing pairs: the judge votes on every one, people's 3 among them.
    assert result["battles"] + result["errors"] == 17
    sources = dict(
        demo_project.db.execute("SELECT source, count(*) FROM arena_battles GROUP BY source")
    )
    assert sources == {"human": 3, "ai": result["battles"]}
    assert result["errors"] == 0, result["error_examples"]
    assert result["agreement_with_people"]["shared"] == judge_agreement(demo_project).shared == 3
    assert demo_project.db.execute(
        "SELECT count(*) FROM comparisons WHERE source = 'ai' AND judge = ?", [result["identity"]]
    ).fetchone() == (17,)


class _FailingJudge:
    identity = "broken judge"

    def compare(self, items, **_kwargs):
        from engine.judge.base import Verdict

        return [Verdict(None, error="the endpoint timed out after 30 s") for _ in items]


def test_a_judge_that_errors_stores_nothing_and_names_the_error(
    demo_project, run_queue, monkeypatch
):
    import workbench.jobs.handlers.arena_judge as handler

    comparison, _ = arena_comparison(demo_project)
    monkeypatch.setattr(handler, "build_pair_judge", lambda *args, **kwargs: _FailingJudge())
    job_id = jobs.submit(demo_project, "arena_judge", {"comparison_id": comparison.id})
    assert run_queue(demo_project) == 1
    job = jobs.get(demo_project, job_id)
    assert job.status == "done"
    assert job.result["battles"] == 0 and job.result["errors"] == 17
    assert job.result["error_examples"] == ["the endpoint timed out after 30 s"]
    assert demo_project.db.execute("SELECT count(*) FROM arena_battles").fetchone() == (0,)
    assert demo_project.db.execute("SELECT count(*) FROM comparisons").fetchone() == (0,)

    unknown = jobs.submit(
        demo_project, "arena_judge", {"comparison_id": comparison.id, "judge": "nosuch"}
    )
    run_queue(demo_project)
    failed = jobs.get(demo_project, unknown)
    assert failed.status == "failed" and "nosuch" in failed.error
