"""One decode step's choice of tokens, drawn exactly as transformers' ``generate()`` draws
them, so that the lean loop and ``generate()`` give the same tokens under the same seed.

``generate()`` warps the float32 logits (temperature, then top-k, then top-p, with the
library's own warpers, which this reuses), takes the softmax and calls
``torch.multinomial(probs, 1)`` on every row of the batch, finished rows included. For one
sample, torch draws it as ``argmax(probs / q)`` with ``q ~ Exp(1)`` of the batch's shape
(the exponential race, aten ``multinomial``). So the sampler draws ``q`` for the full batch
every step, as ``generate()`` consumes the generator, and races only the rows still
running: the random stream, and each row's token, stay those of ``generate()`` while the
finished rows cost no forward pass.

The race costs one exponential draw per vocabulary entry and row, which on the CPU, with a
large vocabulary, takes as long as the model's forward pass (Qwen2's 151,936 tokens).
There (``exact_draw``), a token is drawn instead by inverting the cumulative distribution
with one uniform number per row: the same distribution, not ``generate()``'s tokens
(tests/engine/test_lean_decoding.py compares the frequencies).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

# On the CPU, vocabularies above this many tokens are sampled by the inverse-CDF draw.
RACE_MAX_VOCAB_ON_CPU = 4096


def exact_draw(device: Any, vocab_size: int) -> bool:
    """Whether tokens are drawn exactly as ``generate()`` draws them (the exponential race)
    rather than from the same distribution by one uniform number per row."""
    return torch.device(device).type != "cpu" or vocab_size <= RACE_MAX_VOCAB_ON_CPU


@dataclass(frozen=True)
class Sampling:
    """How tokens are chosen: greedy (argmax) or sampled at ``temperature`` with the
    top-k (0: off) and top-p (1: off) filters."""

    greedy: bool = False
    temperature: float = 1.0
    top_k: int = 0
    top_p: float = 1.0
    exact: bool | None = None  # the race (True) or the inverse CDF; None: ``exact_draw``

    @property
    def plain(self) -> bool:
        """Sampled from the tempered softmax with no filter: a sampled token's log-prob is
        then the policy's own (at this temperature), which the trainer may reuse."""
        return not self.greedy and self.top_k == 0 and self.top_p >= 1.0


class TokenSampler:
    def __init__(self, sampling: Sampling) -> None:
        from transformers import (
            LogitsProcessorList,
            TemperatureLogitsWarper,
            TopKLogitsWarper,
            TopPLogitsWarper,
        )

        self.sampling = sampling
        warpers: list = []
        if not sampling.greedy:
            # The order and conditions of GenerationMixin._get_logits_processor.
            if sampling.temperature != 1.0:
                warpers.append(TemperatureLogitsWarper(sampling.temperature))
            if sampling.top_k:
                warpers.append(TopKLogitsWarper(top_k=sampling.top_k, min_tokens_to_keep=1))
            if sampling.top_p < 1.0:
                warpers.append(TopPLogitsWarper(top_p=sampling.top_p, min_tokens_to_keep=1))
        self._warp = LogitsProcessorList(warpers)

    def choose(
        self, logits: torch.Tensor, running: torch.Tensor, batch_size: int, *, logprobs: bool
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(tokens (A,), log-probs (A,) or None) for the ``A`` running rows.

        ``logits``: (A, V) next-token logits of the running rows; ``running``: (A,) their
        indices in the full batch of ``batch_size`` rows. The log-prob (when ``logprobs``)
        is the token's under the distribution it was drawn from (the warped one; for greedy,
        the plain softmax), read off the probabilities the draw already computed.
        """
        scores = logits.float()  # (A, V), as generate() upcasts them
        if self.sampling.greedy:
            tokens = scores.argmax(-1)
            if not logprobs:
                return tokens, None
            return tokens, torch.log_softmax(scores, -1).gather(-1, tokens[:, None]).squeeze(-1)
        scores = self._warp(None, scores)  # type: ignore[arg-type]  # these warpers never read the ids
        probs = torch.softmax(scores, -1)  # (A, V)
        exact = self.sampling.exact
        if exact is None:
            exact = exact_draw(probs.device, probs.shape[-1])
        tokens = _race(probs, running, batch_size) if exact else _inverse_cdf(probs)
        if not logprobs:
            return tokens, None
        # A drawn token's probability is never 0, so its log is finite.
        return tokens, probs.gather(-1, tokens[:, None]).squeeze(-1).log()


def _race(probs: torch.Tensor, running: torch.Tensor, batch_size: int) -> torch.Tensor:
    """(A,) tokens of ``torch.multinomial(probs, 1)`` as generate() calls it on the whole
    batch (see the module docstring)."""
    race = torch.empty(
        (batch_size, probs.shape[-1]), dtype=probs.dtype, device=probs.device
    ).exponential_(1)  # (N, V): the whole batch's draw, as multinomial takes it
    if len(running) < batch_size:
        race = race.index_select(0, running)  # (A, V)
    return (probs / race).argmax(-1)


def _inverse_cdf(probs: torch.Tensor) -> torch.Tensor:
    """(A,) tokens drawn from ``probs`` (A, V) with one uniform number per row: the first
    token whose cumulative probability reaches it. The point lies in (0, total], so a token
    of probability 0 is never drawn."""
    cdf = probs.cumsum(-1)  # (A, V)
    point = (1.0 - torch.rand((probs.shape[0], 1), device=probs.device)) * cdf[:, -1:]
    return torch.searchsorted(cdf, point).squeeze(-1).clamp_(max=probs.shape[-1] - 1)
