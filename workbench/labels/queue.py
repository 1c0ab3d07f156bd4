"""The labelling queue: which prompt and completions to show a rater next, storing each
label the moment it is made, skip and undo.

Order: prompts with no human label in scope first (in id order), then prompts that still
have pairs nobody compared. The completions are shown in a random order (left/right, or
the list in ranking mode), drawn from the session's seeded RNG and stored as the
comparison's `completion_ids`. A share of the pair tasks re-shows a pair the rater already
labelled, sides swapped, to measure their consistency (see `consistency`).

A `LabelSession` is one sitting of a rater. Its caller runs these functions on one database
thread, in order, so the session is only ever touched from that one thread.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field

from workbench.labels import consistency
from workbench.labels.comparisons import add_comparison, get_comparison
from workbench.labels.progress import LabelProgress, measure
from workbench.labels.scope import LabelFilters, PromptState, Scope, load_scope
from workbench.project import Project

MODES = ("pair", "rank")
# A pair labelled this few labels ago is not re-shown yet: that would test memory.
RECHECK_MIN_GAP = 10


class NothingToUndo(ValueError):
    """Undo was asked for, but this sitting has no label left to take back."""


@dataclass(frozen=True)
class Shown:
    id: int
    text: str
    num_tokens: int | None
    finish_reason: str | None


@dataclass(frozen=True)
class Task:
    prompt_id: int
    text: str | None  # the prompt's text, or None for a chat prompt
    messages: list[dict] | None
    reference: str | None
    split: str
    completions: tuple[Shown, ...]  # in the order shown: left first, or top first
    mode: str  # pair | rank
    recheck_of: int | None = None  # the human label this pair re-shows, sides swapped

    @property
    def ids(self) -> list[int]:
        return [c.id for c in self.completions]


@dataclass
class Made:
    kind: str  # comparison | check | skip (row_id: the skipped prompt)
    row_id: int
    task: Task
    seconds: float


@dataclass
class LabelSession:
    seed: int | None = None
    made: list[Made] = field(default_factory=list)  # the undo stack (labels and skips)
    skipped: set[int] = field(default_factory=set)  # prompt ids
    rechecked: set[int] = field(default_factory=set)  # comparison ids re-shown
    first_shown: float | None = None

    def __post_init__(self):
        self.rng = random.Random(self.seed)

    def label_seconds(self) -> list[float]:
        return [m.seconds for m in self.made if m.kind != "skip"]


@dataclass(frozen=True)
class Served:
    task: Task | None  # None when nothing in scope is left to label
    progress: LabelProgress


def serve(
    project: Project,
    session: LabelSession,
    filters: LabelFilters,
    mode: str = "pair",
    size: int = 4,
) -> Served:
    """The next task (None when all is labelled or skipped) and the progress so far."""
    if mode not in MODES:
        raise ValueError(f"mode must be 'pair' or 'rank', not {mode!r}")
    if size < 2:
        raise ValueError(f"a ranking needs at least 2 completions, not {size}")
    scope = load_scope(project, filters)
    return Served(
        _next(project, session, scope, mode, size), measure(project, scope, filters, session)
    )


def progress(project: Project, session: LabelSession, filters: LabelFilters) -> LabelProgress:
    return measure(project, load_scope(project, filters), filters, session)


def _next(
    project: Project, session: LabelSession, scope: Scope, mode: str, size: int
) -> Task | None:
    state = scope.first(lambda s: s.servable and not s.labelled, session.skipped) or scope.first(
        lambda s: bool(s.open_pairs()), session.skipped
    )
    if state is None:
        return None
    rng = session.rng
    if mode == "rank":
        return task_of(project, state.prompt_id, _ranked(state, rng, size), "rank")
    recheck = _recheck(project, session, scope)
    if recheck is not None:
        return recheck
    pair = list(rng.choice(state.open_pairs()))
    rng.shuffle(pair)
    return task_of(project, state.prompt_id, pair, "pair")


def _ranked(state: PromptState, rng: random.Random, size: int) -> list[int]:
    """Up to `size` distinct completions, at least one pair of them not yet compared."""
    chosen = list(rng.choice(state.open_pairs()))
    rest = [i for i in state.canonical if i not in chosen]
    rng.shuffle(rest)
    chosen += rest[: size - 2]
    rng.shuffle(chosen)
    return chosen


def _recheck(project: Project, session: LabelSession, scope: Scope) -> Task | None:
    share = consistency.recheck_share(project)
    if share <= 0 or session.rng.random() >= share:
        return None
    recent = {m.row_id for m in session.made[-RECHECK_MIN_GAP:] if m.kind == "comparison"}
    ids = consistency.eligible(project, scope.in_scope, session.rechecked | recent)
    if not ids:
        return None
    comparison = get_comparison(project, session.rng.choice(ids))
    session.rechecked.add(comparison.id)
    swapped = comparison.completion_ids[::-1]
    return task_of(project, comparison.prompt_id, swapped, "pair", recheck_of=comparison.id)


def task_of(
    project: Project, prompt_id: int, ids: list[int], mode: str, recheck_of: int | None = None
) -> Task:
    from workbench.data.prompts import get_prompt

    prompt = get_prompt(project, prompt_id)
    rows = {
        row[0]: Shown(*row)
        for row in project.db.execute(
            "SELECT id, text, num_tokens, finish_reason FROM completions WHERE id IN "
            f"({', '.join('?' * len(ids))})",
            ids,
        )
    }
    return Task(
        prompt_id,
        prompt.text,
        prompt.messages,
        prompt.reference,
        prompt.split,
        tuple(rows[i] for i in ids),
        mode,
        recheck_of,
    )


# Answers ---------------------------------------------------------------------------------
def record_pair(
    project: Project,
    session: LabelSession,
    task: Task,
    outcome: str,
    seconds: float,
    note: str = "",
) -> Made:
    """Store a pair's label (or a re-shown pair's answer) at once; `outcome` is of the
    order shown: `a` the left one is better, `b` the right one."""
    if task.mode != "pair":
        raise ValueError("this task is a ranking; submit the full order")
    if outcome not in consistency.PAIR_OUTCOMES:
        raise ValueError(f"a pair's label is one of a, b, tie, both_bad, not {outcome!r}")
    if task.recheck_of is not None:
        row_id, _ = consistency.record_check(
            project, task.recheck_of, task.ids, outcome, seconds, note or None
        )
        return _made(session, "check", row_id, task, seconds)
    row_id = add_comparison(
        project, task.prompt_id, task.ids, outcome, "human", seconds=seconds, note=note or None
    )
    return _made(session, "comparison", row_id, task, seconds)


def record_ranking(
    project: Project,
    session: LabelSession,
    task: Task,
    ranking: list[int],
    seconds: float,
    note: str = "",
) -> Made:
    """Store the full order of a ranking task, best first."""
    if task.mode != "rank":
        raise ValueError("this task is a pair; label it better, tie or both bad")
    row_id = add_comparison(
        project,
        task.prompt_id,
        task.ids,
        "ranking",
        "human",
        seconds=seconds,
        note=note or None,
        ranking=list(ranking),
    )
    return _made(session, "comparison", row_id, task, seconds)


def record_all_bad(
    project: Project, session: LabelSession, task: Task, seconds: float, note: str = ""
) -> Made:
    """None of a ranking task's completions is acceptable: no order is learnt from them,
    and each is an undesirable example (as both bad is for a pair)."""
    if task.mode != "rank":
        raise ValueError("this task is a pair; label it both bad")
    row_id = add_comparison(
        project, task.prompt_id, task.ids, "both_bad", "human", seconds=seconds, note=note or None
    )
    return _made(session, "comparison", row_id, task, seconds)


def _made(session: LabelSession, kind: str, row_id: int, task: Task, seconds: float) -> Made:
    if session.first_shown is None:
        session.first_shown = time.time() - seconds
    made = Made(kind, row_id, task, seconds)
    session.made.append(made)
    return made


def skip(_project: Project, session: LabelSession, task: Task) -> None:
    """Not now: the prompt is not served again in this sitting (until `unskip`). A skip
    is on the undo stack, so Undo right after it brings this task back and deletes nothing."""
    if task.recheck_of is None:
        session.skipped.add(task.prompt_id)
    session.made.append(Made("skip", task.prompt_id, task, 0.0))


def unskip(_project: Project, session: LabelSession) -> None:
    session.skipped.clear()


def undo(project: Project, session: LabelSession) -> Made:
    """Undo this sitting's last action: a label is deleted, a skip forgotten; returns what
    was undone, whose task is shown again."""
    if not session.made:
        raise NothingToUndo(
            "Nothing to undo: no label was made since the Label view opened this project. "
            "Labels from earlier sittings are kept."
        )
    made = session.made.pop()
    if made.kind == "skip":
        if not any(m.kind == "skip" and m.row_id == made.row_id for m in session.made):
            session.skipped.discard(made.row_id)
    elif made.kind == "check":
        consistency.delete_check(project, made.row_id)
    else:
        _delete_label(project, made.row_id)
    return made


def _delete_label(project: Project, comparison_id: int) -> None:
    with project.transaction() as conn:
        # A label this one overrode becomes active again rather than pointing at nothing.
        conn.execute(
            "UPDATE comparisons SET superseded_by = NULL WHERE superseded_by = ?", [comparison_id]
        )
        conn.execute("DELETE FROM comparisons WHERE id = ? AND source = 'human'", [comparison_id])
