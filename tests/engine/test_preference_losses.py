"""Parity of engine.losses.preference with TRL's own loss code (TRL 1.x).

TRL computes these losses inside trainer methods. We call those methods *unbound* with a
minimal stand-in ``self`` (``types.SimpleNamespace`` carrying exactly the attributes the method
reads) and, for the methods that run a model forward, a fake model whose per-token log-probs sum
to the per-sequence log-probs we pass to our functions. No trainer and no real model is built.
"""

from __future__ import annotations

import os
import types
from collections import defaultdict

import pytest
import torch

from engine.losses.preference import (
    bradley_terry_loss,
    dpo_loss,
    kto_loss,
    orpo_loss,
    preference_metrics,
    simpo_loss,
)

os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")  # CPO/ORPO live in trl.experimental
pytest.importorskip("trl")

from trl.experimental.cpo.cpo_trainer import CPOTrainer
from trl.experimental.orpo.orpo_trainer import ORPOTrainer
from trl.trainer.dpo_trainer import DPOTrainer
from trl.trainer.kto_trainer import KTOTrainer
from trl.trainer.reward_trainer import RewardTrainer

B = 8
T = 12  # tokens per sequence (prompt + completion)
ATOL = 1e-6


def _close(name: str, ours, theirs, atol: float = ATOL) -> None:
    ours = torch.as_tensor(ours, dtype=torch.float32)
    theirs = torch.as_tensor(theirs, dtype=torch.float32)
    diff = (ours - theirs).abs().max().item()
    assert diff <= atol, f"{name}: max abs diff {diff}"


class _Accelerator:
    device = torch.device("cpu")

    @staticmethod
    def gather(x):
        return x

    @staticmethod
    def gather_for_metrics(x):
        return x


def _fake_token_batch(n: int, gen: torch.Generator):
    """Per-token log-probs (n, T-1) that are zero outside the completion, and the masks."""
    prompt_len = torch.randint(2, 5, (n,), generator=gen)
    completion_len = torch.randint(3, T - 4, (n,), generator=gen)
    pos = torch.arange(T)
    completion_mask = (
        (pos >= prompt_len[:, None]) & (pos < (prompt_len + completion_len)[:, None])
    ).long()
    attention_mask = (pos < (prompt_len + completion_len)[:, None]).long()
    shift_mask = completion_mask[:, 1:]
    per_token = -torch.rand(n, T - 1, generator=gen) * 2.0 * shift_mask  # (n, T-1)
    outputs = types.SimpleNamespace(
        log_probs=per_token,
        entropy=torch.rand(n, T - 1, generator=gen),
        mean_logits=torch.randn(n, T - 1, generator=gen),
        is_top1=torch.rand(n, T - 1, generator=gen) > 0.5,
    )
    inputs = {
        "input_ids": torch.randint(0, 50, (n, T), generator=gen),
        "attention_mask": attention_mask,
        "completion_mask": completion_mask,
    }
    return outputs, inputs


def _fake_model(outputs):
    def model(**kwargs):
        return outputs

    model.training = True
    return model


def _trl_dpo(loss_type: str, beta: float, label_smoothing: float, seed: int = 0, n: int = B):
    """Drive DPOTrainer._compute_loss on fake per-token log-probs; return TRL's loss/metrics
    and the per-sequence inputs (sums, lengths) that correspond."""
    gen = torch.Generator().manual_seed(seed)
    outputs, inputs = _fake_token_batch(2 * n, gen)  # batch is [chosen; rejected]
    ref = -torch.rand(2 * n, generator=gen) * 10
    inputs["ref_chosen_logps"], inputs["ref_rejected_logps"] = ref.chunk(2)
    model = _fake_model(outputs)
    self = types.SimpleNamespace(
        model=model,
        accelerator=_Accelerator(),
        aux_loss_enabled=False,
        ld_alpha=None,
        precompute_ref_logps=True,
        f_divergence_type="reverse_kl",
        loss_types=[loss_type],
        loss_weights=[1.0],
        beta=beta,
        label_smoothing=label_smoothing,
        use_weighting=False,
        args=types.SimpleNamespace(),
        _metrics={"train": defaultdict(list), "eval": defaultdict(list)},
        _total_train_tokens=0,
        _tp_size=1,
    )
    loss = DPOTrainer._compute_loss(self, model, inputs, return_outputs=False)
    logps = outputs.log_probs.sum(dim=1)  # exactly what TRL sums
    lengths = inputs["completion_mask"].sum(dim=1).clamp(min=1)
    metrics = {k: v[-1] for k, v in self._metrics["train"].items()}
    return loss, metrics, logps, ref, lengths


