"""Per-sequence log-probabilities of the completion tokens under a causal LM."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from engine.training.batching import SequenceBatch


@dataclass
class SequenceLogps:
    sums: torch.Tensor  # (N,) summed log-prob of each row's completion tokens
    counts: torch.Tensor  # (N,) number of completion tokens per row (float)

    @property
    def means(self) -> torch.Tensor:  # (N,) length-averaged, as SimPO, ORPO and IPO use
        return self.sums / self.counts.clamp_min(1)


def token_logps(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """log softmax(logits)[label] per position, one row at a time.

    logits (N, T, V), labels (N, T) -> (N, T) float32. Row by row so the float32 copy
    of the logits is (T, V), not (N, T, V): the vocabulary of a real model is ~150k.
    """
    rows = []
    for row_logits, row_labels in zip(logits, labels, strict=True):
        row = row_logits.float()  # (T, V)
        picked = row.gather(-1, row_labels.unsqueeze(-1)).squeeze(-1)  # (T,)
        rows.append(picked - torch.logsumexp(row, dim=-1))
    return torch.stack(rows)


def sequence_logps(model, batch: SequenceBatch) -> SequenceLogps:
    """Forward ``batch`` through ``model`` and sum the completion tokens' log-probs.

    Token t is predicted by the logits at t-1, hence the shift by one.
    """
    logits = model(
        input_ids=batch.input_ids, attention_mask=batch.attention_mask
    ).logits  # (N, T, V)
    per_token = token_logps(logits[:, :-1], batch.input_ids[:, 1:])  # (N, T-1)
    mask = batch.completion_mask[:, 1:].to(per_token.dtype)  # (N, T-1)
    return SequenceLogps(sums=(per_token * mask).sum(-1), counts=mask.sum(-1))


@dataclass
class TokenPredictions:
    logps: torch.Tensor  # (N, T-1) float32 log-prob of each next token (temperature 1)
    correct: torch.Tensor  # (N, T-1) bool: the argmax is that token
    mask: torch.Tensor  # (N, T-1) float32, 1 on completion tokens


def token_predictions(model, batch: SequenceBatch) -> TokenPredictions:
    """Each completion token's log-prob and whether the model's likeliest token is it,
    in the shifted frame (column t predicts token t + 1)."""
    out = model(input_ids=batch.input_ids, attention_mask=batch.attention_mask)
    logits = out.logits[:, :-1]  # (N, T-1, V)
    labels = batch.input_ids[:, 1:]  # (N, T-1)
    per_token = token_logps(logits, labels)
    with torch.no_grad():
        correct = logits.argmax(dim=-1) == labels
    mask = batch.completion_mask[:, 1:].to(per_token.dtype)
    return TokenPredictions(per_token, correct, mask)


def sequence_rewards(model, batch: SequenceBatch) -> torch.Tensor:
    """A sequence-classification model's scalar score per row, (N,) float32."""
    return (
        model(input_ids=batch.input_ids, attention_mask=batch.attention_mask).logits[:, 0].float()
    )
