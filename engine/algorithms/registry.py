"""Lookups over the algorithm specs: the one list of algorithms every other list (the
Train form, validation, the README table, the demo defaults, the dispatch to the classes
that implement them) is derived from."""

from __future__ import annotations

from engine.algorithms.catalog import SPECS
from engine.algorithms.settings import Setting
from engine.algorithms.spec import AlgorithmSpec
from engine.errors import SettingsError

_BY_NAME = {s.name: s for s in SPECS}


def spec(name: str) -> AlgorithmSpec:
    """The spec of algorithm ``name``; SettingsError naming the known ones if none."""
    try:
        return _BY_NAME[name]
    except (KeyError, TypeError):  # TypeError: a list or table given as the name
        raise SettingsError(
            f"algorithm must be one of {', '.join(names())}, not {name!r}."
        ) from None


def specs() -> tuple[AlgorithmSpec, ...]:
    return SPECS


def names() -> tuple[str, ...]:
    return tuple(s.name for s in SPECS)


def offline_names() -> tuple[str, ...]:
    """Methods that learn from labels (pairs or single examples)."""
    return tuple(s.name for s in SPECS if not s.online)


def online_names() -> tuple[str, ...]:
    """Methods that sample completions from the policy and learn from their rewards."""
    return tuple(s.name for s in SPECS if s.online)


def is_online(name: str) -> bool:
    return name in _BY_NAME and _BY_NAME[name].online


def algorithm_settings() -> tuple[Setting, ...]:
    """Every setting of any algorithm once, in the order the specs first list them."""
    seen: dict[str, Setting] = {}
    for s in SPECS:
        for setting in s.settings:
            seen.setdefault(setting.name, setting)
    return tuple(seen.values())


def owners(setting_name: str) -> tuple[str, ...]:
    """The algorithms that read ``setting_name`` (empty when none does)."""
    return tuple(s.name for s in SPECS if setting_name in s.setting_names())
