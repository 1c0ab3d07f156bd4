import json
import sqlite3

import pytest

from workbench.arena.battles import (
    add_battle,
    battle_counts,
    checkpoint_entrant,
    entrants,
    list_battles,
)
from workbench.cli import main
from workbench.data.models import add_model
from workbench.db.schema import MIGRATIONS, SCHEMA_VERSION
from workbench.project import DB_NAME, Project

GOOD = [
    {"model_a": "base", "model_b": "gpt-4", "winner": "model_b", "judge": "x", "turn": 1},
    {"model_a": "checkpoint-1", "model_b": "base", "winner": "model_a"},
    {"model_a": "gpt-4", "model_b": "checkpoint-1", "winner": "tie"},
    {"model_a": "llama", "model_b": "base", "winner": "tie (bothbad)"},
    {"model_a": "checkpoint-1", "model_b": "llama", "winner": "model_a"},
    {"model_a": "base", "model_b": "llama", "winner": "model_a"},
]


def run_json(capsys, argv):
    code = main(argv)
    return code, json.loads(capsys.readouterr().out)


def write_lines(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return str(path)


@pytest.fixture
def project_dir(tmp_path):
    project = Project.create(tmp_path / "p")
    add_model(project, "tiny", "local", tmp_path / "model")
    project.db.execute("INSERT INTO checkpoints (step, path, created_at) VALUES (10, 'c', 1.0)")
    project.close()
    return str(tmp_path / "p")


def stored(project_dir):
    project = Project.open(project_dir)
    try:
        return list_battles(project)
    finally:
        project.close()


def test_import_stores_the_battles_and_keeps_external_entrants(project_dir, tmp_path, capsys):
    code, out = run_json(
        capsys, ["arena", project_dir, "import", write_lines(tmp_path / "b.jsonl", GOOD), "--json"]
    )
    assert code == 0 and out["ok"]
    assert out["imported"] == 6
    assert out["winners"] == {"model_a": 3, "model_b": 1, "tie": 1, "tie (bothbad)": 1}
    assert out["models"] == ["base", "gpt-4", "checkpoint-1", "llama"]
    assert out["external"] == ["gpt-4", "llama"]
    battles = stored(project_dir)
    assert [(b.model_a, b.model_b, b.winner) for b in battles] == [
        (r["model_a"], r["model_b"], r["winner"]) for r in GOOD
    ]
    assert {b.source for b in battles} == {"import"}
    assert all(b.judge is None and b.prompt_id is None and b.comparison_id is None for b in battles)

    project = Project.open(project_dir)
    kinds = [(e.name, e.kind, e.checkpoint_id, e.battles) for e in entrants(project)]
    project.close()
    assert kinds == [
        ("base", "base", None, 4),
        ("checkpoint-1", "checkpoint", 1, 3),
        ("gpt-4", "external", None, 2),
        ("llama", "external", None, 3),
    ]


def test_import_prints_counts_without_json(project_dir, tmp_path, capsys):
    assert main(["arena", project_dir, "import", write_lines(tmp_path / "b.jsonl", GOOD)]) == 0
    out = capsys.readouterr().out
    assert "Imported 6 battle(s) among 4 model(s), 2 of them external" in out
    assert "1 tie (bothbad)" in out


def test_ratings_json_shape_order_and_baseline(project_dir, tmp_path, capsys):
    main(["arena", project_dir, "import", write_lines(tmp_path / "b.jsonl", GOOD * 5)])
    capsys.readouterr()
    argv = ["arena", project_dir, "ratings", "--bootstrap", "200", "--seed", "3", "--json"]
    code, out = run_json(capsys, argv)
    assert code == 0 and out["ok"]
    assert out["baseline"] == "base" and out["bootstrap"] == 200 and out["seed"] == 3
    rows = out["ratings"]
    assert [set(row) for row in rows] == [
        {"model", "rating", "ci_low", "ci_high", "battles", "wins", "ties"}
    ] * 4
    assert {row["model"] for row in rows} == {"base", "gpt-4", "checkpoint-1", "llama"}
    assert [row["rating"] for row in rows] == sorted((row["rating"] for row in rows), reverse=True)
    base = next(row for row in rows if row["model"] == "base")
    assert (base["rating"], base["ci_low"], base["ci_high"]) == (1000.0, 1000.0, 1000.0)
    assert (base["battles"], base["wins"], base["ties"]) == (20, 5, 5)
    for row in rows:
        assert row["ci_low"] <= row["rating"] <= row["ci_high"]
    assert run_json(capsys, argv)[1] == out  # same votes, same seed: the same table


def test_ratings_by_source_and_as_a_table(project_dir, tmp_path, capsys):
    main(["arena", project_dir, "import", write_lines(tmp_path / "b.jsonl", GOOD)])
    project = Project.open(project_dir)
    add_battle(project, "base", checkpoint_entrant(1), "model_b", "human", checkpoint_ids=(None, 1))
    add_battle(project, checkpoint_entrant(1), "base", "tie", "human", checkpoint_ids=(1, None))
    assert [b.source for b in list_battles(project, ["human"])] == ["human", "human"]
    assert sum(c.count for c in battle_counts(project, ["import"])) == 6
    project.close()
    capsys.readouterr()

    code, out = run_json(capsys, ["arena", project_dir, "ratings", "--source", "human", "--json"])
    assert code == 0 and out["source"] == "human"
    assert [(r["model"], r["battles"]) for r in out["ratings"]] == [
        ("checkpoint-1", 2),
        ("base", 2),
    ]

    assert main(["arena", project_dir, "ratings", "--bootstrap", "100"]) == 0
    text = capsys.readouterr().out
    assert "95% interval" in text and "llama" in text
    assert "base is the baseline at 1000" in text and "100 bootstrap rounds, seed 0" in text


def test_ratings_without_battles(project_dir, capsys):
    code, out = run_json(capsys, ["arena", project_dir, "ratings", "--json"])
    assert code == 0 and out["ratings"] == [] and out["baseline"] is None
    assert main(["arena", project_dir, "ratings"]) == 0
    assert "No battles yet" in capsys.readouterr().out


BAD_LINES = {
    "unknown winner": (
        '{"model_a": "a", "model_b": "b", "winner": "draw"}',
        "winner must be one of",
    ),
    "malformed": ('{"model_a": "a", "model_b": ', "not valid JSON"),
    "missing key": ('{"model_a": "a", "winner": "tie"}', "missing 'model_b'"),
    "same model": ('{"model_a": "a", "model_b": "a", "winner": "tie"}', "the same model"),
    "not an object": ('["a", "b", "tie"]', "expected a JSON object"),
    "empty name": ('{"model_a": "", "model_b": "b", "winner": "tie"}', "model_a must be"),
}


@pytest.mark.parametrize("kind", BAD_LINES)
def test_a_bad_line_is_named_and_nothing_is_stored(kind, project_dir, tmp_path, capsys):
    line, message = BAD_LINES[kind]
    good = json.dumps(GOOD[0])
    path = tmp_path / "bad.jsonl"
    path.write_text(f"{good}\n\n{line}\n{good}\n")  # the bad one is line 3
    code, out = run_json(capsys, ["arena", project_dir, "import", str(path), "--json"])
    assert code == 1 and out["ok"] is False and out["imported"] == 0
    assert [e["line"] for e in out["errors"]] == [3]
    assert out["errors"][0]["message"].startswith("line 3: ")
    assert message in out["errors"][0]["message"]
    assert out["errors"][0]["message"].count("line") == 1
    assert stored(project_dir) == []

    assert main(["arena", project_dir, "import", str(path)]) == 1
    err = capsys.readouterr().err
    assert "Nothing was imported from bad.jsonl" in err and "line 3: " in err
    assert stored(project_dir) == []


def test_an_empty_file_or_a_missing_one_is_refused(project_dir, tmp_path, capsys):
    (tmp_path / "empty.jsonl").write_text("\n\n")
    assert main(["arena", project_dir, "import", str(tmp_path / "empty.jsonl")]) == 1
    assert "holds no battles" in capsys.readouterr().err
    assert main(["arena", project_dir, "import", str(tmp_path / "absent.jsonl")]) == 1
    assert "absent.jsonl" in capsys.readouterr().err
    assert stored(project_dir) == []


def test_add_battle_checks_its_fields(project_dir):
    project = Project.open(project_dir)
    with pytest.raises(ValueError, match="source must be one of"):
        add_battle(project, "a", "b", "tie", "rule")
    with pytest.raises(ValueError, match="winner must be one of"):
        add_battle(project, "a", "b", "a", "human")
    with pytest.raises(ValueError, match="battles as 'checkpoint-1'"):
        add_battle(project, "base", "b", "tie", "human", checkpoint_ids=(None, 1))
    battle_id = add_battle(
        project, "base", "checkpoint-1", "model_a", "ai", judge="j", checkpoint_ids=(None, 1)
    )
    (battle,) = list_battles(project)
    assert (battle.id, battle.judge, battle.checkpoint_b_id) == (battle_id, "j", 1)
    project.close()


def test_a_version_4_database_gets_the_battles_table(tmp_path):
    conn = sqlite3.connect(tmp_path / DB_NAME, isolation_level=None)
    for migration in MIGRATIONS[:4]:
        for statement in migration:
            conn.execute(statement)
    conn.execute("PRAGMA user_version = 4")
    conn.execute("INSERT INTO prompts (text, created_at) VALUES ('q', 1.0)")
    conn.close()
    project = Project.open(tmp_path)
    assert project.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION >= 5
    assert "arena_battles" in project.db.table_names()
    assert project.db.execute("SELECT text FROM prompts").fetchall() == [("q",)]
    project.close()
