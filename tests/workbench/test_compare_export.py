"""Exporting a comparison's rows: CSV with a column group per entrant, JSONL with one row
per line, the format from the suffix, and an interrupted export leaving the old file."""

from __future__ import annotations

import csv
import json

import pytest

import workbench.comparing.export as export
from workbench.comparing.export import export_rows


def answer(text: str, passed: dict, reward: float, seed: int = 0) -> dict:
    return {
        "completion_id": 1,
        "seed": seed,
        "text": text,
        "num_tokens": 4,
        "passed": passed,
        "reward": reward,
    }


RESULT = {
    "comparison_id": 7,
    "rules": ["format", "answer"],
    "models": [{"label": "base: demo"}, {"label": "run · step 4"}],
    "rows": [
        {
            "prompt_id": 3,
            "prompt": 'What is 2 + 2, "exactly"?',
            "reference": "4",
            "entrants": [
                {
                    "label": "base: demo",
                    "answers": [answer("The answer is 5.", {"format": True, "answer": False}, 0.1)],
                    "reward": 0.1,
                    "length_tokens": 4.0,
                    "verdict": None,
                },
                {
                    "label": "run · step 4",
                    "answers": [
                        answer("The answer is 4.", {"format": True, "answer": True}, 1.1),
                        answer("four,\nI think", {"format": False, "answer": False}, 0.0, 1),
                    ],
                    "reward": 0.55,
                    "length_tokens": None,
                    "verdict": "improved",
                },
            ],
        }
    ],
}


def test_csv_has_a_column_group_per_entrant(tmp_path):
    path = tmp_path / "rows.csv"
    assert export_rows(path, RESULT, RESULT["rows"]) == 1
    with path.open(newline="", encoding="utf-8") as handle:
        header, row = list(csv.reader(handle))
    line = dict(zip(header, row, strict=True))
    assert header[:3] == ["prompt_id", "prompt", "reference"]
    assert line["prompt"] == 'What is 2 + 2, "exactly"?' and line["reference"] == "4"
    assert line["base: demo: answer"] == "The answer is 5."
    assert line["base: demo: verdict"] == "" and line["base: demo: passes answer"] == "0/1"
    assert line["run · step 4: answer"] == "The answer is 4.\n---\nfour,\nI think"
    assert line["run · step 4: reward"] == "0.55" and line["run · step 4: length"] == ""
    assert line["run · step 4: passes format"] == "1/2"
    assert line["run · step 4: verdict"] == "improved"


def test_jsonl_writes_each_row_with_its_comparison(tmp_path):
    path = tmp_path / "rows.JSONL"
    assert export_rows(path, RESULT, RESULT["rows"] * 2) == 2
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert lines == [{"comparison_id": 7, **RESULT["rows"][0]}] * 2


def test_an_unknown_suffix_is_refused_and_a_failed_export_keeps_the_old_file(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match=r"\.csv or \.jsonl"):
        export_rows(tmp_path / "rows.xlsx", RESULT, RESULT["rows"])
    assert not (tmp_path / "rows.xlsx").exists()
    path = tmp_path / "rows.csv"
    path.write_text("old", encoding="utf-8")

    def broken(row, rules):
        raise OSError("disk full")

    monkeypatch.setattr(export, "csv_row", broken)
    with pytest.raises(OSError, match="disk full"):
        export_rows(path, RESULT, RESULT["rows"])
    assert path.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["rows.csv"]
