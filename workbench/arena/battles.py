"""The arena's battles: one vote between two entrants, and the entrants a project knows.

An entrant is named by a string: "base" for the project's base model (its default model),
"checkpoint-ID" for a checkpoint of one of its runs, and any other name (a model of an
imported FastChat file) is kept as an external entrant. A vote cast in the arena also
records the prompt, the two completions and checkpoints behind it, and the preference
label it became; an imported battle has only names and a winner.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from workbench.arena.ratings import WINNERS, BattleCount
from workbench.db.inserted import inserted_rowid
from workbench.project import Project

SOURCES = ("human", "ai", "import")
BASE_ENTRANT = "base"
CHECKPOINT_PREFIX = "checkpoint-"
_COLUMNS = (
    "model_a, model_b, winner, source, judge, prompt_id, completion_a_id, completion_b_id, "
    "checkpoint_a_id, checkpoint_b_id, comparison_id, created_at"
)


@dataclass(frozen=True)
class Battle:
    id: int
    model_a: str
    model_b: str
    winner: str  # model_a | model_b | tie | tie (bothbad)
    source: str  # human | ai | import
    judge: str | None
    prompt_id: int | None
    completion_a_id: int | None
    completion_b_id: int | None
    checkpoint_a_id: int | None
    checkpoint_b_id: int | None
    comparison_id: int | None
    created_at: float


@dataclass(frozen=True)
class Entrant:
    name: str
    kind: str  # base | checkpoint | external
    checkpoint_id: int | None
    battles: int


def checkpoint_entrant(checkpoint_id: int) -> str:
    """The entrant name of a checkpoint."""
    return f"{CHECKPOINT_PREFIX}{checkpoint_id}"


def check_battle(model_a: object, model_b: object, winner: object, source: str) -> None:
    """Raise ValueError saying what is wrong with a battle, if anything."""
    if source not in SOURCES:
        raise ValueError(f"source must be one of {', '.join(SOURCES)}, not {source!r}")
    for key, name in (("model_a", model_a), ("model_b", model_b)):
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"{key} must be a model name (a non-empty string), not {name!r}")
    if model_a == model_b:
        raise ValueError(f"model_a and model_b are the same model, {model_a!r}")
    if winner not in WINNERS:
        raise ValueError(f"winner must be one of {', '.join(WINNERS)}, not {winner!r}")


def add_battle(
    project: Project,
    model_a: str,
    model_b: str,
    winner: str,
    source: str,
    *,
    judge: str | None = None,
    prompt_id: int | None = None,
    completion_ids: tuple[int, int] | None = None,
    checkpoint_ids: tuple[int | None, int | None] = (None, None),
    comparison_id: int | None = None,
) -> int:
    """Store one vote; returns its id. A side with a checkpoint id must carry its name."""
    check_battle(model_a, model_b, winner, source)
    for name, checkpoint_id in zip((model_a, model_b), checkpoint_ids, strict=True):
        if checkpoint_id is not None and name != checkpoint_entrant(checkpoint_id):
            raise ValueError(
                f"checkpoint {checkpoint_id} battles as {checkpoint_entrant(checkpoint_id)!r}, "
                f"not {name!r}"
            )
    completion_a, completion_b = completion_ids or (None, None)
    cursor = project.db.execute(
        f"INSERT INTO arena_battles ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            model_a,
            model_b,
            winner,
            source,
            judge,
            prompt_id,
            completion_a,
            completion_b,
            *checkpoint_ids,
            comparison_id,
            time.time(),
        ],
    )
    return inserted_rowid(cursor)


def add_battles(project: Project, battles: Sequence[tuple[str, str, str]], source: str) -> int:
    """Store (model_a, model_b, winner) battles with no prompt behind them, all or none;
    returns how many."""
    for model_a, model_b, winner in battles:
        check_battle(model_a, model_b, winner, source)
    now = time.time()
    with project.transaction() as conn:
        conn.executemany(
            "INSERT INTO arena_battles (model_a, model_b, winner, source, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            ((a, b, winner, source, now) for a, b, winner in battles),
        )
    return len(battles)


def _where(sources: Iterable[str] | None) -> tuple[str, list[str]]:
    if sources is None:
        return "", []
    chosen = list(sources)
    for source in chosen:
        if source not in SOURCES:
            raise ValueError(f"source must be one of {', '.join(SOURCES)}, not {source!r}")
    return f"WHERE source IN ({', '.join('?' * len(chosen))})", chosen


def list_battles(project: Project, sources: Iterable[str] | None = None) -> list[Battle]:
    """The battles of the given sources (default: all), oldest first."""
    where, args = _where(sources)
    rows = project.db.execute(f"SELECT id, {_COLUMNS} FROM arena_battles {where} ORDER BY id", args)
    return [Battle(*row) for row in rows.fetchall()]


def battle_counts(project: Project, sources: Iterable[str] | None = None) -> list[BattleCount]:
    """The battles aggregated by (model_a, model_b, winner), in the order each first came:
    what `ratings.fit_ratings` takes, without reading every battle into Python."""
    where, args = _where(sources)
    rows = project.db.execute(
        f"SELECT model_a, model_b, winner, COUNT(*), MIN(id) AS first FROM arena_battles {where} "
        "GROUP BY model_a, model_b, winner ORDER BY first",
        args,
    )
    return [BattleCount(a, b, winner, n) for a, b, winner, n, _ in rows.fetchall()]


def battles_per_entrant(project: Project) -> dict[str, int]:
    """How many battles each name fought, in the order the names first appear."""
    rows = project.db.execute(
        "SELECT name, COUNT(*), MIN(id) AS first FROM ("
        "SELECT model_a AS name, id FROM arena_battles UNION ALL "
        "SELECT model_b AS name, id FROM arena_battles) GROUP BY name ORDER BY first, name"
    )
    return {name: n for name, n, _ in rows.fetchall()}


def entrants(project: Project) -> list[Entrant]:
    """The base model (when the project has one), every checkpoint, then the external
    names of the battles in the order they first appeared."""
    fought = battles_per_entrant(project)
    known: list[Entrant] = []
    if project.db.execute("SELECT 1 FROM models LIMIT 1").fetchone():
        known.append(Entrant(BASE_ENTRANT, "base", None, fought.get(BASE_ENTRANT, 0)))
    for (checkpoint_id,) in project.db.execute("SELECT id FROM checkpoints ORDER BY id"):
        name = checkpoint_entrant(checkpoint_id)
        known.append(Entrant(name, "checkpoint", checkpoint_id, fought.get(name, 0)))
    names = {entrant.name for entrant in known}
    external = [Entrant(n, "external", None, k) for n, k in fought.items() if n not in names]
    return known + external
