"""Fixtures of the training tests. The ``_one_torch_thread`` fixture and the tiny models of
tests/engine/conftest.py apply here too; most tests train the embedded demo model (3.4 MB)."""

from __future__ import annotations

import pytest


@pytest.fixture
def demo_loaded():
    """A fresh LoadedModel of the demo model on the CPU in float32 (about 20 ms)."""
    from tests.engine.training.helpers import load_demo

    return load_demo("float32")
