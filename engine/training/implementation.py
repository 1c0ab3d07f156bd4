"""The class that implements an algorithm, imported when a run needs it: the registry
names it as "module:Class" so that it stays free of torch."""

from __future__ import annotations

import importlib
from functools import cache
from typing import Any

from engine.algorithms.registry import spec


@cache
def implementation(algorithm: str) -> type[Any]:
    module, _, name = spec(algorithm).implementation.partition(":")
    return getattr(importlib.import_module(module), name)
