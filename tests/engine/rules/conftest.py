"""Helpers for rule tests: build a rule from a kind and params, score one completion."""

from __future__ import annotations

import pytest

from engine.rules import RuleSpec, make_rule


def build(kind: str, count_tokens=None, **params):
    return make_rule(RuleSpec("r", kind, params), count_tokens=count_tokens)


def score(kind: str, completion: str, reference: str | None = None, **params):
    return build(kind, **params).score(completion, reference)


@pytest.fixture
def sandbox_ready():
    """The sandbox module the sandboxed kinds use (tests may patch its functions)."""
    import engine.sandbox

    return engine.sandbox
