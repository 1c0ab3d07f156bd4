"""engine.training.train: validates the settings, then runs the offline or the online loop
with what it was given; the package itself imports no torch."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from engine.errors import SettingsError
from engine.training import loop as offline_loop
from engine.training import train
from engine.training.config import TrainSettings
from engine.training.online import loop as online_loop


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
    result = train(
        "loaded", "data", settings, "hooks", init_adapter=Path("a"), resume_from=Path("r")
    )
    assert result == "offline"
    assert loops == [
        (
            "offline",
            ("loaded", "data", settings, "hooks"),
            {"init_adapter": Path("a"), "resume_from": Path("r")},
        )
    ]


def test_online_settings_run_the_online_loop_with_the_rewards(loops):
    settings = TrainSettings.from_dict({"algorithm": "grpo"})
    rewards, preference = ["a reward source"], print
    result = train("loaded", "data", settings, "hooks", rewards=rewards, preference=preference)
    assert result == "online"
    assert loops == [
        (
            "online",
            ("loaded", "data", settings, "hooks"),
            {
                "rewards": rewards,
                "preference": preference,
                "init_adapter": None,
                "resume_from": None,
            },
        )
    ]
    train("loaded", "data", settings, "hooks")
    assert loops[-1][2]["rewards"] == []  # no rewards given: an empty list, never None


def test_settings_are_validated_before_any_loop_starts(loops):
    settings = dataclasses.replace(TrainSettings(), max_steps=0)
    with pytest.raises(SettingsError):
        train("loaded", "data", settings, "hooks")
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
