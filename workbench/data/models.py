"""Model records: which base models a project knows, and how the engine should load them;
and, by id, the base model or checkpoint adapter a job or a run uses."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from workbench.db.inserted import inserted_pk
from workbench.project import Project

SOURCES = ("demo", "local", "cache", "hub")


@dataclass
class ModelRecord:
    id: int
    name: str
    source: str
    path: str
    revision: str | None
    trust_remote_code: bool
    allow_pickle: bool

    def load_spec(self) -> dict:
        """The keyword arguments of engine.model_source.ModelSpec for this model.

        The demo model's folder is resolved at load time, not stored, so a project keeps
        working after the app is reinstalled somewhere else.
        """
        path = self.path
        if self.source == "demo":
            import engine.demo as demo

            # The path column names which demo model: the judge, else the arithmetic model.
            path = str(
                demo.DEMO_JUDGE_DIR if self.path == demo.DEMO_JUDGE_NAME else demo.DEMO_MODEL_DIR
            )
        return {
            "path": path,
            "revision": self.revision,
            "trust_remote_code": self.trust_remote_code,
            "allow_pickle": self.allow_pickle,
        }


def add_model(
    project: Project,
    name: str,
    source: str,
    path: str | Path,
    revision: str | None = None,
    trust_remote_code: bool = False,
    allow_pickle: bool = False,
) -> int:
    if source not in SOURCES:
        raise ValueError(f"model source must be one of {SOURCES}, not {source!r}")
    table = project.db.table("models")
    table.insert(
        {
            "name": name,
            "source": source,
            "path": str(path),
            "revision": revision,
            "trust_remote_code": int(trust_remote_code),
            "allow_pickle": int(allow_pickle),
            "created_at": time.time(),
        }
    )
    return inserted_pk(table)


def _record(row: dict) -> ModelRecord:
    return ModelRecord(
        id=row["id"],
        name=row["name"],
        source=row["source"],
        path=row["path"],
        revision=row["revision"],
        trust_remote_code=bool(row["trust_remote_code"]),
        allow_pickle=bool(row["allow_pickle"]),
    )


def get_model(project: Project, model_id: int) -> ModelRecord:
    rows = list(project.db.query("SELECT * FROM models WHERE id = ?", [model_id]))
    if not rows:
        raise KeyError(f"The project has no model {model_id}; add one in the Model view.")
    return _record(rows[0])


def list_models(project: Project) -> list[ModelRecord]:
    return [_record(r) for r in project.db.query("SELECT * FROM models ORDER BY id")]


def default_model(project: Project) -> ModelRecord:
    """The model a job uses when it names none: the project's default, else the first added."""
    model_id = project.setting("default_model_id")
    if model_id is not None:
        return get_model(project, model_id)
    models = list_models(project)
    if not models:
        raise KeyError("The project has no model yet; add one in the Model view.")
    return models[0]


def resolve_model(project: Project, model_id: int | None) -> ModelRecord:
    """The base model `model_id`, or the project's default one when no id is given."""
    return default_model(project) if model_id is None else get_model(project, int(model_id))


def checkpoint_adapter(project: Project, checkpoint_id: int) -> Path:
    """The adapter folder of checkpoint `checkpoint_id`, for the engine to load onto its
    base model. A run stores the path relative to the project folder, so that a moved
    project keeps its checkpoints; an absolute one is used as it is."""
    row = project.db.execute(
        "SELECT path FROM checkpoints WHERE id = ?", [checkpoint_id]
    ).fetchone()
    if row is None:
        raise ValueError(f"The project has no checkpoint {checkpoint_id}.")
    path = Path(row[0])
    return path if path.is_absolute() else project.path / path
