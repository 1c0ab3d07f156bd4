"""The built wheel is the app: `python -m build` makes it from a copy of the source,
it holds the demo model and the icon as package data, and installed into a fresh virtual
environment outside the repository it runs `workbench --version`, `workbench demo`,
`workbench generate` and opens the window offscreen, importing nothing from the checkout.

The fresh environment sees the development environment's packages through a .pth file
instead of downloading torch and Qt again; `pip check` then proves the wheel's declared
dependencies are all satisfied by them.
"""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SKIP = shutil.ignore_patterns(
    ".venv", ".git", "__pycache__", "*.egg-info", "build", "dist", ".*_cache", "tmp"
)
WINDOW_SMOKE = """
import sys
from PySide6.QtCore import QTimer
import ui
from ui.app import make_app
from ui.main_window import MainWindow

app = make_app([])
window = MainWindow()
window.show()
window.projectOpened.connect(lambda *_: QTimer.singleShot(300, app.quit))
QTimer.singleShot(90_000, lambda: app.exit(2))
window.open_project(sys.argv[1])
code = app.exec()
print(json.dumps({"code": code, "title": window.windowTitle(), "ui": ui.__file__,
                  "icon": not app.windowIcon().isNull()}))
window.close_choice = "stop"
window.close()
""".replace("import sys", "import json, sys", 1)


def _run(args: list, cwd: Path, env: dict, timeout: int = 600) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, f"{args}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.mark.slow
def test_wheel_installs_and_runs_the_demo(tmp_path):
    source = tmp_path / "src"
    shutil.copytree(ROOT, source, ignore=SKIP)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "QT_QPA_PLATFORM": "offscreen"}
    env.pop("PYTHONPATH", None)
    _run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", tmp_path / "dist"],
        source,
        env,
    )
    wheel = next((tmp_path / "dist").glob("alignment_workbench-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for data in (
        "engine/demo/model/model.safetensors",
        "engine/demo/model/tokenizer.json",
        "engine/demo/model/config.json",
        "engine/demo/judge/judge.json",
        "workbench/desktop/icon.svg",
    ):
        assert data in names, data

    venv = tmp_path / "venv"
    # No pip or setuptools of its own: the development environment's serve (through the
    # .pth file below), so none older shadows what torch requires.
    _run([sys.executable, "-m", "venv", "--without-pip", venv], tmp_path, env)
    python = venv / "bin" / "python"
    purelib = _run(
        [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], tmp_path, env
    )
    (Path(purelib.stdout.strip()) / "dev-deps.pth").write_text(
        "\n".join(site.getsitepackages()) + "\n"
    )
    _run([python, "-m", "pip", "install", "--no-deps", "--no-index", wheel], tmp_path, env)
    _run([python, "-m", "pip", "check"], tmp_path, env)

    home = tmp_path / "home"  # an empty working folder and user data folder, far from the repo
    home.mkdir()
    env["HOME"] = str(home)
    env["XDG_DATA_HOME"] = str(home / "data")
    workbench = venv / "bin" / "workbench"
    version = _run([workbench, "--version"], home, env).stdout
    assert version.startswith("workbench ") and "unknown" not in version
    where = _run(
        [python, "-c", "import workbench, engine.demo; print(workbench.__file__)"], home, env
    )
    assert str(venv) in where.stdout and str(ROOT) not in where.stdout

    _run([workbench, "demo", home / "demo", "--json"], home, env)
    generated = json.loads(
        _run(
            [workbench, "generate", home / "demo", "--split", "eval", "--limit", "2", "--json"],
            home,
            env,
        ).stdout
    )
    assert generated["ok"] and len(generated["completions"]) == 2
    window = json.loads(
        _run([python, "-c", WINDOW_SMOKE, home / "demo"], home, env).stdout.strip().splitlines()[-1]
    )
    assert window["code"] == 0 and window["icon"] and str(venv) in window["ui"]
