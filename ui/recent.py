"""Recent projects, kept in QSettings, most recent first; folders that no longer hold a
project are dropped when the list is read."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings

from workbench.project import DB_NAME

ORGANIZATION = "AlignmentWorkbench"
APPLICATION = "Alignment Workbench"
MAX_RECENT = 10
KEY = "recentProjects"


def app_settings() -> QSettings:
    # An INI file everywhere: readable, and tests can redirect it with QSettings.setPath.
    return QSettings(
        QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION, APPLICATION
    )


def _stored() -> list[str]:
    value = app_settings().value(KEY, [])
    if isinstance(value, str):  # INI returns a one-element list as a plain string
        value = [value]
    return [str(v) for v in value or []]


def recent_projects() -> list[str]:
    return [p for p in _stored() if (Path(p) / DB_NAME).is_file()]


def add_recent_project(path: str | Path) -> None:
    path = str(Path(path).expanduser().resolve())
    items = [path, *[p for p in recent_projects() if p != path]][:MAX_RECENT]
    settings = app_settings()
    settings.setValue(KEY, items)
    settings.sync()
