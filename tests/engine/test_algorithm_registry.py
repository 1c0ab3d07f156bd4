"""The algorithm specs are the only list of algorithms: the Train form, validation, the
README's settings table, the demo defaults and the classes that run them all agree with
it, and every setting's choices are what its loss accepts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch
from PySide6.QtCore import Qt

from engine.algorithms.registry import (
    algorithm_settings,
    names,
    offline_names,
    online_names,
    spec,
    specs,
)
from engine.errors import SettingsError
from engine.losses.grpo import grpo_advantages, grpo_loss
from engine.losses.preference import dpo_loss
from engine.training.common_settings import COMMON, COMMON_SETTINGS
from engine.training.config import TrainSettings, applies, settings_of
from engine.training.implementation import implementation
from engine.training.offline.base import OfflineAlgorithm
from engine.training.online.algorithms.base import Algorithm
from workbench.demo_project import DEMO_TRAIN_DEFAULTS, DEMO_TUNED
from workbench.training.config import RUN_KEYS, RunConfig, with_defaults
from workbench.training.demonstrations import demonstration_builder

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_algorithms_in_form_order():
    assert names() == (
        "dpo",
        "ipo",
        "simpo",
        "orpo",
        "kto",
        "sft",
        "reward",
        "grpo",
        "rloo",
        "ppo",
        "online_dpo",
        "best_of_n",
    )
    assert offline_names() + online_names() == names()  # offline ones first
    with pytest.raises(SettingsError) as exc:
        spec("a2c")
    assert "a2c" in exc.value.message and all(n in exc.value.message for n in names())


def test_a_shared_setting_is_one_object():
    by_name: dict = {}
    for s in specs():
        for setting in s.settings:
            assert by_name.setdefault(setting.name, setting) is setting, (s.name, setting.name)
    assert not set(by_name) & set(COMMON)  # a common setting is no algorithm's own


def test_the_train_form_lists_the_registry(qtbot):
    from ui.views.train.form import TrainForm

    form = TrainForm()
    qtbot.addWidget(form)
    combo = form.algorithm
    items = [i for i in range(combo.count()) if combo.itemData(i) is not None]
    assert tuple(combo.itemData(i) for i in items) == names()
    for i, s in zip(items, specs(), strict=True):
        assert combo.itemText(i) == s.label
        assert combo.itemData(i, Qt.ItemDataRole.ToolTipRole) == s.description
    separators = [i for i in range(combo.count()) if combo.itemData(i) is None]
    assert separators == [len(offline_names())]  # between the offline and online methods
    for name in names():
        combo.setCurrentIndex(combo.findData(name))
        shown = {k for k in form.editors if not k.startswith("lora.")}
        assert shown == {s.name for s in settings_of(name)} - {"algorithm"}, name
        assert form.about.text() == spec(name).description


def test_validation_accepts_exactly_the_registry_names():
    assert COMMON["algorithm"].choices == names()
    for name in names():
        assert TrainSettings.from_dict({"algorithm": name}).spec is spec(name)
    with pytest.raises(SettingsError, match="algorithm must be one of"):
        TrainSettings.from_dict({"algorithm": "a2c"})


def _readme_table_keys() -> list[str]:
    lines = README.read_text(encoding="utf-8").splitlines()
    start = lines.index("| key | default | what it does |") + 2
    keys = []
    for line in lines[start:]:
        if not line.startswith("| `"):
            break
        keys.append(line.split("`")[1])
    return keys


def test_the_readme_table_lists_every_setting_and_nothing_else():
    keys = _readme_table_keys()
    lora = [k for k in keys if k.startswith("lora.")]
    expected = (
        list(RUN_KEYS)
        + [s.name for s in COMMON_SETTINGS]
        + [s.name for s in algorithm_settings()]
        + lora
    )
    assert keys == expected
    for s in specs():
        assert set(s.setting_names()) <= set(keys), s.name


def test_the_demo_defaults_follow_the_registry():
    by_algorithm = DEMO_TRAIN_DEFAULTS["by_algorithm"]
    assert tuple(by_algorithm) == names()
    for name, values in by_algorithm.items():
        assert all(applies(key, name) for key in values), name
        config = RunConfig.from_dict(with_defaults({"algorithm": name}, DEMO_TRAIN_DEFAULTS))
        assert config.train.algorithm == name

    # The shared offline and online blocks never reach the other kind; an algorithm's own
    # tuned values (DEMO_TUNED, e.g. Online DPO's beta) are its own.
    def shared(name: str) -> set[str]:
        return set(by_algorithm[name]) - set(DEMO_TUNED.get(name, {}))

    online = {k for name in online_names() for k in shared(name)}
    assert "max_completion_length" in online
    assert not {k for name in offline_names() for k in shared(name)} & online


def _choice_checks() -> dict:
    """Per setting with choices: a call of its loss with one value (ValueError if refused)."""
    b = 4
    logps, mask = torch.full((b, 3), -1.0), torch.ones(b, 3)
    pairs = [torch.zeros(b) for _ in range(4)]
    return {
        "loss_type": lambda v: dpo_loss(*pairs, beta=0.1, loss_type=v),
        "grpo_loss_type": lambda v: grpo_loss(
            logps, torch.ones(b), mask, loss_type=v, max_completion_length=3
        ),
        "importance_sampling_level": lambda v: grpo_loss(
            logps, torch.ones(b), mask, importance_sampling_level=v
        ),
        "scale_rewards": lambda v: grpo_advantages(torch.arange(b, dtype=torch.float), 2, v),
        # not a loss's: the sources the application builds SFT's demonstrations from
        "sft_source": demonstration_builder,
        # not a loss's: the online loop picks its sampler by it, once the settings accept it
        "rollout_engine": lambda v: TrainSettings.from_dict(
            {"algorithm": "grpo", "rollout_engine": v}
        ),
    }


def test_every_setting_choice_is_one_its_loss_accepts():
    checks = _choice_checks()
    with_choices = {s.name: s for s in algorithm_settings() if s.choices is not None}
    assert set(with_choices) == set(checks)  # a new choice setting needs its loss tied here
    for name, setting in with_choices.items():
        for value in setting.choices:
            checks[name](value)
        with pytest.raises(ValueError):
            checks[name]("not-a-choice")


def test_every_implementation_resolves_to_a_class():
    for s in specs():
        cls = implementation(s.name)
        assert isinstance(cls, type), s.name
        assert issubclass(cls, Algorithm if s.online else OfflineAlgorithm), s.name


def test_the_registry_and_the_settings_import_no_torch():
    code = (
        "import sys\n"
        "import engine.algorithms.registry, engine.training.config\n"
        "assert 'torch' not in sys.modules\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def _readme_algorithm_rows(header: str) -> list[str]:
    """The first column of the README table whose header row is ``header``."""
    lines = README.read_text(encoding="utf-8").splitlines()
    start = lines.index(header) + 2  # past the header and its |---| row
    rows = []
    for line in lines[start:]:
        if not line.startswith("| `"):
            break
        rows.append(line.split("`")[1])
    return rows


def test_the_readme_algorithm_tables_describe_every_algorithm_once():
    offline = _readme_algorithm_rows("| `algorithm` | method | data |")
    online = _readme_algorithm_rows("| `algorithm` | method | what it adds |")
    assert sorted(offline) == sorted(offline_names())
    assert online == list(online_names())
