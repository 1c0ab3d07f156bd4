import json

import pytest

from tests.workbench.label_helpers import Tiny
from workbench.cli import main
from workbench.labels.completion_labels import add_label


def run_json(capsys, argv):
    code = main(argv)
    return code, json.loads(capsys.readouterr().out)


@pytest.fixture
def labelled(tmp_path):
    tiny = Tiny(tmp_path / "p")
    p = tiny.prompt("What is 2 + 2?")
    tiny.pair(p, " 4", " 5")
    tiny.pair(p, " 4.", " 22", source="ai", confidence=0.3)
    x, y = tiny.completions(p, " four", " vier")
    tiny.compare(p, [x, y], "tie")
    e = tiny.prompt("What is 3 + 3?", split="eval")
    tiny.pair(e, " 6", " 9", source="rule")
    add_label(tiny.project, tiny.completions(e, " six")[0], True, "human")
    tiny.project.close()
    return str(tmp_path / "p")


def test_stats_counts_with_filters(labelled, capsys):
    code, out = run_json(capsys, ["pairs", labelled, "stats", "--json"])
    assert code == 0 and out["ok"]
    counts = out["counts"]
    assert (counts["pairs"], counts["unpaired"], counts["ties"], counts["prompts"]) == (3, 7, 1, 2)
    assert counts["by_source"] == {"human": 3, "ai": 1, "rule": 1}
    assert len(out["hash"]) == 64

    code, out = run_json(
        capsys,
        [
            "pairs",
            labelled,
            "stats",
            "--min-confidence",
            "0.5",
            "--source",
            "ai",
            "--source",
            "human",
            "--split",
            "train",
            "--json",
        ],
    )
    assert out["counts"]["pairs"] == 1 and out["counts"]["filtered_out"] == 1
    assert out["counts"]["by_source"] == {"ai": 0, "human": 2}


def test_stats_reads_well_without_json(labelled, capsys):
    assert main(["pairs", labelled, "stats"]) == 0
    text = capsys.readouterr().out
    assert "3 pair(s) and 7 unpaired example(s) from 2 prompt(s)" in text
    assert "3 human, 1 ai, 1 rule" in text and "1 ties" in text


def test_export_and_import_through_the_cli(labelled, tmp_path, capsys):
    target = tmp_path / "train.parquet"
    code, out = run_json(
        capsys,
        [
            "pairs",
            labelled,
            "export",
            str(target),
            "--split",
            "train",
            "--format",
            "standard",
            "--json",
        ],
    )
    assert code == 0 and out["exported"] == 2 and out["format"] == "standard"
    fresh = Tiny(tmp_path / "fresh")
    fresh.project.close()
    code, out = run_json(
        capsys,
        ["pairs", str(tmp_path / "fresh"), "import", str(target), "--source", "ai", "--json"],
    )
    assert code == 0 and out["ok"]
    assert (out["pairs"], out["prompts_created"], out["completions"]) == (2, 1, 4)
    code, out = run_json(capsys, ["pairs", str(tmp_path / "fresh"), "stats", "--json"])
    assert out["counts"]["pairs"] == 2 and out["counts"]["by_source"]["ai"] == 2

    code, out = run_json(
        capsys,
        [
            "pairs",
            labelled,
            "export",
            str(tmp_path / "kto.jsonl"),
            "--format",
            "unpaired",
            "--json",
        ],
    )
    assert out["exported"] == 7
    lines = (tmp_path / "kto.jsonl").read_text().splitlines()
    assert json.loads(lines[0]) == {"prompt": "What is 2 + 2?", "completion": " 4", "label": True}


def test_a_bad_import_exits_1_and_lists_the_lines(labelled, tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt": "p", "chosen": "a", "rejected": "b"}\n{"prompt": "p"}\n')
    code, out = run_json(capsys, ["pairs", labelled, "import", str(bad), "--json"])
    assert code == 1 and out == {
        "ok": False,
        "imported": 0,
        "errors": [{"line": 2, "message": out["errors"][0]["message"]}],
    }
    assert "line 2:" in out["errors"][0]["message"]
    code, out = run_json(capsys, ["pairs", labelled, "export", str(tmp_path / "x.txt"), "--json"])
    assert code == 1 and ".jsonl or .parquet" in out["error"]
