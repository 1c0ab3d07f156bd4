"""One training setting as data: its default, the help the README table and the form's
tooltips show, the settings group it is shown in, and the values it accepts, which
``check`` enforces with a message naming the setting and its allowed range."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from engine.errors import SettingsError

# "switch": one of ``choices`` ("auto", "on", "off"), or true/false as an older bool
# setting stored it.
Kind = Literal["float", "int", "bool", "str", "optional_float", "switch"]
# The settings groups, in the order the Train form shows their boxes.
GROUPS = ("method", "rollout", "optimization", "data", "evaluation", "hardware")


@dataclass(frozen=True)
class Setting:
    """``low``/``high`` bound a number (``int`` settings use ``low`` as their minimum);
    ``low_open``/``high_open`` exclude the bound itself. ``label`` names the setting in
    the Train form when its name, capitalised, would not read well."""

    name: str
    default: Any
    help: str
    group: str
    kind: Kind
    choices: tuple[str, ...] | None = None
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    label: str | None = None

    def __post_init__(self) -> None:
        if self.group not in GROUPS:
            raise ValueError(f"{self.name}: unknown settings group {self.group!r}")

    def check(self, value: Any) -> None:
        """Raise SettingsError naming the setting when ``value`` is not one it accepts."""
        if self.kind == "switch" and isinstance(value, bool):
            return
        if self.choices is not None:
            check_choice(self.name, value, self.choices)
        elif self.kind == "bool":
            if not isinstance(value, bool):  # "false" from --set is truthy
                raise SettingsError(f"{self.name} must be true or false, not {value!r}.")
        elif self.kind == "int":
            check_whole(self.name, value, minimum=int(self.low or 0))
        elif self.kind == "float" or (self.kind == "optional_float" and value is not None):
            check_number(self.name, value, self.low, self.high, self.low_open, self.high_open)


def check_choice(name: str, value: Any, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise SettingsError(f"{name} must be one of {', '.join(allowed)}, not {value!r}.")


def check_whole(name: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise SettingsError(f"{name} must be a whole number of at least {minimum}, not {value!r}.")


def check_number(
    name: str,
    value: Any,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if not ok:
        lo = "" if low is None else f"{'above' if low_open else 'at least'} {low}"
        hi = "" if high is None else f"{'below' if high_open else 'at most'} {high}"
        rng = " and ".join(p for p in (lo, hi) if p)
        raise SettingsError(f"{name} must be a number {rng}, not {value!r}.")
