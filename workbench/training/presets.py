"""Run presets: named run configs kept in the project's settings, checked when saved so
that a preset always launches."""

from __future__ import annotations

from typing import Any

from workbench.project import Project
from workbench.training.config import RunConfig

PRESETS_KEY = "train_presets"


def list_presets(project: Project) -> list[str]:
    return sorted(project.setting(PRESETS_KEY, {}) or {})


def save_preset(project: Project, name: str, config: dict[str, Any]) -> None:
    name = name.strip()
    if not name:
        raise ValueError("A preset needs a name.")
    RunConfig.from_dict(config)  # a preset that cannot launch is refused now, not later
    presets = dict(project.setting(PRESETS_KEY, {}) or {})
    presets[name] = config
    project.set_setting(PRESETS_KEY, presets)


def load_preset(project: Project, name: str) -> dict[str, Any]:
    presets = project.setting(PRESETS_KEY, {}) or {}
    if name not in presets:
        raise KeyError(f"The project has no preset named {name!r}.")
    return presets[name]


def delete_preset(project: Project, name: str) -> None:
    presets = dict(project.setting(PRESETS_KEY, {}) or {})
    presets.pop(name, None)
    project.set_setting(PRESETS_KEY, presets)
