"""KTO (Ethayarajh et al. 2024, arXiv 2402.01306): learns from single desirable or
undesirable completions, against a reference point z0 estimated from mismatched
(prompt, completion) pairs. The loss is ``engine.losses.preference.kto_loss``."""

from __future__ import annotations

from typing import Any

import torch

from engine.losses.preference import kto_loss
from engine.training.batching import SequenceBatch, kl_batch, unpaired_batch
from engine.training.encode import TooLong, encode_unpaired
from engine.training.examples import UnpairedExample
from engine.training.logprobs import sequence_logps
from engine.training.objectives import Objective, UnpairedReference
from engine.training.offline.base import GatherMean, OfflineAlgorithm, Sequence
from engine.training.split import Split

# Ethayarajh et al. 2024, section 4.2 (and TRL's KTOTrainer check): the weighted share of
# desirable examples, w_d n_d / (w_u n_u), should lie in [1, 4/3].
BALANCE_RANGE = (1.0, 4 / 3)


def balance_advice(
    n_desirable: int, n_undesirable: int, desirable_weight: float, undesirable_weight: float
) -> str | None:
    """A warning with the desirable_weight that brings the weighted ratio into
    ``BALANCE_RANGE``, or None when it is there (or one kind is missing).

    Unpairing labels makes the undesirable examples the majority: a right answer that beats
    four wrong ones is one desirable example and four undesirable ones. Unweighted, the loss
    then mostly pushes answers down, the right ones with them."""
    if n_desirable == 0 or n_undesirable == 0:
        return None
    ratio = desirable_weight * n_desirable / (undesirable_weight * n_undesirable)
    low, high = BALANCE_RANGE
    if low <= ratio <= high:
        return None
    base = undesirable_weight * n_undesirable / n_desirable
    return (
        f"warning: KTO has {n_desirable} desirable and {n_undesirable} undesirable examples; "
        f"weighted, desirable_weight x desirable / (undesirable_weight x undesirable) = "
        f"{ratio:.2f}, outside [1, 1.33] (Ethayarajh et al. 2024). "
        f"Try desirable_weight between {base * low:.2f} and {base * high:.2f}."
    )


class KTO(OfflineAlgorithm):
    what = "desirable/undesirable examples"

    def data_notes(self, split: Split) -> list[str]:
        desirable = sum(1 for ex in split.examples if ex.desirable)
        advice = balance_advice(
            desirable,
            len(split.examples) - desirable,
            self.s.method.desirable_weight,
            self.s.method.undesirable_weight,
        )
        return [advice] if advice else []

    def encode(self, tokenizer: Any, examples: list[UnpairedExample]) -> tuple[list, list[TooLong]]:
        return encode_unpaired(tokenizer, examples, self.s.max_length)

    def reference_sequences(self, split: Split) -> list[Sequence]:
        """(completion, mismatched): each example's completion, and the next example's
        completion after this prompt (for z0)."""
        seqs = []
        for i, ex in enumerate(split.examples):
            partner = split.examples[split.partner(i)]
            seqs += [(ex.prompt_ids, ex.completion_ids), (ex.prompt_ids, partner.completion_ids)]
        return seqs

    def objective(
        self,
        model: Any,
        split: Split,
        indices: list[int],
        *,
        pad_id: int,
        device: Any,
        gather_mean: GatherMean,
    ) -> Objective:
        rows = split.rows(indices)
        partners = [split.examples[split.partner(i)] for i in indices]
        ref = split.reference_values(indices, device)  # (B, 2)
        return self.batch_objective(
            model,
            unpaired_batch(rows, pad_id).to(device),
            kl_batch(rows, partners, pad_id).to(device),
            torch.tensor([r.desirable for r in rows], device=device),
            UnpairedReference(ref[:, 0], ref[:, 1]),
            gather_mean,
        )

    def batch_objective(
        self,
        model: Any,
        batch: SequenceBatch,
        mismatched: SequenceBatch,
        desirable: torch.Tensor,  # (B,) bool
        ref: UnpairedReference,
        gather_mean: GatherMean,
    ) -> Objective:
        """z0 is a global estimate: ``gather_mean`` averages it over all processes."""
        policy = sequence_logps(model, batch)
        with torch.no_grad():
            kl_policy = sequence_logps(model, mismatched)
        z0 = gather_mean((kl_policy.sums - ref.kl_logps).mean().detach()).clamp(min=0)
        out = kto_loss(
            policy.sums,
            ref.logps,
            desirable,
            z0,
            beta=self.s.resolved_beta(),
            desirable_weight=self.s.method.desirable_weight,
            undesirable_weight=self.s.method.undesirable_weight,
        )
        nan = torch.full_like(out.rewards, float("nan"))
        stats = {
            "loss": out.losses.detach(),
            "kl": z0.expand_as(out.rewards),
            "rewards/chosen": torch.where(desirable, out.rewards, nan),
            "rewards/rejected": torch.where(~desirable, out.rewards, nan),
            "logps/chosen": torch.where(desirable, policy.sums.detach(), nan),
            "logps/rejected": torch.where(~desirable, policy.sums.detach(), nan),
        }
        return Objective(out.losses.mean(), stats)
