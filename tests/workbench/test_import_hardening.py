"""Inputs that must not slip through an import: unterminated CSV quotes, texts over the
project's size limit, NaN and the infinities in JSON; each bad line named once."""

from __future__ import annotations

import json

import pytest

from workbench.cli import main
from workbench.data.completions import list_completions
from workbench.data.preference_data import import_preferences
from workbench.data.prompt_io import ImportFailed, import_prompts
from workbench.data.prompt_io.limits import (
    DEFAULT_MAX_CHARS,
    MAX_CHARS_SETTING,
    max_chars,
    set_max_chars,
)
from workbench.data.prompts import count_prompts, list_prompts
from workbench.project import Project


@pytest.fixture
def project(tmp_path):
    p = Project.create(tmp_path / "proj")
    yield p
    p.close()


def _errors(project, path, importer=import_prompts) -> list[tuple[int, str]]:
    with pytest.raises(ImportFailed) as info:
        importer(project, path)
    return [(e.line, e.message) for e in info.value.errors]


# --- CSV quotes ----------------------------------------------------------------------------


def test_an_unterminated_quote_is_an_error_not_a_prompt(project, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text('prompt,answer\n"unterminated,4\n')
    [(line, message)] = _errors(project, path)
    assert line == 2 and message.startswith("line 2: unterminated quoted field")
    assert count_prompts(project) == 0


def test_the_line_named_is_where_the_open_quote_is(project, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text('prompt,answer\nok,1\n"two\nlines","opens here\nand runs on\n')
    [(line, message)] = _errors(project, path)
    assert line == 4 and "unterminated quoted field" in message
    assert count_prompts(project) == 0


def test_quoted_cells_that_close_still_import(project, tmp_path):
    path = tmp_path / "ok.csv"
    path.write_text('prompt,answer\n"say ""hi""\nplease",4\n')
    assert import_prompts(project, path).imported == 1
    assert list_prompts(project)[0].text == 'say "hi"\nplease'


# --- non-standard JSON numbers -------------------------------------------------------------


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinities_are_refused_with_the_line(project, tmp_path, constant):
    path = tmp_path / "bad.jsonl"
    path.write_text(f'{{"prompt": "fine"}}\n\n{{"prompt": "p", "score": [{constant}]}}\n')
    [(line, message)] = _errors(project, path)
    assert line == 3 and f"{constant} is not a JSON number" in message
    assert message.count("line") == 1
    assert count_prompts(project) == 0


def test_pairs_refuse_nan_too(project, tmp_path):
    path = tmp_path / "pairs.jsonl"
    path.write_text('{"prompt": "p", "chosen": "a", "rejected": "b", "w": NaN}\n')
    assert _errors(project, path, import_preferences)[0][0] == 1
    assert count_prompts(project) == 0


# --- the size limit --------------------------------------------------------------------------


def test_the_limit_is_a_project_setting_with_a_default(project):
    assert max_chars(project) == DEFAULT_MAX_CHARS == 262_144
    assert set_max_chars(project, 10) == 10
    assert project.setting(MAX_CHARS_SETTING) == 10 and max_chars(project) == 10
    with pytest.raises(ValueError, match="positive number"):
        set_max_chars(project, 0)


@pytest.mark.parametrize(
    ("record", "field"),
    [
        ({"prompt": "x" * 11}, "'prompt' is 11 characters"),
        ({"prompt": "ok", "reference": "r" * 11}, "'reference' is 11 characters"),
        (
            {
                "messages": [
                    {"role": "system", "content": "s" * 6},
                    {"role": "user", "content": "u" * 5},
                ]
            },
            "'messages' is 11 characters",
        ),
        ({"prompt": "ok", "completion": "c" * 11}, "'reference' is 11 characters"),
        (
            {
                "messages": [
                    {"role": "user", "content": "q"},
                    {"role": "assistant", "content": "a" * 11},
                ]
            },
            "'reference' is 11 characters",
        ),
    ],
)
def test_a_text_over_the_limit_is_a_bad_line(project, tmp_path, record, field):
    set_max_chars(project, 10)
    path = tmp_path / "big.jsonl"
    path.write_text(json.dumps({"prompt": "short"}) + "\n" + json.dumps(record) + "\n")
    [(line, message)] = _errors(project, path)
    assert line == 2 and field in message
    assert "limit of 10" in message and "--max-chars" in message and MAX_CHARS_SETTING in message
    assert count_prompts(project) == 0


def test_exactly_the_limit_fits(project, tmp_path):
    set_max_chars(project, 10)
    path = tmp_path / "fits.jsonl"
    path.write_text(json.dumps({"prompt": "x" * 10, "reference": "y" * 10}) + "\n")
    assert import_prompts(project, path).imported == 1


@pytest.mark.parametrize(
    ("record", "field"),
    [
        ({"prompt": "p" * 11, "chosen": "a", "rejected": "b"}, "'prompt'"),
        ({"prompt": "p", "chosen": "a" * 11, "rejected": "b"}, "'chosen'"),
        ({"prompt": "p", "chosen": "a", "rejected": "b" * 11}, "'rejected'"),
        ({"prompt": "p", "completion": "c" * 11, "label": True}, "'completion'"),
    ],
)
def test_pairs_over_the_limit_are_refused(project, tmp_path, record, field):
    set_max_chars(project, 10)
    path = tmp_path / "pairs.jsonl"
    path.write_text(json.dumps(record) + "\n")
    [(line, message)] = _errors(project, path, import_preferences)
    assert line == 1 and f"{field} is 11 characters" in message
    assert count_prompts(project) == 0 and list_completions(project, limit=None) == []


def test_max_chars_on_the_command_line_raises_the_limit(tmp_path, capsys):
    Project.create(tmp_path / "p").close()
    path = tmp_path / "big.jsonl"
    path.write_text(json.dumps({"prompt": "x" * (DEFAULT_MAX_CHARS + 1)}) + "\n")
    assert main(["import", str(tmp_path / "p"), str(path), "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["errors"][0]["line"] == 1 and "262,144" in out["errors"][0]["message"]
    argv = ["import", str(tmp_path / "p"), str(path), "--max-chars", "300000", "--json"]
    assert main(argv) == 0
    assert json.loads(capsys.readouterr().out)["imported"] == 1
    assert max_chars(Project.open(tmp_path / "p")) == 300_000  # kept for the next import


# --- line numbers said once ------------------------------------------------------------------


def test_the_cli_says_each_line_once_and_no_line_for_the_file(tmp_path, capsys):
    Project.create(tmp_path / "p").close()
    bad = tmp_path / "bad.csv"
    bad.write_text("prompt,answer\nfine,1\n,2\n")
    assert main(["import", str(tmp_path / "p"), str(bad)]) == 1
    err = capsys.readouterr().err
    assert "line 3: the prompt is empty" in err and "line 3: line 3" not in err
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert main(["import", str(tmp_path / "p"), str(empty), "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["errors"] == [{"line": None, "message": "empty.csv holds no prompts"}]
