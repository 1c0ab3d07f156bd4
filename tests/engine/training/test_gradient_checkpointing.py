"""Gradient checkpointing with LoRA, for every algorithm: the same adapter as without it
(the blocks' LoRA weights get their gradients: PEFT/TRL #2486), and the base model given
back without checkpointing or input-grad hooks."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import load_file

from engine.algorithms import registry
from engine.training import train
from engine.training.online.rewards import RewardSource, SourceScores
from tests.engine.training.helpers import Recorder, demo_data, fast_settings
from tests.engine.training.online.helpers import demo_prompts, online_settings

ADAPTER = "adapter_model.safetensors"
# Rewards that tell any two different completions apart (mostly), so that one step has
# non-zero advantages and moves the weights.
SCATTERED = RewardSource(
    "scattered", 1.0, lambda p, c, r: SourceScores([float(sum(map(ord, t)) % 7) for t in c])
)


def _run(loaded, algorithm: str, root, checkpointing: bool) -> dict[str, torch.Tensor]:
    recorder = Recorder(root)
    if algorithm in registry.online_names():
        settings = online_settings(
            algorithm,
            max_steps=1,
            num_generations=4,
            max_completion_length=8,
            temperature=3.0,  # the demo model is sure of its answers: make the group differ
            gradient_checkpointing=checkpointing,
        )
        result = train(loaded, demo_prompts(4, 2), settings, recorder.hooks, rewards=[SCATTERED])
    else:
        settings = fast_settings(
            algorithm=algorithm, max_steps=1, batch_size=2, gradient_checkpointing=checkpointing
        )
        result = train(loaded, demo_data(n_train=4, n_eval=2), settings, recorder.hooks)
    assert result.status == "done"
    return load_file(str(result.checkpoint / ADAPTER))


@pytest.mark.parametrize("algorithm", registry.names())
def test_checkpointing_gives_the_adapter_of_a_run_without_it(
    algorithm, demo_loaded, tmp_path, monkeypatch
):
    # Without checkpointing GRPO/RLOO would score a group's prompt once (shared_prompt), a
    # layout checkpointing turns off, with its own LoRA dropout draw: both runs use full rows
    # here (test_shared_prompt.py checks that layout against full rows).
    monkeypatch.setattr(
        "engine.training.online.algorithms.grpo.shared_prompt_supported", lambda *a: False
    )
    plain = _run(demo_loaded, algorithm, tmp_path / "plain", False)
    checkpointed = _run(demo_loaded, algorithm, tmp_path / "ckpt", True)
    assert plain.keys() == checkpointed.keys()
    lora_b = [k for k in plain if "lora_B" in k]
    # LoRA's B starts at zero: one update moved it, in every block, with checkpointing too.
    assert lora_b and all(checkpointed[k].abs().sum() > 0 for k in lora_b)
    for key in plain:
        torch.testing.assert_close(checkpointed[key], plain[key], atol=1e-5, rtol=1e-4)
    model = demo_loaded.model
    assert not model.is_gradient_checkpointing
    assert getattr(model, "_require_grads_hook", None) is None
