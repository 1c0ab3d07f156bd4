"""The SFT objective of a batch of prompt + completion rows, which the offline SFT (on
demonstrations) and the online best-of-N (on the samples it keeps) share: the pure
``engine.losses.sft.sft_loss`` on the completion tokens, scored at temperature 1, with
the metric names of TRL's ``SFTTrainer``."""

from __future__ import annotations

from typing import Any

import torch

from engine.losses.sft import sft_loss
from engine.training.batching import SequenceBatch
from engine.training.logprobs import token_predictions
from engine.training.objectives import Objective


def sft_objective(model: Any, batch: SequenceBatch) -> Objective:
    """A row whose completion mask is all zero (a best-of-N sample not kept) adds nothing
    to the loss and has NaN statistics, which the logged means leave out."""
    pred = token_predictions(model, batch)
    out = sft_loss(pred.logps, pred.mask, pred.correct)
    tokens = pred.mask.sum(dim=1)  # (N,) completion tokens per row
    counted = tokens > 0  # (N,)
    nan = torch.full_like(tokens, float("nan"))
    # TRL's mean_token_accuracy is over the tokens of the batch, not a mean of row means.
    hits = (out.token_accuracy.nan_to_num() * tokens).sum()
    accuracy = hits / tokens.sum().clamp_min(1)
    loss = out.loss.detach()
    stats = {
        # Nothing to learn from: a loss of 0, as the loss itself is (not a missing value).
        "loss": torch.where(counted, loss, nan) if bool(counted.any()) else torch.zeros_like(nan),
        "mean_token_accuracy": torch.where(counted, accuracy, nan),
    }
    # TRL's num_tokens counts every real token of the rows trained on, the prompt's too.
    trained = (batch.attention_mask.sum(dim=1).to(tokens.dtype) * counted).sum()
    return Objective(out.loss, stats, {"num_tokens": trained.detach()})
