"""`workbench rules PROJECT list|add|edit|remove|enable|disable` and `workbench score`."""

from __future__ import annotations

import json

import pytest

from workbench.cli import main
from workbench.data.completions import list_completions
from workbench.project import Project
from workbench.rules.store import list_rules


def run_json(capsys, argv):
    code = main([*argv, "--json"])
    return code, json.loads(capsys.readouterr().out)


@pytest.fixture
def project(tmp_path, capsys) -> str:
    """A project with one prompt (reference 4) and two rules: a format gate and the answer."""
    path = tmp_path / "p"
    Project.create(path).close()
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text('{"prompt": "What is 2+2?", "reference": "4"}\n')
    assert main(["import", str(path), str(prompts)]) == 0
    fmt = '{"pattern": "The answer is -?\\\\d+\\\\.", "mode": "fullmatch"}'
    argv = ["rules", str(path), "add", "--name", "format", "--kind", "regex"]
    assert main([*argv, "--params", fmt, "--weight", "0.25", "--gate"]) == 0
    assert main(["rules", str(path), "add", "--name", "answer", "--kind", "numeric"]) == 0
    capsys.readouterr()
    return str(path)


def names(project: str) -> list[tuple[str, float, bool, bool]]:
    return [(s.name, s.weight, s.gate, s.enabled) for _, s in list_rules(Project.open(project))]


# --- rules -----------------------------------------------------------------------------------


def test_list_is_the_default_and_takes_json_before_or_after(project, capsys):
    for argv in (["rules", project], ["rules", project, "list"], ["rules", "--json", project]):
        code, out = run_json(capsys, argv)
        assert code == 0 and [r["name"] for r in out["rules"]] == ["format", "answer"]
    assert main(["rules", "--json", project, "list"]) == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True
    assert main(["rules", project]) == 0
    text = capsys.readouterr().out
    assert "format" in text and "gate" in text and "answer" in text


def test_add_stores_a_checked_rule(project, capsys):
    argv = ["rules", project, "add", "--name", "short", "--kind", "length"]
    code, out = run_json(capsys, [*argv, "--params", '{"max": 50}', "--weight", "-0.5"])
    assert code == 0 and out["action"] == "added"
    assert out["rule"]["name"] == "short" and out["rule"]["params"] == {"max": 50}
    assert names(project)[-1] == ("short", -0.5, False, True)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--kind", "nope"], "unknown rule kind 'nope'"),
        (["--kind", "regex", "--params", '{"patern": "x"}'], "Parameter 'patern'"),
        (["--kind", "regex", "--params", "[1]"], "--params must be a JSON object"),
        (["--kind", "regex", "--params", "{not json"], "--params is not valid JSON"),
        (["--kind", "regex", "--params", '{"pattern": NaN}'], "NaN is not a JSON number"),
    ],
)
def test_add_refuses_what_the_registry_refuses(project, capsys, extra, message):
    code, out = run_json(capsys, ["rules", project, "add", "--name", "x", *extra])
    assert code == 1 and out["ok"] is False and message in out["error"]
    assert [n for n, *_ in names(project)] == ["format", "answer"]


def test_add_refuses_a_name_in_use(project, capsys):
    code, out = run_json(capsys, ["rules", project, "add", "--name", "answer", "--kind", "exact"])
    assert code == 1 and "exists already" in out["error"]


def test_edit_changes_only_what_is_given(project, capsys):
    argv = ["rules", project, "edit", "format", "--weight", "0.5", "--no-gate", "--name", "fmt"]
    code, out = run_json(capsys, argv)
    assert code == 0 and out["action"] == "edited"
    assert names(project)[0] == ("fmt", 0.5, False, True)
    assert out["rule"]["params"]["mode"] == "fullmatch"  # kept
    code, out = run_json(capsys, ["rules", project, "edit", "fmt", "--gate"])
    assert code == 0 and names(project)[0] == ("fmt", 0.5, True, True)
    code, out = run_json(capsys, ["rules", project, "edit", "fmt", "--params", '{"pattern": "x"}'])
    assert code == 0 and out["rule"]["params"] == {"pattern": "x"}


def test_edit_errors_change_nothing(project, capsys):
    before = names(project)
    code, out = run_json(capsys, ["rules", project, "edit", "nope", "--weight", "2"])
    assert code == 1 and "no rule named 'nope'" in out["error"] and "format, answer" in out["error"]
    argv = ["rules", project, "edit", "format", "--params", '{"mode": "sideways"}']
    code, out = run_json(capsys, argv)
    assert code == 1 and "Parameter 'mode'" in out["error"]
    code, out = run_json(capsys, ["rules", project, "edit", "format", "--name", "answer"])
    assert code == 1 and "exists already" in out["error"]
    assert names(project) == before


def test_disable_enable_and_remove(project, capsys):
    code, out = run_json(capsys, ["rules", project, "disable", "format"])
    assert code == 0 and out["rule"]["enabled"] is False
    assert names(project)[0][3] is False
    assert main(["rules", project, "enable", "format"]) == 0
    assert "Rule 'format' enabled." in capsys.readouterr().out
    assert names(project)[0][3] is True
    code, out = run_json(capsys, ["rules", project, "remove", "answer"])
    assert code == 0 and out["action"] == "removed"
    assert [n for n, *_ in names(project)] == ["format"]
    code, out = run_json(capsys, ["rules", project, "remove", "answer"])
    assert code == 1 and "no rule named 'answer'" in out["error"]


