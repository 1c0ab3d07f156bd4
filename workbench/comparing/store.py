"""Comparisons as stored objects: created (or found again) from what the user picked,
listed and loaded. Each entrant's scores form an evaluation of its own, as `eval`'s do."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from dataclasses import dataclass, field

from engine.rules.spec import RuleSpec
from workbench.comparing.choices import (
    Decoding,
    Entrant,
    EntrantChoice,
    PromptSet,
    resolve_entrants,
    resolve_prompts,
    resolve_sampling,
)
from workbench.comparing.matching import decoding_identity
from workbench.db.inserted import inserted_rowid
from workbench.project import Project
from workbench.rules.store import rule_specs


@dataclass
class Entry:
    """One entrant of a stored comparison; position 0 is the baseline."""

    position: int
    model_id: int
    checkpoint_id: int | None
    evaluation_id: int
    label: str = ""

    def cli_id(self, default_model_id: int | None) -> int | str:
        """How `workbench compare --models` names it: the checkpoint id, "base" (the
        project's default model) or "base:MODEL_ID"."""
        if self.checkpoint_id is not None:
            return self.checkpoint_id
        return "base" if self.model_id == default_model_id else f"base:{self.model_id}"


@dataclass
class Comparison:
    id: int
    name: str
    prompt_set: dict
    prompt_ids: list[int]
    sampling: dict  # the settings of seed 0
    seeds: int
    rules: list[RuleSpec]
    created_at: float
    entries: list[Entry] = field(default_factory=list)
    reward_model_id: int | None = None  # the reward checkpoint whose scores it shows

    @property
    def greedy(self) -> bool:
        identity = decoding_identity(self.sampling)
        return identity is not None and identity[0] == "greedy"

    @property
    def baseline(self) -> Entry:
        return self.entries[0]


def comparison_key(
    entrants: list[Entrant], prompt_ids: list[int], sampling: dict, seeds: int, rules: list
) -> str:
    """Equal for the same entrants, prompts, decoding and rules: the comparison to reuse."""
    identity = {
        "entrants": [[e.model_id, e.checkpoint_id] for e in entrants],
        "prompt_ids": prompt_ids,
        "decoding": decoding_identity(sampling),
        "seeds": seeds,
        "rules": rules,
    }
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()


def find_or_create(
    project: Project,
    entrants: list[EntrantChoice],
    prompt_set: PromptSet,
    decoding: Decoding,
    name: str | None = None,
) -> tuple[Comparison, bool]:
    """(the comparison, whether it was created). Everything is checked first: a bad item
    raises ComparisonError (or RuleStoreError: no enabled rule) and nothing is stored."""
    resolved = resolve_entrants(project, entrants)
    prompt_ids = resolve_prompts(project, prompt_set)
    sampling = resolve_sampling(project, decoding)
    rules = [spec.to_dict() for spec in rule_specs(project)]
    key = comparison_key(resolved, prompt_ids, sampling, decoding.seeds, rules)
    row = project.db.execute(
        "SELECT id FROM comparison_sets WHERE key = ? ORDER BY id LIMIT 1", [key]
    ).fetchone()
    if row is not None:
        return load(project, row[0]), False
    title = name or " vs ".join(c.name for c in entrants)
    with project.transaction() as conn:
        now = time.time()
        cursor = conn.execute(
            "INSERT INTO comparison_sets (name, key, prompt_set, prompt_ids, sampling, seeds, "
            "rules, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                title,
                key,
                json.dumps(prompt_set.to_dict()),
                json.dumps(prompt_ids),
                json.dumps(sampling),
                decoding.seeds,
                json.dumps(rules),
                now,
            ],
        )
        comparison_id = inserted_rowid(cursor)
        evaluation = {
            "split": prompt_set.split if prompt_set.prompt_ids is None else None,
            "num_prompts": len(prompt_ids),
            "sampling": json.dumps(sampling),
            "rules": json.dumps(rules),
            "created_at": now,
        }
        for position, entrant in enumerate(resolved):
            _insert_entry(conn, comparison_id, position, entrant, evaluation)
    return load(project, comparison_id), True


def _insert_entry(
    conn: sqlite3.Connection, comparison_id: int, position: int, entrant: Entrant, evaluation: dict
) -> None:
    """The entrant, with the evaluation its scores are stored under."""
    cursor = conn.execute(
        "INSERT INTO evaluations (model_id, checkpoint_id, split, num_prompts, sampling, rules, "
        "created_at) VALUES (:model_id, :checkpoint_id, :split, :num_prompts, :sampling, :rules, "
        ":created_at)",
        {**evaluation, "model_id": entrant.model_id, "checkpoint_id": entrant.checkpoint_id},
    )
    conn.execute(
        "INSERT INTO comparison_set_entries (comparison_set_id, position, model_id, "
        "checkpoint_id, evaluation_id) VALUES (?, ?, ?, ?, ?)",
        [comparison_id, position, entrant.model_id, entrant.checkpoint_id, inserted_rowid(cursor)],
    )


def _label(project: Project, entry: Entry) -> str:
    """The base model's name for a base model; the run's name and step for a checkpoint."""
    if entry.checkpoint_id is None:
        row = project.db.execute("SELECT name FROM models WHERE id = ?", [entry.model_id])
        return f"base: {row.fetchone()[0]}"
    run_id, run_name, step = project.db.execute(
        "SELECT c.run_id, r.name, c.step FROM checkpoints c LEFT JOIN runs r ON r.id = c.run_id "
        "WHERE c.id = ?",
        [entry.checkpoint_id],
    ).fetchone()
    return f"{run_name or f'run {run_id}'} step {step}"


def load(project: Project, comparison_id: int) -> Comparison:
    row = project.db.execute(
        "SELECT id, name, prompt_set, prompt_ids, sampling, seeds, rules, created_at, "
        "reward_model_id FROM comparison_sets WHERE id = ?",
        [comparison_id],
    ).fetchone()
    if row is None:
        raise KeyError(f"The project has no comparison {comparison_id}.")
    id_, name, prompt_set, prompt_ids, sampling, seeds, rules, created_at, reward_model_id = row
    comparison = Comparison(
        id_,
        name,
        json.loads(prompt_set),
        json.loads(prompt_ids),
        json.loads(sampling),
        seeds,
        [RuleSpec.from_dict(r) for r in json.loads(rules)],
        created_at,
        reward_model_id=reward_model_id,
    )
    for position, model_id, checkpoint_id, evaluation_id in project.db.execute(
        "SELECT position, model_id, checkpoint_id, evaluation_id FROM comparison_set_entries "
        "WHERE comparison_set_id = ? ORDER BY position",
        [comparison_id],
    ).fetchall():
        entry = Entry(position, model_id, checkpoint_id, evaluation_id)
        entry.label = _label(project, entry)
        comparison.entries.append(entry)
    return comparison


def list_comparisons(project: Project) -> list[Comparison]:
    """Every stored comparison, newest first."""
    ids = project.db.execute("SELECT id FROM comparison_sets ORDER BY id DESC").fetchall()
    return [load(project, r[0]) for r in ids]


def set_reward_model(project: Project, comparison_id: int, checkpoint_id: int | None) -> None:
    """The reward model whose scores the comparison shows from now on (None: the rules)."""
    project.db.execute(
        "UPDATE comparison_sets SET reward_model_id = ? WHERE id = ?",
        [checkpoint_id, comparison_id],
    )
