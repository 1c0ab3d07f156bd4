"""GRPO (Shao et al. 2024, DeepSeekMath, arXiv 2402.03300) and RLOO (Ahmadian et al.
2024, arXiv 2402.14740): several samples per prompt, each judged against the others of
its group, so no value model is needed. The losses and advantages are
``engine.losses.grpo`` / ``engine.losses.rloo``; this module feeds them rollouts."""

from __future__ import annotations

import statistics
from abc import abstractmethod
from dataclasses import dataclass

import torch

from engine.losses.grpo import grpo_advantages, grpo_loss
from engine.losses.masked import mask_truncated_completions
from engine.losses.policy_stats import token_mean
from engine.losses.rloo import rloo_advantages, rloo_loss, rloo_sequence_kl
from engine.training import distributed as dist
from engine.training.batching import SequenceBatch, select_rows
from engine.training.objectives import Objective
from engine.training.online.algorithms.base import Algorithm
from engine.training.online.forward import TokenOutputs, token_outputs
from engine.training.online.rollout import sampled_logps
from engine.training.online.shared_prompt import (
    GroupedRows,
    grouped_rows,
    grouped_token_outputs,
    select_groups,
    shared_prompt_supported,
)


@dataclass
class GroupBatch:
    sequences: SequenceBatch  # (N, T) prompt + completion rows
    mask: torch.Tensor  # (N, T-1) completion tokens that count in the loss
    rewards: torch.Tensor  # (N,) total reward of each completion
    old_logps: torch.Tensor | None  # (N, T-1) at sampling, when updates go off-policy
    ref_logps: torch.Tensor | None  # (N, T-1) under the reference, when beta != 0
    advantages: torch.Tensor | None = None  # (N,) set by finalize
    kl: torch.Tensor | None = None  # RLOO's mean per-token KL (0-dim), for the charts
    grouped: GroupedRows | None = None  # the same rows for the shared-prompt pass, if it applies

    def final_advantages(self) -> torch.Tensor:
        assert self.advantages is not None, "the algorithm's finalize sets them before any use"
        return self.advantages


