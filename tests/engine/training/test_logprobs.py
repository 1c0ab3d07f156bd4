"""logprobs.sequence_logps against a hand computation with log_softmax on a tiny model."""

from __future__ import annotations

import pytest
import torch

from engine.training.batching import pad_sequences
from engine.training.logprobs import SequenceLogps, sequence_logps, token_logps


def _by_hand(model, prompt: list[int], completion: list[int]) -> float:
    """Unpadded forward of one sequence; sum log p(token | prefix) over the completion."""
    ids = torch.tensor([prompt + completion])
    with torch.no_grad():
        logits = model(input_ids=ids).logits[0]  # (T, V)
    logp = torch.log_softmax(logits.double(), dim=-1)
    return sum(
        float(logp[t - 1, ids[0, t]]) for t in range(len(prompt), len(prompt) + len(completion))
    )


def test_sequence_logps_equal_a_hand_computation(loaded_tiny):
    model = loaded_tiny.model
    prompts = [[1, 10, 11, 12], [1, 13], [1, 14, 15]]
    completions = [[20, 21, 2], [22, 23, 24, 25, 26, 2], [27, 2]]
    batch = pad_sequences(prompts, completions, pad_id=0)
    assert int(batch.attention_mask[2].sum()) < batch.input_ids.shape[1]  # padding present
    with torch.no_grad():
        out = sequence_logps(model, batch)
    assert out.sums.shape == out.counts.shape == (3,)
    assert out.counts.tolist() == [3.0, 6.0, 2.0]  # completion tokens only, padding not counted
    for i, (p, c) in enumerate(zip(prompts, completions, strict=True)):
        assert float(out.sums[i]) == pytest.approx(_by_hand(model, p, c), abs=1e-4)
    assert out.means.tolist() == pytest.approx((out.sums / out.counts).tolist())
    assert bool((out.sums < 0).all())


def test_padding_value_does_not_count(loaded_tiny):
    model = loaded_tiny.model
    prompts, completions = [[1, 10], [1, 11, 12, 13, 14]], [[20, 2], [21, 2]]
    with torch.no_grad():
        zero = sequence_logps(model, pad_sequences(prompts, completions, pad_id=0))
        other = sequence_logps(model, pad_sequences(prompts, completions, pad_id=30))
        alone = sequence_logps(model, pad_sequences(prompts[:1], completions[:1], pad_id=0))
    assert torch.allclose(zero.sums, other.sums, atol=1e-5)
    assert float(zero.sums[0]) == pytest.approx(float(alone.sums[0]), abs=1e-5)


def test_token_logps_and_means():
    logits = torch.tensor([[[0.0, 1.0, 2.0], [3.0, 0.0, 0.0]]])  # (1, 2, 3)
    labels = torch.tensor([[2, 0]])
    expected = torch.log_softmax(logits, -1).gather(-1, labels.unsqueeze(-1)).squeeze(-1)
    assert torch.allclose(token_logps(logits, labels), expected)
    empty = SequenceLogps(sums=torch.tensor([0.0, -4.0]), counts=torch.tensor([0.0, 2.0]))
    assert empty.means.tolist() == [0.0, -2.0]  # a row without completion tokens is not NaN