# --- score -----------------------------------------------------------------------------------


def write_lines(tmp_path, lines: list) -> str:
    path = tmp_path / "completions.jsonl"
    path.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines))
    return str(path)


LINES = [
    {"prompt_id": 1, "completion": "The answer is 4."},  # reference from the project
    {"prompt": "What is 2+2?", "completion": "4"},  # fails the gate
    {"prompt": "Not in the project", "completion": "The answer is 7.", "reference": "7"},
]


def test_score_prints_totals_per_rule_scores_and_reasons_and_stores_nothing(
    project, tmp_path, capsys
):
    code, out = run_json(capsys, ["score", project, write_lines(tmp_path, LINES)])
    assert code == 0 and out["rules"] == ["format", "answer"] and out["stored"] is None
    totals = [r["total"] for r in out["results"]]
    assert totals == pytest.approx([1.25, 0.0, 1.25])
    second = out["results"][1]
    assert second["gated"] is True and second["rules"]["answer"]["passed"] is True
    assert second["rules"]["format"]["passed"] is False and second["rules"]["format"]["reason"]
    assert [r["prompt_id"] for r in out["results"]] == [1, 1, None]
    assert list_completions(Project.open(project), limit=None) == []
    assert main(["score", project, write_lines(tmp_path, LINES)]) == 0
    text = capsys.readouterr().out
    assert "line 1: total 1.250" in text and "gated" in text and "expected 4" not in text


def test_score_with_named_rules(project, tmp_path, capsys):
    assert main(["rules", project, "disable", "answer"]) == 0
    capsys.readouterr()
    argv = ["score", project, write_lines(tmp_path, LINES[:1]), "--rules", "answer"]
    code, out = run_json(capsys, argv)
    assert code == 0 and out["rules"] == ["answer"]  # named, so scored though disabled
    assert list(out["results"][0]["rules"]) == ["answer"]
    code, out = run_json(capsys, [*argv[:3], "--rules", "answer,nope"])
    assert code == 1 and "no rule named 'nope'" in out["error"]


def test_score_store_adds_the_completions_with_their_scores(project, tmp_path, capsys):
    argv = ["score", project, write_lines(tmp_path, LINES[:2]), "--store"]
    code, out = run_json(capsys, argv)
    assert code == 0 and len(out["stored"]) == 2
    p = Project.open(project)
    stored = list_completions(p, limit=None)
    assert [(c.prompt_id, c.text) for c in stored] == [(1, "The answer is 4."), (1, "4")]
    assert stored[0].settings == {"scored_from": "completions.jsonl"}
    rows = p.db.execute(
        "SELECT completion_id, rule, score, passed FROM completion_scores ORDER BY id"
    ).fetchall()
    ids = out["stored"]
    assert sorted(rows) == sorted(
        [
            (ids[0], "format", 1.0, 1),
            (ids[1], "format", 0.0, 0),
            (ids[0], "answer", 1.0, 1),
            (ids[1], "answer", 1.0, 1),
        ]
    )


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"prompt": "What is 2+2?"}, "'completion' must be a string"),
        ({"prompt_id": 99, "completion": "x"}, "no prompt 99"),
        ({"prompt_id": "1", "completion": "x"}, "'prompt_id' must be a number"),
        ({"completion": "x"}, "expected a 'prompt' (text) or a 'prompt_id'"),
        ({"prompt": "p", "completion": "x", "reference": 4}, "'reference' must be a string"),
        ('{"prompt": "p", "completion": "x", "w": NaN}', "NaN is not a JSON number"),
        ("not json", "invalid JSON"),
    ],
)
def test_a_bad_line_fails_the_whole_file(project, tmp_path, capsys, bad, message):
    path = write_lines(tmp_path, [LINES[0], "", bad])
    code, out = run_json(capsys, ["score", project, path, "--store"])
    assert code == 1 and out["ok"] is False and out["scored"] == 0
    assert [e["line"] for e in out["errors"]] == [3]
    assert (
        out["errors"][0]["message"].startswith("line 3: ")
        and message in out["errors"][0]["message"]
    )
    assert list_completions(Project.open(project), limit=None) == []
    assert main(["score", project, path]) == 1
    assert "line 3: " in capsys.readouterr().err


def test_store_needs_the_prompt_in_the_project(project, tmp_path, capsys):
    path = write_lines(tmp_path, LINES)
    code, out = run_json(capsys, ["score", project, path, "--store"])
    assert code == 1 and [e["line"] for e in out["errors"]] == [3]
    assert "not in the project" in out["errors"][0]["message"]
    assert list_completions(Project.open(project), limit=None) == []


def test_score_file_errors(project, tmp_path, capsys):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    code, out = run_json(capsys, ["score", project, str(empty)])
    assert code == 1 and out["errors"] == [
        {"line": None, "message": "empty.jsonl holds no completions"}
    ]
    code, out = run_json(capsys, ["score", project, str(tmp_path / "missing.jsonl")])
    assert code == 1 and "file not found" in out["errors"][0]["message"]
    assert main(["rules", project, "disable", "format"]) == 0
    assert main(["rules", project, "disable", "answer"]) == 0
    capsys.readouterr()
    code, out = run_json(capsys, ["score", project, write_lines(tmp_path, LINES)])
    assert code == 1 and "no enabled rule" in out["error"]
