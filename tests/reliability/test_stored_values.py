"""Values no importer stores whatever the format: a Parquet NaN (no JSON text to refuse),
and a huge extra field that would otherwise slip in as metadata."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq

from workbench.cli import main
from workbench.data.prompt_io.values import value_problem
from workbench.project import Project


def _project(tmp_path) -> str:
    Project.create(tmp_path / "p").close()
    return str(tmp_path / "p")


def _count(path: str) -> int:
    project = Project.open(path)
    try:
        return project.db.execute("SELECT COUNT(*) FROM prompts").fetchone()[0]
    finally:
        project.close()


def test_a_parquet_nan_is_refused_naming_its_row(tmp_path, capsys):
    path = _project(tmp_path)
    file = tmp_path / "scores.parquet"
    pq.write_table(pa.table({"prompt": ["a", "b"], "score": [1.0, float("nan")]}), file)
    assert main(["import", path, str(file), "--json"]) == 1
    errors = json.loads(capsys.readouterr().out)["errors"]
    assert [e["line"] for e in errors] == [2]
    assert errors[0]["message"].startswith("row 2: 'score' holds nan")
    assert _count(path) == 0


def test_a_huge_extra_field_is_over_the_limit(tmp_path, capsys):
    path = _project(tmp_path)
    file = tmp_path / "p.jsonl"
    file.write_text(json.dumps({"prompt": "a", "notes": "x" * 2000}) + "\n")
    assert main(["import", path, str(file), "--max-chars", "1000", "--json"]) == 1
    message = json.loads(capsys.readouterr().out)["errors"][0]["message"]
    assert message.startswith("line 1: 'the other fields' is 2,013 characters")
    assert _count(path) == 0


def test_value_problem_walks_nested_values_and_names_the_field():
    assert value_problem({"a": [1, {"b": float("inf")}]}) == (
        "'a' holds inf, which is not a JSON number (write null or a number)"
    )
    assert "NUL" in value_problem({"m": {"k\x00": 1}})
    assert value_problem({"a": [1, "x", {"b": None, "c": True}]}) is None
    deep: list = []
    for _ in range(100):
        deep = [deep]
    assert value_problem({"d": deep}) == "'d' is nested too deeply"
