"""The project's rules: stored as data (kind, parameters, weight, gate), validated by the
engine's rule registry before they are written, so a stored rule always loads."""

from __future__ import annotations

import json
import sqlite3
import time

from engine.rules.registry import make_rule
from engine.rules.spec import RuleSpec
from workbench.db.inserted import inserted_pk
from workbench.project import Project


class RuleStoreError(ValueError):
    """A rule that cannot be stored; the message says which and why."""


def _spec(row: dict) -> tuple[int, RuleSpec]:
    spec = RuleSpec(
        name=row["name"],
        kind=row["kind"],
        params=json.loads(row["params"] or "{}"),
        weight=row["weight"],
        enabled=bool(row["enabled"]),
        gate=bool(row["gate"]),
    )
    return row["id"], spec


def _validated(spec: RuleSpec) -> RuleSpec:
    if not spec.name.strip():
        raise RuleStoreError("A rule needs a name.")
    make_rule(spec)  # raises RuleParamError naming the bad parameter
    return spec


def _row(spec: RuleSpec) -> dict:
    return {
        "name": spec.name.strip(),
        "kind": spec.kind,
        "params": json.dumps(spec.params),
        "weight": float(spec.weight),
        "enabled": int(spec.enabled),
        "gate": int(spec.gate),
    }


def add_rule(project: Project, spec: RuleSpec) -> int:
    table = project.db.table("rules")
    try:
        table.insert({**_row(_validated(spec)), "created_at": time.time()})
    except sqlite3.IntegrityError:
        raise RuleStoreError(
            f"A rule named {spec.name!r} exists already; pick another name."
        ) from None
    return inserted_pk(table)


def update_rule(project: Project, rule_id: int, spec: RuleSpec) -> None:
    try:
        project.db.table("rules").update(rule_id, _row(_validated(spec)))
    except sqlite3.IntegrityError:
        raise RuleStoreError(
            f"A rule named {spec.name!r} exists already; pick another name."
        ) from None


def delete_rule(project: Project, rule_id: int) -> None:
    project.db.execute("DELETE FROM rules WHERE id = ?", [rule_id])


def list_rules(project: Project, enabled_only: bool = False) -> list[tuple[int, RuleSpec]]:
    where = "WHERE enabled = 1" if enabled_only else ""
    return [_spec(r) for r in project.db.query(f"SELECT * FROM rules {where} ORDER BY id")]


def rule_specs(project: Project, rule_ids: list[int] | None = None) -> list[RuleSpec]:
    """The specs a job scores with: the given rules, or every enabled one."""
    rules = list_rules(project, enabled_only=rule_ids is None)
    if rule_ids is not None:
        wanted = set(rule_ids)
        rules = [(i, s) for i, s in rules if i in wanted]
        missing = wanted - {i for i, _ in rules}
        if missing:
            raise RuleStoreError(f"The project has no rule(s) {sorted(missing)}.")
    specs = [s for _, s in rules]
    if not specs:
        raise RuleStoreError("The project has no enabled rule; add one in the Rules view.")
    return specs
