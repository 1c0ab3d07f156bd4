"""The OpenMP wait policy and thread count that keep training from collapsing under load."""

import os
import subprocess
import sys

import pytest

from engine.cpu_threads import (
    ONE_THREAD_BELOW_PARAMETERS,
    job_threads,
    job_threads_note,
    prepare_openmp_environment,
)

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
        prepare_openmp_environment({"WORKBENCH_THREADS": "0"})


def test_a_small_model_runs_on_one_thread_a_large_one_on_the_count_chosen_at_start():
    auto = {"OMP_NUM_THREADS": "6", "WORKBENCH_AUTO_THREADS": "6"}
    assert job_threads(800_000, auto) == 1
    assert job_threads(ONE_THREAD_BELOW_PARAMETERS - 1, auto) == 1
    assert job_threads(ONE_THREAD_BELOW_PARAMETERS, auto) == 6
    assert job_threads(500_000_000, auto) == 6


def test_a_thread_count_the_user_set_is_kept_for_every_model():
    for users in ({"WORKBENCH_THREADS": "3", "OMP_NUM_THREADS": "3"}, {"OMP_NUM_THREADS": "4"}):
        assert job_threads(800_000, users) is None
        assert job_threads(500_000_000, users) is None


SESSION_THREADS = """
import engine, torch
from engine.demo import DEMO_MODEL_DIR
from engine.model_source import ModelSpec
from engine.session import ModelSession
torch.set_num_threads(2)
session = ModelSession()
session.get(ModelSpec(path=str(DEMO_MODEL_DIR)), device="cpu")
first = torch.get_num_threads()
torch.set_num_threads(2)
session.get(ModelSpec(path=str(DEMO_MODEL_DIR)), device="cpu")  # cached
print(first, torch.get_num_threads())
"""


def test_a_job_on_the_small_demo_model_sets_one_thread_unless_the_user_chose():
    assert _child(SESSION_THREADS) == "1 1"
    assert _child(SESSION_THREADS, WORKBENCH_THREADS="2") == "2 2"


def test_a_spin_count_or_block_time_the_user_chose_is_a_choice_of_wait_policy_too():
    for name in ("GOMP_SPINCOUNT", "KMP_BLOCKTIME"):
        environ = {name: "10000"}
        prepare_openmp_environment(environ)
        assert "OMP_WAIT_POLICY" not in environ  # no PASSIVE overriding the user's spin
        assert environ[name] == "10000"


def test_without_a_setting_the_threads_are_the_cores_other_load_leaves_free(monkeypatch):
    monkeypatch.setattr("engine.cpu_threads.available_cores", lambda: 8)
    for load, threads in ((0.2, "8"), (3.4, "5"), (7.9, "1"), (30.0, "1")):
        monkeypatch.setattr("engine.cpu_threads.os.getloadavg", lambda load=load: (load, 0, 0))
        environ: dict[str, str] = {}
        prepare_openmp_environment(environ)
        assert environ["OMP_NUM_THREADS"] == threads, load


def test_a_child_measures_again_but_keeps_a_users_thread_count(monkeypatch):
    monkeypatch.setattr("engine.cpu_threads.available_cores", lambda: 4)
    monkeypatch.setattr("engine.cpu_threads.os.getloadavg", lambda: (1.0, 0, 0))
    inherited = {"OMP_NUM_THREADS": "4", "WORKBENCH_AUTO_THREADS": "4"}  # the window's choice
    prepare_openmp_environment(inherited)
    assert inherited["OMP_NUM_THREADS"] == "3"
    users = {"OMP_NUM_THREADS": "4"}
    prepare_openmp_environment(users)
    assert users["OMP_NUM_THREADS"] == "4" and "WORKBENCH_AUTO_THREADS" not in users


def test_the_run_log_line_says_why_that_many_threads(monkeypatch):
    for name in ("WORKBENCH_THREADS", "OMP_NUM_THREADS", "WORKBENCH_AUTO_THREADS"):
        monkeypatch.delenv(name, raising=False)
    assert "under 10 M parameters" in job_threads_note(800_000)
    assert "free when the worker started" in job_threads_note(500_000_000)
    monkeypatch.setenv("WORKBENCH_THREADS", "1")
    assert "set by WORKBENCH_THREADS" in job_threads_note(800_000)
