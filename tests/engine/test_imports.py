"""The window and the command line start without torch & co.: every engine module that
ui/ or workbench/ imports when it is itself imported (outside functions and
`if TYPE_CHECKING:`) must not import them. The list is read from their source, so an
engine import added at the top of a ui/ or workbench/ module is checked at once."""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.import_graph import REPO, import_graph

HEAVY = ("torch", "transformers", "peft", "accelerate", "safetensors", "PySide6")


def engine_modules_imported_on_start(repo: Path = REPO) -> list[str]:
    """The engine modules that ui/ and workbench/ import at module level."""
    graph = import_graph(repo, on_import_only=True)
    return sorted(
        {
            target
            for module, targets in graph.items()
            if module.split(".")[0] in ("ui", "workbench")
            for target in targets
            if target.split(".")[0] == "engine"
        }
    )


LIGHT_MODULES = engine_modules_imported_on_start()


def test_only_imports_that_run_on_start_are_collected(tmp_path):
    files = {
        "engine/__init__.py": "",
        "engine/light.py": "",
        "engine/heavy.py": "",
        "engine/typed.py": "",
        "engine/pkg/__init__.py": "",
        "engine/pkg/sub.py": "",
        "workbench/__init__.py": "",
        "workbench/core.py": (
            "from typing import TYPE_CHECKING\n"
            "import engine.light\n"
            "try:\n    from engine.pkg import sub\nexcept ImportError:\n    sub = None\n"
            "if TYPE_CHECKING:\n    import engine.typed\n"
            "def later():\n    import engine.heavy\n"
        ),
        "ui/__init__.py": "",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert engine_modules_imported_on_start(tmp_path) == ["engine.light", "engine.pkg.sub"]


def test_the_real_list_holds_what_workbench_imports_at_the_top():
    # workbench.training.config builds on the engine's training settings at module level.
    assert "engine.training.config" in LIGHT_MODULES


@pytest.mark.parametrize("module", LIGHT_MODULES)
def test_engine_module_imported_on_start_does_not_import_torch(module):
    code = (
        "import sys\n"
        f"import {module}\n"
        f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
