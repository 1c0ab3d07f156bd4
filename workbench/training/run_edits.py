"""What a user changes about a run after the fact: its name, tags and note, and deleting
it (its rows and its folder of checkpoints). The Runs view's context menu and
`workbench runs PROJECT rename|tag|note|delete` both call these."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from workbench.project import Project
from workbench.training import runs

MAX_NAME = 200
MAX_TAG = 40
MAX_NOTE = 10_000
# The rows of a run that go with it; every other reference to it or its checkpoints
# (a run continued from one, completions, evaluations, comparisons, arena battles) keeps
# it from being deleted.
OWN_ROWS = ("metrics", "samples", "run_logs", "checkpoints")


def rename(project: Project, run_id: int, name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise ValueError(f"Run {run_id} needs a name that is not empty.")
    if len(name) > MAX_NAME:
        raise ValueError(f"A run's name has at most {MAX_NAME} characters; this has {len(name)}.")
    _require(project, run_id)
    project.db.execute("UPDATE runs SET name = ? WHERE id = ?", [name, run_id])
    return name


def clean_tags(tags: list[str]) -> list[str]:
    """Stripped, without empties or repeats, in the order given; each a short word group."""
    kept: list[str] = []
    for tag in (" ".join(t.split()) for t in tags):
        if not tag or tag in kept:
            continue
        if len(tag) > MAX_TAG:
            raise ValueError(f"The tag {tag[:20]!r}… is longer than {MAX_TAG} characters.")
        if "," in tag:
            raise ValueError(f"The tag {tag!r} has a comma; commas separate tags.")
        kept.append(tag)
    return kept


def tags_of(project: Project, run_id: int) -> list[str]:
    _require(project, run_id)
    row = project.db.execute("SELECT tags FROM runs WHERE id = ?", [run_id]).fetchone()
    return json.loads(row[0] or "[]")


def set_tags(project: Project, run_id: int, tags: list[str]) -> list[str]:
    kept = clean_tags(tags)
    _require(project, run_id)
    project.db.execute("UPDATE runs SET tags = ? WHERE id = ?", [json.dumps(kept), run_id])
    return kept


def add_tags(project: Project, run_id: int, add: list[str], remove: list[str]) -> list[str]:
    gone = set(clean_tags(remove))
    current = [t for t in tags_of(project, run_id) if t not in gone]
    return set_tags(project, run_id, current + clean_tags(add))


def set_note(project: Project, run_id: int, note: str) -> str | None:
    """The note (None when the text is blank: the note is removed)."""
    text = note.strip() or None
    if text is not None and len(text) > MAX_NOTE:
        raise ValueError(f"A run's note has at most {MAX_NOTE:,} characters.")
    _require(project, run_id)
    project.db.execute("UPDATE runs SET note = ? WHERE id = ?", [text, run_id])
    return text


def _require(project: Project, run_id: int) -> None:
    if project.db.execute("SELECT 1 FROM runs WHERE id = ?", [run_id]).fetchone() is None:
        raise ValueError(f"The project has no run {run_id}; `workbench runs PROJECT` lists them.")


@dataclass
class Deletion:
    """What deleting a run removes, or why it cannot be deleted (``blockers``)."""

    run_id: int
    name: str
    rows: dict[str, int]  # table -> rows of this run
    folder: Path
    folder_mb: float
    blockers: list[str]

    def text(self) -> str:
        """The confirmation's sentence: everything that goes."""
        counts = ", ".join(f"{n:,} {_noun(table, n)}" for table, n in self.rows.items() if n)
        return (
            f"Run {self.run_id} ({self.name}) and {counts or 'no recorded rows'}"
            f"; its folder {self.folder} ({self.folder_mb:.1f} MB) is deleted from disk."
        )

    def as_dict(self) -> dict:
        return {
            "run_id": self.run_id,
            "name": self.name,
            "rows": self.rows,
            "folder": str(self.folder),
            "folder_mb": round(self.folder_mb, 1),
            "blockers": self.blockers,
        }


def _noun(table: str, n: int) -> str:
    one = {
        "metrics": "metric value",
        "samples": "sample",
        "run_logs": "log line",
        "checkpoints": "checkpoint",
    }[table]
    return one if n == 1 else one + "s"


def plan_deletion(project: Project, run_id: int) -> Deletion:
    from workbench.jobs.worker_registry import reap_dead_workers

    reap_dead_workers(project)  # a run whose worker died is interrupted, so deletable
    run = runs.get_run(project, run_id)
    rows = {
        table: project.db.execute(
            f"SELECT COUNT(*) FROM {table} WHERE run_id = ?", [run_id]
        ).fetchone()[0]
        for table in OWN_ROWS
    }
    folder = project.runs_dir / str(run_id)
    blockers = []
    if run.status in runs.LIVE or _job_active(project, run.job_id):
        blockers.append(
            f"Run {run_id} is {run.status}: stop it first (Stop and save, or "
            f"`workbench run PROJECT stop {run_id}`)."
        )
    blockers += _uses_of_checkpoints(project, run_id)
    return Deletion(run_id, run.name or run.algorithm, rows, folder, _size_mb(folder), blockers)


def delete_run(project: Project, run_id: int) -> Deletion:
    """Remove the run's rows in one transaction and its folder; refused (ValueError, with
    what to do) while it runs or while anything else refers to its checkpoints. The folder
    is moved aside first and put back if the database refuses, so nothing half-deleted
    stays."""
    deletion = plan_deletion(project, run_id)
    if deletion.blockers:
        raise ValueError(" ".join(deletion.blockers))
    aside = deletion.folder.with_name(f".tmp-deleted-{run_id}")
    moved = deletion.folder.is_dir()
    if moved:
        os.replace(deletion.folder, aside)
    try:
        with project.transaction() as conn:
            for table in OWN_ROWS:
                conn.execute(f"DELETE FROM {table} WHERE run_id = ?", [run_id])
            conn.execute("DELETE FROM runs WHERE id = ?", [run_id])
    except BaseException:
        if moved:
            os.replace(aside, deletion.folder)
        raise
    if moved:
        shutil.rmtree(aside, ignore_errors=True)
    return deletion


def _job_active(project: Project, job_id: int | None) -> bool:
    if job_id is None:
        return False
    row = project.db.execute("SELECT status FROM jobs WHERE id = ?", [job_id]).fetchone()
    return bool(row) and row[0] in ("queued", "running")


def _uses_of_checkpoints(project: Project, run_id: int) -> list[str]:
    """What elsewhere refers to this run's checkpoints, found from the schema's foreign
    keys (so a table added later is covered), as sentences."""
    ids = [
        r[0] for r in project.db.execute("SELECT id FROM checkpoints WHERE run_id = ?", [run_id])
    ]
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    found = []
    tables = [r[0] for r in project.db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    for table in tables:
        for key in project.db.execute(f"PRAGMA foreign_key_list({table})").fetchall():
            if key[2] != "checkpoints":
                continue
            column = key[3]
            where = f"{column} IN ({marks})"
            if table == "runs":
                where += " AND id != ?"
            args = [*ids, run_id] if table == "runs" else ids
            n = project.db.execute(f"SELECT COUNT(*) FROM {table} WHERE {where}", args).fetchone()
            if n[0]:
                found.append(f"{n[0]} row(s) of {table} ({column})")
    if not found:
        return []
    return [
        f"Its checkpoints are used by {'; '.join(found)}: delete or keep those first, "
        "or keep the run."
    ]


def _size_mb(folder: Path) -> float:
    if not folder.is_dir():
        return 0.0
    total = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    return total / 2**20
