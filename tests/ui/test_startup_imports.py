"""The window's start-up imports only what it needs: no torch, pandas or scipy."""

import json
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HEAVY = ("torch", "transformers", "pandas", "scipy")


def test_importing_the_app_leaves_out_heavy_modules():
    code = (
        f"import json, sys, ui.app; print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


def test_pandas_stays_importable_after_the_project_database_loads():
    code = (
        "import workbench.project, sqlite_utils, pandas; print(pandas.DataFrame({'a': [1]}).shape)"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "(1, 1)"