@pytest.mark.parametrize(
    ("loss_type", "label_smoothing"),
    [("sigmoid", 0.0), ("robust", 0.1), ("robust", 0.0), ("hinge", 0.0), ("ipo", 0.0)],
)
@pytest.mark.parametrize("beta", [0.1, 0.5])
def test_dpo_matches_trl_dpo_trainer(loss_type, label_smoothing, beta):
    loss, metrics, logps, ref, lengths = _trl_dpo(loss_type, beta, label_smoothing)
    pc, pr = logps.chunk(2)
    rc, rr = ref.chunk(2)
    if loss_type == "ipo":
        # IPO in TRL is length-normalised: pass each log-prob divided by its completion length.
        lc, lr = lengths.float().chunk(2)
        losses, _, _ = dpo_loss(pc / lc, pr / lr, rc / lc, rr / lr, beta=beta, loss_type="ipo")
        _, cr, rj = dpo_loss(pc, pr, rc, rr, beta=beta, loss_type="sigmoid")  # rewards use sums
    else:
        losses, cr, rj = dpo_loss(
            pc, pr, rc, rr, beta=beta, loss_type=loss_type, label_smoothing=label_smoothing
        )
    assert losses.shape == cr.shape == rj.shape == (B,)
    _close(f"dpo/{loss_type}", losses.mean(), loss)
    ours = preference_metrics(cr, rj, pc, pr)
    for key in (
        "rewards/chosen",
        "rewards/rejected",
        "rewards/margins",
        "rewards/accuracies",
        "logps/chosen",
        "logps/rejected",
    ):
        _close(f"dpo/{loss_type}/{key}", ours[key], metrics[key])


@pytest.mark.parametrize("loss_type", ["sigmoid", "robust", "hinge"])
def test_dpo_per_example_losses_match_trl(loss_type):
    """TRL's DPOTrainer only returns the batch mean, so drive it with one pair per batch to
    check each per-example loss."""
    for seed in range(4):
        loss, _, logps, ref, _ = _trl_dpo(
            loss_type, 0.1, 0.1 if loss_type == "robust" else 0.0, seed=seed, n=1
        )
        pc, pr = logps.chunk(2)
        rc, rr = ref.chunk(2)
        ls = 0.1 if loss_type == "robust" else 0.0
        losses, _, _ = dpo_loss(pc, pr, rc, rr, beta=0.1, loss_type=loss_type, label_smoothing=ls)
        _close(f"dpo/{loss_type}/per-example", losses[0], loss)


def _cpo_self(loss_type: str, beta: float, label_smoothing: float, simpo_gamma: float = 0.5):
    return types.SimpleNamespace(
        alpha=0.0,
        loss_type=loss_type,
        beta=beta,
        label_smoothing=label_smoothing,
        simpo_gamma=simpo_gamma,
        accelerator=_Accelerator(),
    )


@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
def test_conservative_dpo_matches_trl_cpo_sigmoid(label_smoothing):
    """TRL 1.16's DPOTrainer ignores label_smoothing for "sigmoid"; its CPOTrainer applies the
    cDPO form to (chosen - rejected) logits, so feeding it the log-ratios gives TRL's cDPO."""
    gen = torch.Generator().manual_seed(1)
    pc, pr, rc, rr = (-torch.rand(B, generator=gen) * 20 for _ in range(4))
    losses, cr, rj = dpo_loss(pc, pr, rc, rr, beta=0.1, label_smoothing=label_smoothing)
    self = _cpo_self("sigmoid", 0.1, label_smoothing)
    t_losses, t_cr, t_rj = CPOTrainer.cpo_loss(self, pc - rc, pr - rr)
    _close("cdpo", losses, t_losses)
    _close("cdpo/rewards", torch.cat([cr, rj]), torch.cat([t_cr, t_rj]))


@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
@pytest.mark.parametrize(("beta", "ratio"), [(2.0, 0.5), (2.5, 0.3)])
def test_simpo_matches_trl_cpo_simpo(beta, ratio, label_smoothing):
    gen = torch.Generator().manual_seed(2)
    c = -torch.rand(B, generator=gen) * 3
    r = -torch.rand(B, generator=gen) * 3
    losses, cr, rj = simpo_loss(
        c, r, beta=beta, gamma_beta_ratio=ratio, label_smoothing=label_smoothing
    )
    # TRL's simpo_gamma is the margin gamma itself = gamma_beta_ratio * beta.
    self = _cpo_self("simpo", beta, label_smoothing, simpo_gamma=ratio * beta)
    t_losses, t_cr, t_rj = CPOTrainer.cpo_loss(self, c, r)
    _close("simpo", losses, t_losses)
    _close("simpo/rewards", torch.cat([cr, rj]), torch.cat([t_cr, t_rj]))