class _GroupAlgorithm(Algorithm):
    def prepare(self, rollouts, rewards) -> GroupBatch:
        batch, mask = self.batch(rollouts)
        if self.s.method.mask_truncated_completions:
            truncated = torch.tensor(rollouts.truncated, device=mask.device)
            mask = mask_truncated_completions(mask, truncated)
        beta = self.s.resolved_beta()
        grouped = self._grouped(rollouts)
        old = None
        if self._needs_old(beta):
            # The policy that sampled, at the same temperature and in eval mode: the lean
            # decode loop's log-probs are exactly that, so a second forward pass is saved.
            old = sampled_logps(rollouts, batch.input_ids.shape[1], mask.device)
            if old is None:
                old = self.score(batch, grouped=grouped).logps
        ref = self.score(batch, reference=True, grouped=grouped).logps if beta != 0 else None
        values = torch.tensor(rewards.total, dtype=torch.float32, device=mask.device)
        return GroupBatch(batch, mask, values, old, ref, grouped=grouped)

    def _grouped(self, rollouts) -> GroupedRows | None:
        """The shared-prompt layout when the model and run allow it (``shared_prompt``)."""
        run = self.run
        if not shared_prompt_supported(run.ddp_model, run.device, run.accelerator.num_processes):
            return None
        return grouped_rows(
            rollouts.prompt_ids,
            rollouts.completion_ids,
            rollouts.group_size,
            run.pad_id,
            run.device,
        )

    def _needs_old(self, beta: float) -> bool:
        return self.s.method.num_iterations > 1

    def objective(self, batch: GroupBatch) -> Objective:
        kept = self.rows_to_run(batch)
        out = self._token_outputs(batch, kept)
        loss, stats = self.loss(out, batch)
        stats = {"loss": loss.detach(), **stats}
        if kept is not None and out.entropy is not None:  # the rows that ran, not the zeros
            stats["entropy"] = token_mean(out.entropy[kept], batch.mask[kept])
        if batch.kl is not None:
            stats["kl"] = batch.kl
        return Objective(loss, stats)

    def rows_to_run(self, batch: GroupBatch) -> torch.Tensor | None:
        """The rows whose forward pass can change the loss, (K,), or None for all of them."""
        return None

    def _token_outputs(self, batch: GroupBatch, kept: torch.Tensor | None) -> TokenOutputs:
        """The policy's log-probs and entropies, (N, T-1); with ``kept``, only those rows
        are run and the others are constant zeros (no gradient)."""
        model, temperature = self.run.ddp_model, self.s.method.temperature
        if batch.grouped is not None:
            rows = batch.grouped if kept is None else select_groups(batch.grouped, kept)
            out = grouped_token_outputs(model, rows, entropy=True, temperature=temperature)
        else:
            sequences = batch.sequences if kept is None else select_rows(batch.sequences, kept)
            out = token_outputs(model, sequences, entropy=True, temperature=temperature)
        if kept is None:
            return out
        n = batch.mask.shape[0]
        return TokenOutputs(
            _scatter_rows(out.logps, kept, n),
            _scatter_rows(out.entropy, kept, n) if out.entropy is not None else None,
            None,
        )

    @abstractmethod
    def loss(
        self, out: TokenOutputs, batch: GroupBatch
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The loss of the policy's outputs ``out`` on ``batch``, with its statistics."""

    def sample_advantages(self, batch: GroupBatch) -> list[float]:
        return batch.final_advantages().tolist()


class GRPO(_GroupAlgorithm):
    def finalize(self, batches: list[GroupBatch]) -> None:
        g, s = self.s.group_size(), self.s
        batch_std = None
        if s.method.scale_rewards == "batch":
            every = dist.gather_lists(
                self.run.accelerator, [v for b in batches for v in b.rewards.tolist()]
            )
            batch_std = statistics.stdev(every) if len(every) > 1 else 0.0
        for b in batches:
            b.advantages, _ = grpo_advantages(b.rewards, g, s.method.scale_rewards, batch_std)
        # DAPO normalises by the tokens of the whole step, over every process; DDP then
        # averages the processes' gradients, hence the division by the world size.
        tokens = dist.gather_lists(
            self.run.accelerator, [float(sum(b.mask.sum() for b in batches))]
        )
        self.num_items = max(sum(tokens) / self.run.accelerator.num_processes, 1.0)

    def micro_scale(self, micro_batches: int) -> float:
        return 1.0 if self.s.method.grpo_loss_type == "dapo" else 1.0 / micro_batches

    def rows_to_run(self, batch: GroupBatch) -> torch.Tensor | None:
        """Leave out the groups whose rewards are all equal, when that cannot change the
        loss or its gradient: on-policy (the importance ratio is exactly 1, so each of their
        tokens' loss is their advantage, 0, times 1) and without a KL term (beta 0). The
        loss's denominators are the whole batch's, as before; a group whose advantages are
        float noise around 0 (eight equal rewards of 0.1 do not average to exactly 0.1)
        gives no update of any size either. All groups equal: everything runs, so that every
        LoRA weight still gets its (zero) gradient and the optimizer steps as before."""
        if batch.old_logps is not None or batch.ref_logps is not None:
            return None
        g = self.s.group_size()
        grouped = batch.rewards.view(-1, g)  # (P, G)
        varied = grouped.amax(dim=1) != grouped.amin(dim=1)  # (P,) NaN compares unequal: kept
        if bool(varied.all()) or not bool(varied.any()):
            return None
        return torch.nonzero(varied.repeat_interleave(g)).squeeze(-1)  # (K,) rows

    def loss(
        self, out: TokenOutputs, batch: GroupBatch
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        s = self.s
        return grpo_loss(
            out.logps,
            batch.final_advantages(),
            batch.mask,
            batch.old_logps,
            batch.ref_logps,
            loss_type=s.method.grpo_loss_type,
            epsilon=s.method.epsilon,
            epsilon_high=s.resolved_epsilon_high(),
            beta=s.resolved_beta(),
            importance_sampling_level=s.method.importance_sampling_level,
            max_completion_length=s.method.max_completion_length,
            num_items_in_batch=self.num_items,
            entropies=out.entropy,
        )


class RLOO(_GroupAlgorithm):
    def _needs_old(self, beta: float) -> bool:
        return self.s.method.num_iterations > 1 or beta != 0

    def finalize(self, batches: list[GroupBatch]) -> None:
        s, beta = self.s, self.s.resolved_beta()
        for b in batches:
            seq_kl = None
            if b.ref_logps is not None:
                # A reference means beta != 0, and then _needs_old kept the sampling log-probs.
                assert b.old_logps is not None, "RLOO scores the old policy whenever beta != 0"
                seq_kl, b.kl = rloo_sequence_kl(b.old_logps, b.ref_logps, b.mask)
            b.advantages, _ = rloo_advantages(
                b.rewards, s.group_size(), sequence_kl=seq_kl, beta=beta
            )
        if s.method.normalize_advantages:  # over the whole step, every process
            every = dist.gather_lists(
                self.run.accelerator, [v for b in batches for v in b.final_advantages().tolist()]
            )
            mean, std = statistics.fmean(every), statistics.stdev(every) if len(every) > 1 else 0.0
            for b in batches:
                b.advantages = (b.final_advantages() - mean) / (std + 1e-4)

    def loss(
        self, out: TokenOutputs, batch: GroupBatch
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        s = self.s
        old = batch.old_logps if s.method.num_iterations > 1 else None
        return rloo_loss(
            out.logps,
            batch.final_advantages(),
            batch.mask,
            old,
            epsilon=s.method.epsilon,
            entropies=out.entropy,
        )


def _scatter_rows(values: torch.Tensor, rows: torch.Tensor, n: int) -> torch.Tensor:
    """(K, W) values of ``rows`` placed in an (N, W) frame of zeros, on the graph."""
    frame = values.new_zeros((n, values.shape[1]))
    return frame.index_copy(0, rows, values)
