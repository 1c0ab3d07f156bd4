"""The online algorithms, by name (each spec names its class)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.training.config import TrainSettings
    from engine.training.online.algorithms.base import Algorithm
    from engine.training.protocols import AlgorithmRun


def algorithm_class(settings: TrainSettings) -> type[Algorithm]:
    """The class the algorithm's spec names (engine.algorithms.catalog)."""
    from engine.training.implementation import implementation

    cls: type[Algorithm] = implementation(settings.algorithm)
    return cls


def make(settings: TrainSettings, run: AlgorithmRun) -> Algorithm:
    """The algorithm's class, for this run."""
    return algorithm_class(settings)(settings, run)