@pytest.mark.parametrize("beta", [0.1, 0.25])
def test_orpo_matches_trl_odds_ratio_loss(beta):
    gen = torch.Generator().manual_seed(3)
    # include values on both sides of log1mexp's -ln 2 branch point
    c = -torch.rand(B, generator=gen) * 2.0 - 1e-3
    r = -torch.rand(B, generator=gen) * 2.0 - 1e-3
    nll = torch.rand(B, generator=gen)
    out = orpo_loss(c, r, nll, beta=beta)
    self = types.SimpleNamespace(beta=beta, accelerator=_Accelerator())
    t_losses, t_cr, t_rj, t_ratio, t_log_odds = ORPOTrainer.odds_ratio_loss(self, c, r)
    _close("orpo/or", out.or_losses, -t_losses)
    # TRL total, as in ORPOTrainer.get_batch_loss_metrics: nll - mean(beta * log sigma(log odds))
    _close("orpo/total", out.losses.mean(), nll.mean() - t_losses.mean())
    _close(
        "orpo/rewards",
        torch.cat([out.chosen_rewards, out.rejected_rewards]),
        torch.cat([t_cr, t_rj]),
    )
    _close("orpo/log_odds_ratio", out.log_odds_ratio, t_ratio)
    _close("orpo/log_odds_chosen", out.log_odds_chosen, t_log_odds)


@pytest.mark.parametrize(("dw", "uw"), [(1.0, 1.0), (1.0, 1.33)])
@pytest.mark.parametrize("beta", [0.1, 0.5])
def test_kto_matches_trl_kto_trainer(beta, dw, uw):
    gen = torch.Generator().manual_seed(4)
    outputs, inputs = _fake_token_batch(B, gen)
    label = torch.tensor([True, False, True, True, False, False, True, False])
    ref = -torch.rand(B, generator=gen) * 10
    kl_logps = torch.randn(B, generator=gen) + 0.5  # mean > 0 so the clamp does not bite
    inputs.update(label=label, ref_logps=ref, ref_KL_logps=torch.zeros(B))
    model = _fake_model(outputs)
    self = types.SimpleNamespace(
        model=model,
        accelerator=_Accelerator(),
        calculate_KL=True,
        precompute_ref_logps=True,
        aux_loss_enabled=False,
        loss_type="kto",
        beta=beta,
        desirable_weight=dw,
        undesirable_weight=uw,
        _compute_kl_logps=lambda model, batch: kl_logps,
        _metrics={"train": defaultdict(list), "eval": defaultdict(list)},
        _total_train_tokens=0,
        _tp_size=1,
    )
    loss = KTOTrainer._compute_loss(self, model, inputs, return_outputs=False)
    metrics = {k: v[-1] for k, v in self._metrics["train"].items()}
    logps = outputs.log_probs.sum(-1)
    kl = kl_logps.mean().clamp(min=0)  # TRL's estimate of z0
    out = kto_loss(logps, ref, label, kl, beta=beta, desirable_weight=dw, undesirable_weight=uw)
    assert out.losses.shape == out.rewards.shape == (B,)
    _close("kto", out.losses.mean(), loss)
    for key in (
        "kl",
        "rewards/chosen",
        "rewards/rejected",
        "rewards/margins",
        "logps/chosen",
        "logps/rejected",
    ):
        _close(f"kto/{key}", out.metrics[key], metrics[key])


@pytest.mark.parametrize("use_margin", [False, True])
@pytest.mark.parametrize("center", [None, 0.01])
def test_bradley_terry_matches_trl_reward_trainer(use_margin, center):
    gen = torch.Generator().manual_seed(5)
    rewards = torch.randn(2 * B, 1, generator=gen) * 2  # (2B, 1): [chosen; rejected]
    margin = torch.rand(B, generator=gen) if use_margin else None
    model = _fake_model(types.SimpleNamespace(logits=rewards))
    inputs = {
        "input_ids": torch.zeros(2 * B, T, dtype=torch.long),
        "attention_mask": torch.ones(2 * B, T),
    }
    if use_margin:
        inputs["margin"] = margin
    self = types.SimpleNamespace(
        model=model,
        accelerator=_Accelerator(),
        args=types.SimpleNamespace(center_rewards_coefficient=center),
        _metrics={"train": defaultdict(list), "eval": defaultdict(list)},
        _total_train_tokens=0,
        _tp_size=1,
    )
    loss = RewardTrainer.compute_loss(self, model, inputs)
    metrics = {k: v[-1] for k, v in self._metrics["train"].items()}
    c, r = rewards.squeeze(-1).chunk(2)
    out = bradley_terry_loss(c, r, margin=margin, center_rewards_coefficient=center)
    assert out.losses.shape == (B,)
    _close("bt", out.losses.mean(), loss)
    for key in ("min_reward", "mean_reward", "max_reward", "accuracy", "margin"):
        _close(f"bt/{key}", out.metrics[key], metrics[key])


def test_dpo_rejects_unknown_loss_type():
    x = torch.zeros(B)
    with pytest.raises(ValueError):
        dpo_loss(x, x, x, x, loss_type="nope")


def test_losses_are_differentiable():
    gen = torch.Generator().manual_seed(6)
    pc = (-torch.rand(B, generator=gen)).requires_grad_()
    pr = (-torch.rand(B, generator=gen)).requires_grad_()
    for lt in ("sigmoid", "robust", "hinge", "ipo"):
        losses, _, _ = dpo_loss(
            pc, pr, pc.detach() - 0.1, pr.detach(), loss_type=lt, label_smoothing=0.1
        )
        (g,) = torch.autograd.grad(losses.mean(), pc)
        assert torch.isfinite(g).all()
