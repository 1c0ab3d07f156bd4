"""vLLM as the rollout engine is an optional extra: where it is absent, or the run is not
on a CUDA GPU, choosing it stops the run before anything is prepared, with a message that
says what to install or which setting to change."""

from __future__ import annotations

import importlib.util

import pytest

from engine.decoding import vllm_rollouts
from engine.errors import EngineError, SettingsError
from engine.training import train
from tests.engine.training.helpers import Recorder
from tests.engine.training.online.helpers import answer_reward, demo_prompts, online_settings


def _without_vllm(monkeypatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        vllm_rollouts.importlib.util,
        "find_spec",
        lambda name, *a: None if name == "vllm" else real(name, *a),
    )


def test_choosing_vllm_where_it_is_not_installed_stops_the_run_with_what_to_do(
    demo_loaded, tmp_path, monkeypatch
):
    _without_vllm(monkeypatch)
    recorder = Recorder(tmp_path)
    settings = online_settings("grpo", rollout_engine="vllm")
    with pytest.raises(EngineError) as caught:
        train(demo_loaded, demo_prompts(), settings, recorder.hooks, rewards=answer_reward())
    text = str(caught.value) + " " + (caught.value.hint or "")
    assert "rollout_engine is vllm, but vLLM is not installed" in text
    assert "pip install 'alignment-workbench[vllm]'" in text
    assert "rollout_engine to auto" in text
    assert recorder.prepared is None and not recorder.metrics  # nothing started or stored


def test_vllm_is_refused_off_cuda_even_when_installed(monkeypatch):
    monkeypatch.setattr(vllm_rollouts.importlib.util, "find_spec", lambda name, *a: object())
    assert vllm_rollouts.vllm_problem("cuda:0") is None
    with pytest.raises(EngineError, match="vLLM samples on a CUDA GPU, and this run is on cpu"):
        vllm_rollouts.require_vllm("cpu")


def test_the_rollout_engine_setting_names_its_choices():
    assert online_settings("rloo").method.rollout_engine == "auto"
    with pytest.raises(SettingsError, match="rollout_engine must be one of auto, vllm"):
        online_settings("grpo", rollout_engine="vlm")
