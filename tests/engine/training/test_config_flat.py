"""Config files and stored run configs written before the algorithm registry are flat and
hold every algorithm's keys. Each loads under every algorithm: its own keys are kept,
other algorithms' keys are dropped, a key no algorithm knows is still refused.

The fixture is ``TrainSettings().to_dict()`` as it was before the registry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.algorithms.registry import names, spec
from engine.errors import SettingsError
from engine.training.common_settings import COMMON
from engine.training.config import TrainSettings
from workbench.training.config import RunConfig, load_config

FLAT = json.loads((Path(__file__).parent / "fixtures" / "flat_train_config.json").read_text())
# Settings added since (SFT, best-of-N, dynamic sampling, the rollout engine, QLoRA, the
# base dtype): an old config has none of them.
ADDED_SINCE = {
    "sft_source",
    "completion_template",
    "best_of_n_top_k",
    "best_of_n_min_reward",
    "dynamic_sampling",
    "rollout_engine",
    "optim",
    "load_in_4bit",
    "base_dtype",
}


def test_the_fixture_is_the_old_full_flat_config():
    every_setting = set(COMMON) | {n for a in names() for n in spec(a).setting_names()}
    assert ADDED_SINCE <= every_setting
    assert set(FLAT) == (every_setting - ADDED_SINCE) | {"lora"}


@pytest.mark.parametrize("algorithm", names())
def test_an_old_full_flat_config_loads_for_every_algorithm(algorithm):
    settings = TrainSettings.from_dict({**FLAT, "algorithm": algorithm})
    data = settings.to_dict()
    assert set(data) == set(COMMON) | set(spec(algorithm).setting_names()) | {"lora"}
    assert {k: v for k, v in data.items() if k != "algorithm" and k not in ADDED_SINCE} == {
        k: FLAT[k] for k in data if k != "algorithm" and k not in ADDED_SINCE
    }
    for key in ADDED_SINCE & set(data):  # the ones it lacks take their defaults
        setting = COMMON[key] if key in COMMON else spec(algorithm).setting(key)
        assert data[key] == setting.default
    assert TrainSettings.from_dict(json.loads(json.dumps(data))) == settings


@pytest.mark.parametrize("algorithm", names())
def test_an_old_stored_run_config_loads_and_round_trips(algorithm):
    stored = {**FLAT, "algorithm": algorithm, "name": "old run", "sources": ["human"]}
    config = RunConfig.from_dict(stored)
    assert config.train.algorithm == algorithm and config.name == "old run"
    assert RunConfig.from_dict(config.to_dict()).to_dict() == config.to_dict()


def test_a_flat_key_of_the_algorithm_is_kept_and_one_of_another_is_dropped():
    settings = TrainSettings.from_dict(
        {**FLAT, "algorithm": "grpo", "epsilon": 0.3, "loss_type": "hinge", "rpo_alpha": 2.0}
    )
    assert settings.method.epsilon == 0.3
    assert "loss_type" not in settings.to_dict() and "rpo_alpha" not in settings.to_dict()
    with pytest.raises(AttributeError, match="loss_type"):
        _ = settings.method.loss_type


def test_a_value_only_another_algorithm_reads_is_not_validated():
    settings = TrainSettings.from_dict({"algorithm": "dpo", "grpo_loss_type": "bogus"})
    assert "grpo_loss_type" not in settings.to_dict()


def test_a_key_no_algorithm_knows_is_refused():
    with pytest.raises(SettingsError) as exc:
        TrainSettings.from_dict({**FLAT, "algorithm": "ppo", "epsilom": 0.3})
    assert "epsilom" in exc.value.message
    assert "epsilon" in exc.value.hint


def test_a_table_named_after_the_algorithm_holds_its_settings(tmp_path):
    settings = TrainSettings.from_dict(
        {"algorithm": "grpo", "epsilon": 0.1, "grpo": {"epsilon": 0.3}, "ppo": {"vf_coef": 0.5}}
    )
    assert settings.method.epsilon == 0.3  # the table over the flat key
    assert settings.to_dict()["epsilon"] == 0.3 and "vf_coef" not in settings.to_dict()
    path = tmp_path / "run.toml"
    path.write_text('algorithm = "ppo"\n[ppo]\nvf_coef = 0.5\n')
    assert load_config(path, ["ppo.lam=0.9"]).train.method.vf_coef == 0.5
    assert load_config(path, ["ppo.lam=0.9"]).train.method.lam == 0.9


def test_a_table_key_its_algorithm_does_not_read_is_refused():
    with pytest.raises(SettingsError) as exc:
        TrainSettings.from_dict({"algorithm": "dpo", "grpo": {"loss_type": "hinge"}})
    assert "loss_type" in exc.value.message and "[grpo]" in exc.value.message
