"""The blind arena over a stored comparison: two completions of the same prompt by two of
its entrants, sides drawn at random, and the vote on them.

A vote is stored twice in one transaction: as a preference label (`comparisons`, source
human or ai, the two completions in the order shown), so the next DPO run trains on it,
and as an arena battle naming the two entrants and their checkpoints, which the ratings
are fitted on. The battle points at its label. Undo deletes both.

Which pair comes next is `pairing.ranked_pairs`: the most informative pair of entrants
that still has a prompt whose two answers differ and were not voted on by this source.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from workbench.arena.battles import BASE_ENTRANT, add_battle, battle_counts, checkpoint_entrant
from workbench.arena.pairing import ranked_pairs
from workbench.arena.ratings import fit_ratings
from workbench.comparing.matching import Found, find_completions
from workbench.comparing.store import Comparison, load
from workbench.data.models import default_model
from workbench.labels.comparisons import add_comparison
from workbench.labels.queue import Task, task_of
from workbench.project import Project

# A pair label's outcome (of the order shown) -> the battle's winner (model_a shown left).
WINNER_OF = {"a": "model_a", "b": "model_b", "tie": "tie", "both_bad": "tie (bothbad)"}
VOTE_SOURCES = ("human", "ai")


class NothingToUndo(ValueError):
    """Undo was asked for, but this sitting has cast no vote it can take back."""


@dataclass(frozen=True)
class ArenaEntrant:
    name: str  # the battle name: base, checkpoint-ID or model-ID
    label: str  # what the reveal shows: the base model's name, or run name and step
    model_id: int
    checkpoint_id: int | None


@dataclass(frozen=True)
class ArenaTask:
    comparison_id: int
    task: Task  # the prompt and the two completions, left first
    left: ArenaEntrant
    right: ArenaEntrant
    seed: int


@dataclass(frozen=True)
class Vote:
    battle_id: int
    label_id: int
    arena: ArenaTask
    outcome: str  # a | b | tie | both_bad, of the order shown
    seconds: float | None


@dataclass
class ArenaSitting:
    """One person's (or one judge's) session in the arena: the undo stack and the skips."""

    seed: int | None = None
    votes: list[Vote] = field(default_factory=list)
    skipped: set[frozenset[int]] = field(default_factory=set)  # completion id pairs

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)


def arena_entrants(project: Project, comparison: Comparison) -> list[ArenaEntrant]:
    """The comparison's entrants under their battle names, baseline first."""
    try:
        default_id: int | None = default_model(project).id
    except KeyError:
        default_id = None
    out = []
    for entry in comparison.entries:
        if entry.checkpoint_id is not None:
            name = checkpoint_entrant(entry.checkpoint_id)
        elif entry.model_id == default_id:
            name = BASE_ENTRANT
        else:
            name = f"model-{entry.model_id}"
        out.append(ArenaEntrant(name, entry.label, entry.model_id, entry.checkpoint_id))
    return out


def voted_pairs(project: Project, source: str) -> set[frozenset[int]]:
    """The completion pairs this source has voted on in the arena."""
    rows = project.db.execute(
        "SELECT completion_a_id, completion_b_id FROM arena_battles WHERE source = ? "
        "AND completion_a_id IS NOT NULL AND completion_b_id IS NOT NULL",
        [source],
    )
    return {frozenset(row) for row in rows}


def _standing(project: Project, source: str) -> tuple[dict[frozenset[str], int], dict[str, float]]:
    """Votes per pair of entrant names and the point ratings, from this source's battles."""
    counts = battle_counts(project, [source])
    between: dict[frozenset[str], int] = {}
    for row in counts:
        key = frozenset((row.model_a, row.model_b))
        between[key] = between.get(key, 0) + row.count
    table = fit_ratings(counts, baseline=BASE_ENTRANT, bootstrap_rounds=0)
    return between, {r.model: r.rating for r in table.ratings}


def _answers(project: Project, comparison: Comparison) -> dict[int, dict[tuple[int, int], Found]]:
    """{position: {(prompt id, seed): completion}} of every entrant."""
    return {
        entry.position: find_completions(
            project,
            entry.model_id,
            entry.checkpoint_id,
            comparison.prompt_ids,
            comparison.sampling,
            comparison.seeds,
        )
        for entry in comparison.entries
    }


