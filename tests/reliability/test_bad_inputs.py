"""Every file of bad_inputs/ is refused by the command line, naming its line once, and
leaves the project as it was (bad_inputs/README.md lists each file and its message)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from workbench.cli import main
from workbench.project import Project

HERE = Path(__file__).parent / "bad_inputs"


def _cases() -> list[tuple[str, str, int, str]]:
    rows = []
    for line in (HERE / "README.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[2].isdigit():
            rows.append((cells[0], cells[1], int(cells[2]), cells[3]))
    return rows


CASES = _cases()


def test_the_readme_lists_every_file_and_only_files_that_exist():
    files = {p.name for p in HERE.iterdir() if p.name != "README.md"}
    assert sorted(name for name, *_ in CASES) == sorted(files)


def _dump(path: Path) -> list[str]:
    project = Project.open(path)
    try:
        return list(project.db.conn.iterdump())
    finally:
        project.close()


@pytest.fixture
def project_dir(tmp_path) -> str:
    """A project holding one prompt, so "unchanged" is more than "still empty"."""
    seed = tmp_path / "seed.jsonl"
    seed.write_text('{"prompt": "already here", "reference": "1"}\n')
    Project.create(tmp_path / "p").close()
    assert main(["import", str(tmp_path / "p"), str(seed), "--json"]) == 0
    return str(tmp_path / "p")


def _argv(command: str, project: str, file: Path) -> list[str]:
    if command == "import":
        return ["import", project, str(file)]
    assert command == "pairs import"
    return ["pairs", project, "import", str(file)]


@pytest.mark.parametrize(("name", "command", "line", "message"), CASES, ids=[c[0] for c in CASES])
def test_a_bad_input_is_refused_naming_its_line(project_dir, capsys, name, command, line, message):
    capsys.readouterr()
    before = _dump(Path(project_dir))
    argv = _argv(command, project_dir, HERE / name)

    assert main([*argv, "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] is False and out["imported"] == 0
    assert [e["line"] for e in out["errors"]] == [line]
    said = out["errors"][0]["message"]
    assert said.startswith(f"line {line}: ") and message in said
    assert len(re.findall(r"\bline \d+", said)) == 1  # said once

    assert main(argv) == 1
    captured = capsys.readouterr()
    assert f"line {line}: " in captured.err and message in captured.err
    assert f"line {line}: line" not in captured.err and "line 0" not in captured.err
    assert _dump(Path(project_dir)) == before


@pytest.mark.parametrize(
    ("command", "file", "content", "message"),
    [
        ("import", "empty.jsonl", b"", "holds no prompts"),
        ("import", "header_only.csv", b"prompt,answer\n", "holds no prompts"),
        ("import", "blank.csv", b"\n\n", "holds no prompts"),
        ("pairs import", "empty.jsonl", b"  \n", "holds no records"),
    ],
)
def test_a_file_level_error_names_no_line(
    project_dir, tmp_path, capsys, command, file, content, message
):
    path = tmp_path / file
    path.write_bytes(content)
    capsys.readouterr()
    before = _dump(Path(project_dir))
    assert main([*_argv(command, project_dir, path), "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] is False
    assert [e["line"] for e in out["errors"]] == [None]
    assert message in out["errors"][0]["message"]
    assert main(_argv(command, project_dir, path)) == 1
    err = capsys.readouterr().err
    assert message in err and "line" not in err
    assert _dump(Path(project_dir)) == before
