import json

import pytest

from engine.demo.task import is_correct, is_well_formed
from workbench.cli import main
from workbench.data.prompts import count_prompts
from workbench.project import Project


def run_json(capsys, argv):
    code = main(argv)
    return code, json.loads(capsys.readouterr().out)


def test_demo_then_greedy_eval_generation_matches_the_stated_accuracy(tmp_path, capsys):
    code, built = run_json(capsys, ["demo", str(tmp_path / "d"), "--json"])
    assert code == 0 and built["prompts"] == {"train": 500, "eval": 200, "heldout": 294}
    code, out = run_json(
        capsys, ["generate", str(tmp_path / "d"), "--split", "eval", "--n", "1", "--json"]
    )
    assert code == 0 and out["ok"] and out["count"] == 200
    assert out["sampling"]["do_sample"] is False  # the demo project samples greedily
    project = Project.open(tmp_path / "d")
    references = dict(project.db.execute("SELECT id, reference FROM prompts").fetchall())
    rows = out["completions"]
    well_formed = sum(is_well_formed(r["text"]) for r in rows) / len(rows)
    accuracy = sum(is_correct(r["text"], int(references[r["prompt_id"]])) for r in rows) / len(rows)
    assert well_formed >= 0.95
    assert 0.30 <= accuracy <= 0.60


def test_generate_with_missing_adapter_fails_with_exit_code_and_message(tmp_path, capsys):
    main(["demo", str(tmp_path / "d"), "--json"])
    capsys.readouterr()
    code, out = run_json(
        capsys,
        [
            "generate",
            str(tmp_path / "d"),
            "--text",
            "What is 1 + 1?",
            "--adapter",
            str(tmp_path / "nowhere"),
            "--json",
        ],
    )
    assert code == 1 and out["status"] == "failed"
    assert str(tmp_path / "nowhere") in out["error"]


def test_import_with_bad_lines_names_them_and_changes_nothing(tmp_path, capsys):
    main(["demo", str(tmp_path / "d"), "--json"])
    capsys.readouterr()
    before = count_prompts(Project.open(tmp_path / "d"))
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"prompt": "fine"}\n{"prompt": ""}\nnot json\n{"prompt": "ok too"}\n{"nope": 1}\n'
    )
    code, out = run_json(capsys, ["import", str(tmp_path / "d"), str(bad), "--json"])
    assert code == 1 and out["imported"] == 0
    assert [e["line"] for e in out["errors"]] == [2, 3, 5]
    assert count_prompts(Project.open(tmp_path / "d")) == before


def test_import_export_round_trip_through_the_cli(tmp_path, capsys):
    main(["demo", str(tmp_path / "d"), "--json"])
    capsys.readouterr()
    code, out = run_json(
        capsys,
        ["export", str(tmp_path / "d"), str(tmp_path / "eval.csv"), "--split", "eval", "--json"],
    )
    assert code == 0 and out["exported"] == 200
    Project.create(tmp_path / "e").close()
    code, out = run_json(
        capsys, ["import", str(tmp_path / "e"), str(tmp_path / "eval.csv"), "--json"]
    )
    assert code == 0 and out["imported"] == 200 and out["by_split"] == {"eval": 200}


def test_open_of_a_folder_that_is_not_a_project_is_a_clear_error(tmp_path, capsys):
    assert main(["jobs", str(tmp_path)]) == 1
    assert "not a project folder" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["generate"], ["import", "x"]])
def test_usage_errors_exit_2(argv):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
