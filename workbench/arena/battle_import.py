"""Importing battles in FastChat's format: one JSON object a line with `model_a`,
`model_b` and `winner` (model_a | model_b | tie | tie (bothbad)); other keys are ignored.

All or nothing: every bad line is reported by its number (1 is the first line) and then
nothing is stored. Names the project does not know are kept as external entrants.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from workbench.arena.battles import add_battles, check_battle, entrants
from workbench.arena.ratings import WINNERS
from workbench.data.prompt_io.errors import ImportFailed, LineError
from workbench.data.prompt_io.readers import loads_strict
from workbench.data.prompt_io.values import value_problem
from workbench.project import Project

REQUIRED = ("model_a", "model_b", "winner")


@dataclass(frozen=True)
class BattleImportReport:
    imported: int
    winners: dict[str, int]  # how many of each winner value, in WINNERS order
    models: list[str]  # the names in the file, in the order they first appear
    external: list[str]  # those the project does not know (not base, not a checkpoint)


def parse_line(text: str) -> tuple[str, str, str]:
    """One line -> (model_a, model_b, winner); ValueError says what is wrong with it."""
    try:
        record = loads_strict(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    except RecursionError:
        raise ValueError("invalid JSON: nested too deeply") from None
    if not isinstance(record, dict):
        raise ValueError(f"expected a JSON object, found {type(record).__name__}")
    missing = [key for key in REQUIRED if key not in record]
    if missing:
        raise ValueError(f"missing {', '.join(repr(key) for key in missing)}")
    problem = value_problem({key: record[key] for key in REQUIRED})
    if problem:
        raise ValueError(problem)
    model_a, model_b, winner = (record[key] for key in REQUIRED)
    check_battle(model_a, model_b, winner, "import")
    return model_a, model_b, winner


def read_battles(path: str | Path) -> list[tuple[str, str, str]]:
    """Every battle of the file, or ImportFailed listing each bad line. Blank lines are
    skipped (they still count in the line numbers)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFailed([LineError(0, f"{path.name} is not UTF-8 text ({exc})")], path) from exc
    battles: list[tuple[str, str, str]] = []
    errors: list[LineError] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            battles.append(parse_line(line))
        except ValueError as exc:
            errors.append(LineError(number, f"line {number}: {exc}"))
    if errors:
        raise ImportFailed(errors, path)
    if not battles:
        raise ImportFailed([LineError(0, f"{path.name} holds no battles")], path)
    return battles


def import_battles(project: Project, path: str | Path) -> BattleImportReport:
    """Store every battle of a FastChat file with source `import`, or none."""
    battles = read_battles(path)
    add_battles(project, battles, "import")
    winners = Counter(winner for _, _, winner in battles)
    models = list(dict.fromkeys(name for a, b, _ in battles for name in (a, b)))
    known = {e.name for e in entrants(project) if e.kind != "external"}
    return BattleImportReport(
        imported=len(battles),
        winners={winner: winners.get(winner, 0) for winner in WINNERS},
        models=models,
        external=[name for name in models if name not in known],
    )
