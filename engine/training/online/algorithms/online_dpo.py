"""Online DPO (Guo et al. 2024, "Direct Language Model Alignment from Online AI
Feedback", arXiv 2402.04792): two samples per prompt from the current policy, ranked by
the reward (rules, a reward model, a judge's score) or by a pairwise judge, then the
DPO loss of the offline methods against the frozen reference. A pair the reward cannot
tell apart (a tie) teaches nothing and is left out of the loss."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from engine.losses.preference import dpo_loss
from engine.training.batching import SequenceBatch, pad_sequences
from engine.training.logprobs import sequence_logps
from engine.training.objectives import Objective
from engine.training.online.algorithms.base import Algorithm
from engine.training.reference import reference_mode


@dataclass
class PairBatch:
    sequences: SequenceBatch  # chosen rows then rejected rows: (2P, T)
    valid: torch.Tensor  # (P,) 1 where the two samples were told apart
    ref_chosen: torch.Tensor  # (P,) summed reference log-probs
    ref_rejected: torch.Tensor  # (P,)
    winner: list[int]  # (P,) which sample of the prompt won: 0, 1, or -1 for a tie


class OnlineDPO(Algorithm):
    def prepare(self, rollouts, rewards) -> PairBatch:
        winners = self._winners(rollouts, rewards)
        prompts, chosen, rejected = [], [], []
        for i, w in enumerate(winners):
            a, b = 2 * i, 2 * i + 1
            first, second = (a, b) if w != 1 else (b, a)
            prompts.append(rollouts.prompt_ids[a])
            chosen.append(rollouts.completion_ids[first])
            rejected.append(rollouts.completion_ids[second])
        batch = pad_sequences(prompts * 2, chosen + rejected, self.run.pad_id).to(self.run.device)
        ref = self._reference(batch)
        n = len(winners)
        valid = torch.tensor([float(w >= 0) for w in winners], device=self.run.device)
        return PairBatch(batch, valid, ref[:n], ref[n:], winners)

    def _winners(self, rollouts, rewards) -> list[int]:
        n = len(rollouts.texts) // 2
        if self.run.preference is not None:
            probs = self.run.preference(
                [rollouts.prompts[2 * i] for i in range(n)],
                [rollouts.texts[2 * i] for i in range(n)],
                [rollouts.texts[2 * i + 1] for i in range(n)],
            )
            return [-1 if p is None or p == 0.5 else (0 if p > 0.5 else 1) for p in probs]
        totals = rewards.total
        return [
            -1
            if totals[2 * i] == totals[2 * i + 1]
            else (0 if totals[2 * i] > totals[2 * i + 1] else 1)
            for i in range(n)
        ]

    @torch.no_grad()
    def _reference(self, batch) -> torch.Tensor:
        model = self.run.policy()
        was_training = model.training
        model.eval()
        try:
            with self.run.autocast(), reference_mode(model):
                return sequence_logps(model, batch).sums.float()
        finally:
            model.train(was_training)

    def objective(self, batch: PairBatch) -> Objective:
        logps = sequence_logps(self.run.ddp_model, batch.sequences)
        n = batch.valid.numel()
        losses, chosen_rewards, rejected_rewards = dpo_loss(
            logps.sums[:n],
            logps.sums[n:],
            batch.ref_chosen,
            batch.ref_rejected,
            beta=self.s.resolved_beta(),
            loss_type="sigmoid",
            label_smoothing=0.0,
        )
        # Ties stay in the forward pass (every process must run the same graph) with weight 0.
        loss = (losses * batch.valid).sum() / batch.valid.sum().clamp_min(1)
        nan = torch.full_like(losses, float("nan"))
        keep = batch.valid.bool()

        def only_valid(x: torch.Tensor) -> torch.Tensor:
            return torch.where(keep, x.detach().float(), nan)

        stats = {
            "loss": only_valid(losses),
            "rewards/chosen": only_valid(chosen_rewards),
            "rewards/rejected": only_valid(rejected_rewards),
            "rewards/margins": only_valid(chosen_rewards - rejected_rewards),
            "rewards/accuracies": only_valid((chosen_rewards > rejected_rewards).float()),
            "logps/chosen": only_valid(logps.sums[:n]),
            "logps/rejected": only_valid(logps.sums[n:]),
            "online_dpo/tie_fraction": 1.0 - batch.valid.detach(),
        }
        if not keep.any():
            stats["loss"] = torch.zeros_like(losses)
        return Objective(loss, stats)

    def sample_advantages(self, batch: PairBatch) -> list[float]:
        out = []
        for w in batch.winner:  # +1 chosen, -1 rejected, 0 for both samples of a tie
            out += [0.0, 0.0] if w < 0 else ([1.0, -1.0] if w == 0 else [-1.0, 1.0])
        return out
