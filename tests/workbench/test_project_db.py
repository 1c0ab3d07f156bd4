import sqlite3

import pytest

from workbench.db.schema import SCHEMA_VERSION, SchemaTooNewError
from workbench.project import DB_NAME, Project, ProjectError

TABLES = {
    "settings",
    "models",
    "prompts",
    "completions",
    "comparisons",
    "rules",
    "runs",
    "metrics",
    "samples",
    "checkpoints",
    "jobs",
    "control",
    "workers",
}


def test_create_sets_durability_pragmas_and_schema(tmp_path):
    project = Project.create(tmp_path / "p", name="mine")
    db = project.db
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    assert db.execute("PRAGMA busy_timeout").fetchone()[0] >= 1000
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert TABLES <= set(db.table_names())
    assert project.name == "mine"
    assert (project.path / "runs").is_dir() and (project.path / "exports").is_dir()


def test_reopen_keeps_data_and_settings(tmp_path):
    project = Project.create(tmp_path / "p")
    project.set_setting("answer", {"x": [1, 2]})
    project.close()
    again = Project.open(tmp_path / "p")
    assert again.setting("answer") == {"x": [1, 2]}
    assert again.setting("missing", 7) == 7


def test_create_refuses_non_empty_folder_and_existing_project(tmp_path):
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    with pytest.raises(ProjectError, match="not empty"):
        Project.create(tmp_path / "busy")
    Project.create(tmp_path / "p").close()
    with pytest.raises(ProjectError, match="already holds a project"):
        Project.create(tmp_path / "p")


def test_open_reports_missing_and_broken_databases(tmp_path):
    with pytest.raises(ProjectError, match="not a project folder"):
        Project.open(tmp_path)
    (tmp_path / DB_NAME).write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(ProjectError, match="not a readable database"):
        Project.open(tmp_path)


def test_database_from_a_newer_app_is_refused(tmp_path):
    Project.create(tmp_path / "p").close()
    conn = sqlite3.connect(tmp_path / "p" / DB_NAME)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(SchemaTooNewError, match="Update Alignment Workbench"):
        Project.open(tmp_path / "p")


def test_migration_from_empty_database_is_recorded(tmp_path):
    sqlite3.connect(tmp_path / DB_NAME).close()  # an empty database at version 0
    project = Project.open(tmp_path)
    assert project.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_transaction_rolls_back_everything_on_error(tmp_path):
    project = Project.create(tmp_path / "p")
    with pytest.raises(RuntimeError):
        with project.transaction() as conn:
            conn.execute("INSERT INTO settings(key, value) VALUES ('a', '1')")
            raise RuntimeError("boom")
    assert project.setting("a") is None


def test_second_connection_sees_committed_writes_at_once(tmp_path):
    writer = Project.create(tmp_path / "p")
    reader = Project.open(tmp_path / "p")
    writer.set_setting("label", "committed")
    assert reader.setting("label") == "committed"
