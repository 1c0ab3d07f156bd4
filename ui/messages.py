"""Turning failures into messages a user can act on: what happened, and what to do next.

Boxes are opened non-blocking (`open()`, not `exec()`), so a message that arrives from a
background result never stacks a nested event loop on top of the one that delivered it.
"""

from __future__ import annotations

import sqlite3
import traceback
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from engine.disk_space import is_disk_full
from engine.errors import EngineError
from workbench.db.connection import DatabaseLockedError
from workbench.db.schema import SchemaTooNewError
from workbench.project import ProjectError


@dataclass
class Problem:
    what: str
    todo: str
    details: str = ""


def explain(exc: BaseException, doing: str = "") -> Problem:
    """A message for an exception, prefixed with what the app was doing when it happened."""
    exc = getattr(exc, "original", exc)  # a TaskError from a background thread
    prefix = f"{doing} failed: " if doing else ""
    details = getattr(exc, "traceback_text", "") or "".join(
        traceback.format_exception(type(exc), exc, exc.__traceback__)
    )
    if isinstance(exc, EngineError):
        return Problem(prefix + exc.message, exc.hint or "", details)
    if is_disk_full(exc):  # SQLite's "database or disk is full", ENOSPC
        return Problem(
            f"{prefix}the disk is full ({exc})", "Free space on it, then retry or resume.", details
        )
    if isinstance(exc, ProjectError | SchemaTooNewError):
        return Problem(prefix + str(exc), "", details)
    if isinstance(exc, DatabaseLockedError):
        return Problem(
            prefix + str(exc), "Close the other program holding the project, then retry.", details
        )
    if isinstance(exc, sqlite3.Error):
        return Problem(
            f"{prefix}the project database reported: {exc}",
            "Check that the project folder is readable and writable, then retry.",
            details,
        )
    if isinstance(exc, FileNotFoundError | PermissionError | IsADirectoryError):
        return Problem(
            f"{prefix}{exc.strerror or exc}: {exc.filename}",
            "Check the path and its permissions.",
            details,
        )
    if isinstance(exc, ValueError | KeyError):
        text = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        return Problem(prefix + str(text), "", details)
    return Problem(
        f"{prefix}{type(exc).__name__}: {exc}",
        "This looks like a bug in Alignment Workbench; the details below help to report it.",
        details,
    )


def show_problem(parent: QWidget | None, title: str, problem: Problem) -> QMessageBox:
    box = QMessageBox(
        QMessageBox.Icon.Warning, title, problem.what, QMessageBox.StandardButton.Ok, parent
    )
    box.setObjectName("problemBox")
    if problem.todo:
        box.setInformativeText(problem.todo)
    if problem.details:
        box.setDetailedText(problem.details)
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box


def show_error(
    parent: QWidget | None, title: str, exc: BaseException, doing: str = ""
) -> QMessageBox:
    return show_problem(parent, title, explain(exc, doing))


def show_info(parent: QWidget | None, title: str, text: str, informative: str = "") -> QMessageBox:
    box = QMessageBox(
        QMessageBox.Icon.Information, title, text, QMessageBox.StandardButton.Ok, parent
    )
    box.setObjectName("infoBox")
    if informative:
        box.setInformativeText(informative)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box
