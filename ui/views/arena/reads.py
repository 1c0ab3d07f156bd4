"""What the Arena view asks of the database, each one call on the session's database
thread: the comparisons it can draw battles from, and the judges that can play. Plain
data in and out; no Qt here."""

from __future__ import annotations

from typing import Any

from workbench.comparing.store import list_comparisons
from workbench.judging.store import list_judges
from workbench.project import Project


def arena_choices(project: Project) -> dict[str, Any]:
    """Stored comparisons of two models or more (newest first) and the judges' names."""
    comparisons = [
        {
            "id": c.id,
            "label": f"#{c.id} {c.name} · {len(c.prompt_ids)} prompts, {len(c.entries)} models",
        }
        for c in list_comparisons(project)
        if len(c.entries) >= 2
    ]
    judges = [j.name for j in list_judges(project) if j.mode != "pointwise"]
    return {"comparisons": comparisons, "judges": judges}
