"""SimPO's objective: the reference-free margin alone, and with CPO-SimPO's NLL term
(``rpo_alpha``, TRL's ``cpo_alpha``) added as the chosen completions' token-mean NLL."""

from __future__ import annotations

import torch

from engine.training.config import TrainSettings
from engine.training.offline.simpo import SimPO
from engine.training.split import Split
from tests.engine.training.helpers import demo_pairs


def objective(loaded, **settings):
    algorithm = SimPO(TrainSettings.from_dict({"algorithm": "simpo", **settings}))
    kept, _ = algorithm.encode(loaded.tokenizer, demo_pairs("train", 4))
    split = Split(kept)
    with torch.no_grad():
        return algorithm.objective(
            loaded.model,
            split,
            [0, 1, 2, 3],
            pad_id=loaded.tokenizer.pad_token_id,
            device="cpu",
            gather_mean=lambda x: x,
        )


def test_rpo_alpha_adds_the_chosen_token_mean_nll(demo_loaded):
    plain = objective(demo_loaded, beta=2.5)
    with_nll = objective(demo_loaded, beta=2.5, rpo_alpha=0.5)
    assert "nll_loss" not in plain.stats and "nll_loss" in with_nll.stats
    # The chosen log-probs are known from the logged statistics: logps/chosen is the mean
    # per-token log-prob of each chosen completion; the NLL is their token-weighted mean,
    # which lies within the range of the per-sequence means.
    added = float(with_nll.loss - plain.loss)
    per_sequence = with_nll.stats["nll_loss"]
    assert 0.5 * float(per_sequence.min()) - 1e-6 <= added <= 0.5 * float(per_sequence.max()) + 1e-6
    assert added > 0
