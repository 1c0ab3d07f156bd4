"""A full disk met in the window (a label saved, a view's read) is named as such."""

from __future__ import annotations

import errno
import sqlite3

from engine.disk_space import DiskFullError
from ui.messages import explain


def test_a_full_disk_is_named_whatever_error_it_caused():
    for error in (
        sqlite3.OperationalError("database or disk is full"),
        OSError(errno.ENOSPC, "No space left on device"),
    ):
        problem = explain(error, "Saving the label")
        assert problem.what.startswith("Saving the label failed: the disk is full")
        assert problem.todo == "Free space on it, then retry or resume."
    said = explain(DiskFullError("only 3 MB free on /p; free space and resume"))
    assert said.what == "only 3 MB free on /p; free space and resume"


def test_other_database_errors_keep_their_message():
    problem = explain(sqlite3.OperationalError("no such table: x"))
    assert problem.what == "the project database reported: no such table: x"
