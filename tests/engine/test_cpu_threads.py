"""The OpenMP wait policy and thread count that keep training from collapsing under load."""

import os
import subprocess
import sys

import pytest

from engine.cpu_threads import prepare_openmp_environment, resolve_threads

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _child(code: str, **env: str) -> str:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("OMP_", "WORKBENCH_"))}
    environ.update(env)
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=environ, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_passive_wait_is_set_before_torch_loads_through_the_engine():
    out = _child("import os, engine, torch; print(os.environ['OMP_WAIT_POLICY'])")
    assert out == "PASSIVE"


def test_a_wait_policy_the_user_chose_is_kept():
    out = _child(
        "import os, engine; print(os.environ['OMP_WAIT_POLICY'])", OMP_WAIT_POLICY="ACTIVE"
    )
    assert out == "ACTIVE"


def test_workbench_threads_reaches_torch_without_importing_it_first():
    out = _child("import engine, torch; print(torch.get_num_threads())", WORKBENCH_THREADS="1")
    assert out == "1"


def test_an_explicit_omp_num_threads_wins_over_workbench_threads():
    environ = {"WORKBENCH_THREADS": "3", "OMP_NUM_THREADS": "2"}
    prepare_openmp_environment(environ)
    assert environ["OMP_NUM_THREADS"] == "2"
    assert environ["OMP_WAIT_POLICY"] == "PASSIVE"


def test_bad_thread_counts_are_refused_with_the_variable_named():
    with pytest.raises(ValueError, match="WORKBENCH_THREADS"):
        prepare_openmp_environment({"WORKBENCH_THREADS": "many"})
    with pytest.raises(ValueError, match="at least 1"):
        resolve_threads(0)


def test_auto_threads_share_the_cores(monkeypatch):
    monkeypatch.delenv("WORKBENCH_THREADS", raising=False)
    monkeypatch.setattr("engine.cpu_threads.available_cores", lambda: 8)
    assert resolve_threads(None) == 8
    assert resolve_threads(None, share=2) == 4
    assert resolve_threads(None, share=16) == 1
    assert resolve_threads(5, share=2) == 5
