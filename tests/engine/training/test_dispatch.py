"""engine.training.train: validates the settings, then runs the offline or the online loop
with what it was given; the package itself imports no torch."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from engine.errors import SettingsError
from engine.training import loop as offline_loop
from engine.training import train
from engine.training.config import TrainSettings
from engine.training.online import loop as online_loop

# A stand-in for the loaded model: the dispatch reads only its device (a CPU run also
# tunes the allocator, which a test process should not have done to it).
LOADED = SimpleNamespace(device="meta")


@pytest.fixture
def loops(monkeypatch):
    """Replace both loops by recorders; each returns its own name."""
    calls: list[tuple[str, tuple, dict]] = []

    def recorder(name):
        def run(*args, **kwargs):
            calls.append((name, args, kwargs))
            return name

        return run

    monkeypatch.setattr(offline_loop, "train_offline", recorder("offline"))
    monkeypatch.setattr(online_loop, "train_online", recorder("online"))
    return calls


def test_offline_settings_run_the_offline_loop(loops):
    settings = TrainSettings.from_dict({"algorithm": "dpo"})
    result = train(LOADED, "data", settings, "hooks", init_adapter=Path("a"), resume_from=Path("r"))
    assert result == "offline"
    assert loops == [
        (
            "offline",
            (LOADED, "data", settings, "hooks"),
            {"init_adapter": Path("a"), "resume_from": Path("r")},
        )
    ]


def test_online_settings_run_the_online_loop_with_the_rewards(loops):
    settings = TrainSettings.from_dict({"algorithm": "grpo"})
    rewards, preference = ["a reward source"], print
    result = train(LOADED, "data", settings, "hooks", rewards=rewards, preference=preference)
    assert result == "online"
    assert loops == [
        (
            "online",
            (LOADED, "data", settings, "hooks"),
            {
                "rewards": rewards,
                "preference": preference,
                "init_adapter": None,
                "resume_from": None,
            },
        )
    ]
    train(LOADED, "data", settings, "hooks")
    assert loops[-1][2]["rewards"] == []  # no rewards given: an empty list, never None


def test_settings_are_validated_before_any_loop_starts(loops):
    settings = dataclasses.replace(TrainSettings(), max_steps=0)
    with pytest.raises(SettingsError):
        train(LOADED, "data", settings, "hooks")
    assert loops == []


def test_importing_the_package_imports_no_torch():
    code = (
        "import sys\n"
        "import engine.training\n"
        "from engine.training import train\n"
        "heavy = [m for m in ('torch', 'transformers', 'peft', 'accelerate') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr


def _cpu_model(parameters: int) -> SimpleNamespace:
    weight = SimpleNamespace(numel=lambda: parameters)
    return SimpleNamespace(device="cpu", model=SimpleNamespace(parameters=lambda: [weight]))


@pytest.mark.parametrize("parameters, tuned", [(1_000_000, False), (500_000_000, True)])
def test_the_allocator_is_tuned_for_a_large_model_on_the_cpu_only(
    loops, monkeypatch, parameters, tuned
):
    from engine.training import cpu_allocator

    calls: list[str] = []
    monkeypatch.setattr(cpu_allocator, "return_freed_memory_to_os", lambda: calls.append("set"))
    monkeypatch.setattr(cpu_allocator, "keep_freed_memory_again", lambda: calls.append("undone"))
    train(_cpu_model(parameters), "data", TrainSettings(), "hooks")
    assert calls == (["set", "undone"] if tuned else [])
    assert loops[-1][0] == "offline"  # the run ran between the two


def test_a_users_own_allocator_choice_is_kept():
    from engine.training.cpu_allocator import _user_chose_allocator

    assert _user_chose_allocator({"LD_PRELOAD": "/usr/lib/libjemalloc.so.2"})
    assert _user_chose_allocator({"MALLOC_ARENA_MAX": "2"})
    assert _user_chose_allocator({"GLIBC_TUNABLES": "glibc.malloc.trim_threshold=0"})
    assert not _user_chose_allocator({"PATH": "/usr/bin"})
