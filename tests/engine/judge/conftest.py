"""A hand-made judge model whose next-token logits the tests set, over the tiny
character tokenizer of tests/engine/conftest.py."""

from __future__ import annotations

import math
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.engine.conftest import build_tokenizer

# The template the fake model reads: it finds both responses by these markers.
FAKE_TEMPLATE = "q:{prompt}, a:{first}, b:{second}, ?"
FAKE_POINT_TEMPLATE = "q:{prompt}, r:{completion}, ?"
_PAIR = re.compile(r"a:(.*), b:(.*), \?")


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def quality(text: str) -> int:
    """The fake judge's taste: the more z's, the better."""
    return text.count("z")


def make_fake_model(tokenizer, bias: float, scale: float, max_positions: int = 512):
    """logit(first label) - logit(second label) = bias + scale * (quality(A) - quality(B))
    for pairs, bias + scale * quality(response) for single responses; the bias is a
    position bias towards label A (or "yes")."""
    import torch

    first_ids = [tokenizer.convert_tokens_to_ids(t) for t in ("a", "y")]

    class FakeJudgeModel(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.config = SimpleNamespace(max_position_embeddings=max_positions)
            self.calls = []

        def forward(
            self, input_ids, attention_mask, position_ids=None, use_cache=None, logits_to_keep=0
        ):
            self.calls.append(tuple(input_ids.shape))
            logits = torch.zeros(input_ids.shape[0], input_ids.shape[1], len(tokenizer))
            for row, (ids, mask) in enumerate(zip(input_ids, attention_mask, strict=True)):
                text = tokenizer.decode(ids[mask.bool()].tolist())
                pair = _PAIR.search(text)
                if pair:
                    margin = quality(pair[1]) - quality(pair[2])
                else:
                    margin = quality(text.split("r:", 1)[1])
                logits[row, -1, first_ids] = bias + scale * margin
            return SimpleNamespace(logits=logits)

    return FakeJudgeModel()


@pytest.fixture
def fake_loaded():
    """make(bias, scale, max_positions=512, source_dir=None) -> a LoadedModel of the fake judge."""
    from engine.loading import LoadedModel

    def make(bias=0.0, scale=1.0, max_positions=512, source_dir=None):
        tokenizer = build_tokenizer()
        model = make_fake_model(tokenizer, bias, scale, max_positions)
        return LoadedModel(
            model=model,
            tokenizer=tokenizer,
            device="cpu",
            dtype="float32",
            name="fake",
            source_dir=Path(source_dir or "."),
        )

    return make
