"""Stand-ins that let TRL's own GRPO/RLOO code run without a trainer, a model or a tokenizer.

The tests call TRL's trainer methods *unbound* (``GRPOTrainer._generate_and_score_completions``,
``GRPOTrainer._compute_loss``, the RLOO ones) with a ``types.SimpleNamespace`` as ``self``.
Generation, reward functions and the model forward are replaced by canned tensors: TRL's
``_get_per_token_logps_and_entropies`` returns whatever per-token log-probs the test set for
that model, so everything downstream of the forward pass -- padding, truncation masks,
advantages, KL, clipping, aggregation, metrics -- is TRL's own code.
"""

from __future__ import annotations

import types
from collections import defaultdict
from dataclasses import dataclass

import torch

EOS, PAD = 2, 0


class Accelerator:
    """One process on the CPU."""

    device = torch.device("cpu")
    num_processes = 1
    process_index = 0
    sync_gradients = True

    @staticmethod
    def gather(x):
        return x

    gather_for_metrics = gather

    @staticmethod
    def reduce(x, reduction="sum"):
        return x

    @staticmethod
    def unwrap_model(model):
        return model


class FakeModel:
    """A model identity for the forward table; TRL only reads these two attributes."""

    training = True
    is_gradient_checkpointing = False


@dataclass
class Rollout:
    """One generation batch: N = prompts * group_size completions, T the longest."""

    prompt_ids: list[list[int]]
    completion_ids: list[list[int]]
    rewards: torch.Tensor  # (N,)
    logps: torch.Tensor  # (N, T) current policy, filled at padding too
    old_logps: torch.Tensor  # (N, T)
    ref_logps: torch.Tensor  # (N, T)
    entropies: torch.Tensor  # (N, T)

    @property
    def lengths(self) -> torch.Tensor:
        return torch.tensor([len(ids) for ids in self.completion_ids])

    @property
    def is_truncated(self) -> torch.Tensor:
        return torch.tensor([ids[-1] not in (EOS, PAD) for ids in self.completion_ids])

    def completion_mask(self) -> torch.Tensor:
        positions = torch.arange(self.logps.shape[1])
        return (positions < self.lengths.unsqueeze(1)).long()  # (N, T)


def make_rollout(prompts: int, group_size: int, T: int, seed: int) -> Rollout:
    """Random completions, about a third truncated (length T without EOS); group 0 gets equal
    rewards (a zero-std group); log-probs of the old and reference policies are the current
    ones plus noise, large enough for ratios to fall outside the clip range."""
    gen = torch.Generator().manual_seed(seed)
    n = prompts * group_size
    completion_ids = []
    for i in range(n):
        truncated = i == 0 or bool(torch.rand(1, generator=gen) < 0.3)
        length = T if truncated else int(torch.randint(1, T + 1, (1,), generator=gen))
        ids = torch.randint(3, 50, (length,), generator=gen).tolist()
        if not truncated:
            ids[-1] = EOS
        completion_ids.append(ids)
    prompt_ids = [
        [1] + torch.randint(3, 50, (2 + i % 3,), generator=gen).tolist() for i in range(n)
    ]
    rewards = torch.rand(n, generator=gen)
    rewards[:group_size] = 1.0
    logps = -torch.rand(n, T, generator=gen) * 3
    return Rollout(
        prompt_ids=prompt_ids,
        completion_ids=completion_ids,
        rewards=rewards,
        logps=logps,
        old_logps=logps + 0.3 * torch.randn(n, T, generator=gen),
        ref_logps=logps + 0.5 * torch.randn(n, T, generator=gen),
        entropies=torch.rand(n, T, generator=gen) * 4,
    )


def trl_self(rollout: Rollout, group_size: int, args: dict, **attributes) -> types.SimpleNamespace:
    """A stand-in ``self`` for the GRPO and RLOO trainers' generation and loss methods.

    ``self.forward`` maps a model to the per-token ``(log-probs, entropies)`` its forward pass
    returns; the test sets the policy's entry to the old log-probs for generation and to a leaf
    tensor with gradient for the loss.
    """
    policy, ref = FakeModel(), FakeModel()
    forward = {policy: (rollout.old_logps, rollout.entropies), ref: (rollout.ref_logps, None)}

    def get_logps(
        model,
        input_ids,
        attention_mask,
        logits_to_keep,
        batch_size=None,
        compute_entropy=False,
        compute_aux_loss=False,
        **_,
    ):
        logps, entropies = forward[model]
        assert logps.shape == (input_ids.shape[0], logits_to_keep)
        return logps, entropies if compute_entropy else None, None

    n = len(rollout.completion_ids)
    defaults = dict(
        accelerator=Accelerator(),
        model=policy,
        ref_model=ref,
        forward=forward,
        _get_per_token_logps_and_entropies=get_logps,
        _generate=lambda prompts: _generated(rollout),
        _calculate_rewards=lambda *a: rollout.rewards.unsqueeze(1),  # one reward function
        _tokenizer=types.SimpleNamespace(pad_token_id=PAD),
        eos_token_ids=[EOS],
        pad_to_multiple_of=None,
        num_generations=group_size,
        num_generations_eval=group_size,
        reward_weights=torch.ones(1),
        reward_func_names=["rule"],
        reward_funcs=[None],
        environment_factories=None,
        environments=[],
        tools=None,
        use_vllm=False,
        vllm_importance_sampling_correction=False,
        log_multimodal=False,
        aux_loss_enabled=False,
        current_gradient_accumulation_steps=1,
        _metrics={"train": defaultdict(list), "eval": defaultdict(list)},
        _logs={
            "prompt": [],
            "completion": [],
            "advantages": [],
            "rewards": defaultdict(list),
            "extra": defaultdict(list),
        },
        _pending_extra_logs={},
        _pending_metrics={},
    )
    base_args = dict(
        gradient_accumulation_steps=1,
        steps_per_generation=1,
        gradient_checkpointing_kwargs=None,
        per_device_train_batch_size=n,
        per_device_eval_batch_size=n,
    )
    defaults["args"] = types.SimpleNamespace(**(base_args | args))
    return types.SimpleNamespace(**(defaults | attributes))


def _generated(rollout: Rollout):
    """What GRPO's ``_generate`` returns (RLOO's takes the first two and ``completions``)."""
    completions = ["c"] * len(rollout.completion_ids)
    return (rollout.prompt_ids, rollout.completion_ids, None, completions, None, None, None, None)


def prompts_for(rollout: Rollout) -> list[dict]:
    return [{"prompt": f"p{i}"} for i in range(len(rollout.completion_ids))]


def last_metrics(self) -> dict[str, float]:
    return {k: v[-1] for k, v in self._metrics["train"].items()}


def leaf(x: torch.Tensor) -> torch.Tensor:
    return x.clone().requires_grad_(True)


def assert_close(name: str, ours, theirs, atol: float = 1e-6) -> None:
    """Same shape and within ``atol`` elementwise, NaN matching NaN (empty clip statistics)."""
    ours = torch.as_tensor(ours, dtype=torch.float64)
    theirs = torch.as_tensor(theirs, dtype=torch.float64)
    assert ours.shape == theirs.shape, f"{name}: shape {ours.shape} != {theirs.shape}"
    assert torch.allclose(ours, theirs, rtol=0, atol=atol, equal_nan=True), (
        f"{name}: ours {ours} vs TRL {theirs}"
    )
