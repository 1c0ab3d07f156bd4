"""Opening the project database with the durability settings of docs/architecture.md, "The project folder and database"."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlite_utils

# Long enough that a worker's short write never makes the UI's write fail, short enough
# that a database held by a crashed foreign process is reported within seconds.
BUSY_TIMEOUT_MS = 5000


class DatabaseLockedError(RuntimeError):
    """The database stayed locked by another process past the busy timeout."""


def connect(path: Path) -> sqlite_utils.Database:
    """Open (creating if needed) the SQLite file with WAL, synchronous=NORMAL and a busy timeout.

    `isolation_level=None` puts the connection in autocommit mode: every label is durable
    the moment its statement returns, and multi-row work uses explicit transactions.
    """
    conn = sqlite3.connect(
        str(path),
        timeout=BUSY_TIMEOUT_MS / 1000,
        isolation_level=None,
        check_same_thread=False,
    )
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    # No sqlite-utils plugins: loading them scans every installed package's entry points,
    # about a tenth of a second at each process's first connect (the window's start-up),
    # for hooks this project never uses.
    return sqlite_utils.Database(conn, execute_plugins=False)
