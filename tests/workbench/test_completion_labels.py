import json
import sqlite3

import pytest

from tests.workbench.label_helpers import Tiny
from workbench.db.schema import MIGRATIONS, SCHEMA_VERSION
from workbench.labels.completion_labels import active_labels, add_label, get_label, override_label
from workbench.project import DB_NAME, Project


def test_labels_are_stored_and_a_human_override_keeps_both(tmp_path):
    tiny = Tiny(tmp_path / "p")
    prompt = tiny.prompt("What is 2 + 2?")
    good, bad = tiny.completions(prompt, "4", "5")
    first = add_label(tiny.project, good, True, "ai", judge="judge-model", confidence=0.7)
    second = add_label(tiny.project, bad, False, "rule", note="wrong answer")
    label = get_label(tiny.project, first)
    assert (label.completion_id, label.desirable, label.source, label.judge, label.confidence) == (
        good,
        True,
        "ai",
        "judge-model",
        0.7,
    )
    assert get_label(tiny.project, second).note == "wrong answer"

    replacement = override_label(tiny.project, first, False, note="not really")
    assert get_label(tiny.project, first).superseded_by == replacement
    active = active_labels(tiny.project)
    assert [(a.id, a.desirable, a.source) for a in active] == [
        (second, False, "rule"),
        (replacement, False, "human"),
    ]
    assert [a.id for a in active_labels(tiny.project, "rule")] == [second]


def test_bad_labels_are_refused(tmp_path):
    tiny = Tiny(tmp_path / "p")
    completion = tiny.completions(tiny.prompt("q"), "a")[0]
    with pytest.raises(ValueError, match="source"):
        add_label(tiny.project, completion, True, "crowd")
    with pytest.raises(ValueError, match="true or false"):
        add_label(tiny.project, completion, 1, "human")
    with pytest.raises(ValueError, match="no completion 999"):
        add_label(tiny.project, 999, True, "human")
    with pytest.raises(KeyError):
        get_label(tiny.project, 12345)
    assert tiny.count("completion_labels") == 0


def test_a_version_2_database_migrates_keeping_its_rows(tmp_path):
    conn = sqlite3.connect(tmp_path / DB_NAME, isolation_level=None)
    for migration in MIGRATIONS[:2]:
        for statement in migration:
            conn.execute(statement)
    conn.execute("PRAGMA user_version = 2")
    conn.execute("INSERT INTO runs (algorithm, created_at) VALUES ('dpo', 1.0)")
    conn.execute("INSERT INTO prompts (text, created_at) VALUES ('q', 1.0)")
    conn.execute("INSERT INTO completions (prompt_id, text, created_at) VALUES (1, 'a', 1.0)")
    conn.close()

    project = Project.open(tmp_path)
    assert project.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION >= 3
    assert project.db.execute("SELECT algorithm, summary FROM runs").fetchall() == [("dpo", "{}")]
    assert json.loads(project.db.execute("SELECT summary FROM runs").fetchone()[0]) == {}
    label = add_label(project, 1, False, "human")
    assert [a.id for a in active_labels(project)] == [label]
    indexes = {r[1] for r in project.db.execute("PRAGMA index_list(completion_labels)")}
    assert "completion_labels_completion" in indexes
