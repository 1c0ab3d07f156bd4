"""TrainSettings: defaults, validation naming the bad key, unknown keys, round trip, docs."""

from __future__ import annotations

import json
from dataclasses import fields

import pytest

from engine.algorithms.group import MethodSettings
from engine.algorithms.registry import algorithm_settings, spec
from engine.errors import SettingsError
from engine.lora import LoraSettings
from engine.training.common_settings import COMMON, COMMON_SETTINGS
from engine.training.config import ALGORITHMS, DEFAULT_BETA, TrainSettings, applies, setting_docs


def test_defaults_validate():
    settings = TrainSettings()
    settings.validate()
    assert TrainSettings.from_dict({}) == settings
    assert settings.resolved_beta() == DEFAULT_BETA["dpo"]
    assert settings.needs_reference()


def test_resolved_values_follow_the_algorithm():
    assert TrainSettings(algorithm="simpo").resolved_beta() == 2.0
    assert TrainSettings.from_dict({"algorithm": "simpo", "beta": 0.5}).resolved_beta() == 0.5
    ipo = TrainSettings.from_dict({"algorithm": "ipo", "loss_type": "hinge"})
    assert ipo.resolved_loss_type() == "ipo"
    assert TrainSettings.from_dict({"loss_type": "hinge"}).resolved_loss_type() == "hinge"
    assert [a for a in DEFAULT_BETA if TrainSettings(algorithm=a).needs_reference()] == [
        "dpo",
        "ipo",
        "kto",
    ]


BAD_VALUES = [
    ("algorithm", "a2c"),
    ("lr_scheduler", "step"),
    ("loss_type", "sppo"),
    ("precision", "fp8"),
    ("max_steps", 0),
    ("max_steps", 2.5),
    ("max_steps", True),
    ("batch_size", 0),
    ("batch_size", "8"),
    ("gradient_accumulation_steps", 0),
    ("max_length", 0),
    ("logging_every", 0),
    ("eval_every", -1),
    ("eval_batches", -1),
    ("checkpoint_every", -1),
    ("samples_per_eval", -1),
    ("seed", -1),
    ("sample_max_new_tokens", 0),
    ("learning_rate", 0.0),
    ("learning_rate", -1e-4),
    ("learning_rate", float("nan")),
    ("learning_rate", float("inf")),
    ("learning_rate", "1e-4"),
    ("warmup_ratio", 1.5),
    ("warmup_ratio", -0.1),
    ("weight_decay", -0.01),
    ("max_grad_norm", -1.0),
    ("label_smoothing", 0.5),
    ("label_smoothing", -0.1),
    ("rpo_alpha", -1.0),
    ("simpo_gamma_beta_ratio", -0.5),
    ("desirable_weight", 0.0),
    ("undesirable_weight", 0),
    ("beta", 0.0),
    ("beta", -0.1),
    ("center_rewards_coefficient", -0.01),
    ("use_margin", "false"),
    ("gradient_checkpointing", "yes"),
]


def _algorithm_for(key: str) -> str:
    """DPO, or the first algorithm that reads ``key`` (a key of another algorithm is dropped)."""
    return next(a for a in ALGORITHMS if applies(key, a))


def _direct(key: str, value) -> TrainSettings:
    """TrainSettings built without from_dict: a common key as a field, else in ``method``."""
    if key in COMMON:
        return TrainSettings(**{key: value})
    algorithm = _algorithm_for(key)
    return TrainSettings(
        algorithm=algorithm, method=MethodSettings.build(spec(algorithm), {key: value})
    )


@pytest.mark.parametrize(("key", "value"), BAD_VALUES, ids=[f"{k}={v!r}" for k, v in BAD_VALUES])
def test_bad_value_names_the_key(key, value):
    with pytest.raises(SettingsError) as direct:
        _direct(key, value).validate()
    assert key in direct.value.message
    assert repr(value) in direct.value.message
    with pytest.raises(SettingsError) as loaded:
        TrainSettings.from_dict({"algorithm": _algorithm_for(key), **{key: value}})
    assert loaded.value.message == direct.value.message


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("r", 0, "rank r"),
        ("alpha", 0, "alpha"),
        ("dropout", 1.0, "dropout"),
        ("target_modules", [], "target modules"),
    ],
)
def test_bad_lora_value_names_the_key(key, value, words):
    with pytest.raises(SettingsError, match="LoRA") as exc:
        TrainSettings.from_dict({"lora": {key: value}})
    assert words in exc.value.message


def test_good_edge_values_pass():
    TrainSettings.from_dict(
        {
            "warmup_ratio": 0,
            "max_grad_norm": 0,
            "label_smoothing": 0.49,
            "eval_every": 0,
            "checkpoint_every": 0,
            "seed": 0,
            "beta": 1e-9,
            "learning_rate": 1,
        }
    )
    TrainSettings.from_dict({"algorithm": "reward", "center_rewards_coefficient": 0.0})


def test_unknown_keys_are_rejected():
    with pytest.raises(SettingsError) as exc:
        TrainSettings.from_dict({"learning_rat": 1e-4, "max_steps": 5, "zzz": 1})
    assert "learning_rat" in exc.value.message and "zzz" in exc.value.message
    assert "max_steps" not in exc.value.message
    assert "learning_rate" in exc.value.hint  # the known keys are listed


def test_unknown_lora_keys_are_rejected():
    with pytest.raises(SettingsError) as exc:
        TrainSettings.from_dict({"lora": {"rank": 8}})
    assert "rank" in exc.value.message
    assert "LoRA" in exc.value.message


def test_round_trip_through_dict_and_json():
    settings = TrainSettings.from_dict(
        {
            "algorithm": "kto",
            "max_steps": 7,
            "learning_rate": 5e-5,
            "beta": 0.3,
            "center_rewards_coefficient": 0.01,
            "use_margin": True,
            "precision": "bf16",
            "lora": {
                "r": 4,
                "alpha": 8,
                "dropout": 0.0,
                "target_modules": ["q_proj", "v_proj"],
                "use_rslora": True,
            },
        }
    )
    data = settings.to_dict()
    assert data["lora"] == {
        "r": 4,
        "alpha": 8,
        "dropout": 0.0,
        "target_modules": ["q_proj", "v_proj"],
        "use_rslora": True,
    }
    again = TrainSettings.from_dict(json.loads(json.dumps(data)))
    assert again == settings
    assert again.to_dict() == data
    assert TrainSettings.from_dict({**data, "lora": LoraSettings(r=2)}).lora.r == 2


def test_partial_lora_keeps_other_defaults():
    settings = TrainSettings.from_dict({"lora": {"r": 16}})
    assert settings.lora == LoraSettings(r=16)


def test_setting_docs_list_every_field():
    docs = setting_docs()
    keys = [key for key, _, _ in docs]
    assert len(keys) == len(set(keys))
    own = [s.name for s in COMMON_SETTINGS + algorithm_settings()]
    lora = [f"lora.{f.name}" for f in fields(LoraSettings)]
    assert keys == own + lora
    defaults: dict = {}  # the flat defaults of every algorithm, DPO's first
    for algorithm in ALGORITHMS:
        defaults = {**TrainSettings(algorithm=algorithm).to_dict(), **defaults}
    for key, default, help_text in docs:
        assert isinstance(help_text, str) and len(help_text) > 10, key
        if key.startswith("lora."):
            assert default == defaults["lora"][key.removeprefix("lora.")]
        else:
            assert default == defaults[key]