def next_battle(
    project: Project, sitting: ArenaSitting, comparison_id: int, source: str = "human"
) -> ArenaTask | None:
    """The next blind pair to vote on, or None when every pair of answers that differ has
    had this source's vote (or was skipped in this sitting)."""
    comparison = load(project, comparison_id)
    entrants = arena_entrants(project, comparison)
    if len(entrants) < 2:
        raise ValueError(f"Comparison #{comparison_id} has one model; the arena needs two.")
    by_name = {e.name: (position, e) for position, e in enumerate(entrants)}
    answers = _answers(project, comparison)
    seen = voted_pairs(project, source) | sitting.skipped
    between, ratings = _standing(project, source)
    rng = sitting.rng
    for a, b in ranked_pairs([e.name for e in entrants], between, ratings, rng):
        (pa, ea), (pb, eb) = by_name[a], by_name[b]
        options = [
            (key, answers[pa][key], answers[pb][key])
            for key in sorted(answers[pa])
            if key in answers[pb]
            and answers[pa][key].text.strip() != answers[pb][key].text.strip()
            and frozenset((answers[pa][key].id, answers[pb][key].id)) not in seen
        ]
        if not options:
            continue
        (prompt_id, seed), fa, fb = rng.choice(options)
        if rng.random() < 0.5:
            (ea, fa), (eb, fb) = (eb, fb), (ea, fa)
        task = task_of(project, prompt_id, [fa.id, fb.id], "pair")
        return ArenaTask(comparison_id, task, ea, eb, seed)
    return None


def record_vote(
    project: Project,
    sitting: ArenaSitting,
    arena: ArenaTask,
    outcome: str,
    seconds: float | None = None,
    *,
    source: str = "human",
    judge: str | None = None,
    confidence: float | None = None,
    note: str | None = None,
) -> Vote:
    """Store the vote as a preference label and a battle, both or neither."""
    if outcome not in WINNER_OF:
        raise ValueError(f"a vote is one of {', '.join(WINNER_OF)}, not {outcome!r}")
    if source not in VOTE_SOURCES:
        raise ValueError(f"an arena vote comes from {' or '.join(VOTE_SOURCES)}, not {source!r}")
    ids = arena.task.ids
    with project.transaction():
        label_id = add_comparison(
            project,
            arena.task.prompt_id,
            ids,
            outcome,
            source,
            judge=judge,
            confidence=confidence,
            seconds=seconds,
            note=note,
        )
        battle_id = add_battle(
            project,
            arena.left.name,
            arena.right.name,
            WINNER_OF[outcome],
            source,
            judge=judge,
            prompt_id=arena.task.prompt_id,
            completion_ids=(ids[0], ids[1]),
            checkpoint_ids=(arena.left.checkpoint_id, arena.right.checkpoint_id),
            comparison_id=label_id,
        )
    vote = Vote(battle_id, label_id, arena, outcome, seconds)
    sitting.votes.append(vote)
    return vote


def skip(_project: Project, sitting: ArenaSitting, arena: ArenaTask) -> None:
    """Not this pair of answers, in this sitting."""
    sitting.skipped.add(frozenset(arena.task.ids))


def undo_vote(project: Project, sitting: ArenaSitting) -> ArenaTask:
    """Delete this sitting's last vote (its battle and its label); returns its pair."""
    if not sitting.votes:
        raise NothingToUndo("Nothing to undo: no vote was cast since the arena was opened.")
    vote = sitting.votes.pop()
    with project.transaction() as conn:
        conn.execute("DELETE FROM arena_battles WHERE id = ?", [vote.battle_id])
        conn.execute(
            "UPDATE comparisons SET superseded_by = NULL WHERE superseded_by = ?", [vote.label_id]
        )
        conn.execute("DELETE FROM comparisons WHERE id = ?", [vote.label_id])
    return vote.arena


def reveal(vote: Vote) -> str:
    """What the person learns after voting: who wrote which side."""
    return f"Left was {vote.arena.left.label}; right was {vote.arena.right.label}."
