"""Shared checks that a sandboxed run left the app (this test process) untouched."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from engine.sandbox import identity

TRIVIAL_TEST = "assert add(1, 2) == 3\n"


@pytest.fixture
def app_unaffected(tmp_path):
    """Snapshot the app's environment, cwd and a file; after the test, check they are
    intact, that the app can still start a process promptly, and that no sandbox
    process outlived its supervisor (in root mode the slot uid is checked when it is
    released; other programs on the machine may be running sandboxes of their own)."""
    sentinel = tmp_path / "sentinel.txt"
    sentinel.write_text("intact")

    def app_env():
        return {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}

    env, cwd = app_env(), os.getcwd()
    leftovers = identity.leftovers_killed
    yield
    assert app_env() == env
    assert os.getcwd() == cwd
    assert sentinel.read_text() == "intact"
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", "print('alive')"], capture_output=True, text=True, timeout=30
    )
    assert done.stdout.strip() == "alive"
    assert time.monotonic() - started < 10
    assert identity.leftovers_killed == leftovers
