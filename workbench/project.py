"""The project folder: one SQLite database plus the large files of runs and exports."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

from engine.disk_space import as_disk_full
from workbench.db.connection import DatabaseLockedError, connect
from workbench.db.schema import migrate

DB_NAME = "project.db"


class ProjectError(RuntimeError):
    """A project folder that cannot be created or opened; the message says why and what to do."""


@dataclass
class Project:
    path: Path
    db: sqlite_utils.Database

    @classmethod
    def create(cls, path: str | Path, name: str | None = None) -> Project:
        path = Path(path).expanduser().resolve()
        if (path / DB_NAME).exists():
            raise ProjectError(f"{path} already holds a project; open it instead.")
        if path.exists() and any(path.iterdir()):
            raise ProjectError(f"{path} is not empty; choose an empty or new folder.")
        path.mkdir(parents=True, exist_ok=True)
        project = cls._open_db(path)
        project.set_setting("name", name or path.name)
        project.set_setting("created_at", time.time())
        return project

    @classmethod
    def open(cls, path: str | Path) -> Project:
        path = Path(path).expanduser().resolve()
        if not (path / DB_NAME).is_file():
            raise ProjectError(
                f"{path} is not a project folder (no {DB_NAME}). "
                "Create one with `workbench demo DIR` or New project."
            )
        return cls._open_db(path)

    @classmethod
    def _open_db(cls, path: Path) -> Project:
        try:
            db = connect(path / DB_NAME)
            migrate(db.conn)
        except sqlite3.OperationalError as exc:
            full = as_disk_full(exc, path)
            if full is not None:  # SQLite says "disk I/O error" when it cannot grow the WAL
                raise full from exc
            if "locked" in str(exc) or "busy" in str(exc):
                raise DatabaseLockedError(
                    f"{path / DB_NAME} is locked by another program; close it and try again."
                ) from exc
            raise ProjectError(f"Cannot open {path / DB_NAME}: {exc}") from exc
        except sqlite3.DatabaseError as exc:
            raise ProjectError(f"{path / DB_NAME} is not a readable database: {exc}") from exc
        for sub in ("runs", "exports"):
            (path / sub).mkdir(exist_ok=True)
        return cls(path=path, db=db)

    @property
    def name(self) -> str:
        return str(self.setting("name", self.path.name))

    @property
    def runs_dir(self) -> Path:
        return self.path / "runs"

    @property
    def exports_dir(self) -> Path:
        return self.path / "exports"

    def setting(self, key: str, default=None):
        row = self.db.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchone()
        return default if row is None else json.loads(row[0])

    def set_setting(self, key: str, value) -> None:
        self.db.execute(
            "INSERT INTO settings(key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [key, json.dumps(value)],
        )

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All-or-nothing writes. BEGIN IMMEDIATE takes the write lock up front, so a
        concurrent writer waits for the busy timeout instead of failing mid-transaction."""
        conn = self.db.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def close(self) -> None:
        self.db.conn.close()
