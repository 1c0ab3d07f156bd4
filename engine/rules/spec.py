"""A rule as data: what the project stores and the GUI edits.

A ``RuleSpec`` names a rule kind (a key of ``engine.rules.registry.REGISTRY``) and its
parameters; ``make_rule`` turns it into a scoring object. Only plain JSON-able values
live here, so a spec round-trips through the project database unchanged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any


@dataclass
class RuleSpec:
    """One configured rule.

    ``name``: unique within a rule set; the key of its score in rewards and charts.
    ``kind``: which rule (``exact``, ``numeric``, ``regex``, ...).
    ``params``: the kind's parameters (missing ones take their defaults).
    ``weight``: the rule's factor in the total reward; negative weights make penalties.
    ``enabled``: disabled rules are kept in the project but neither built nor scored.
    ``gate``: when a gate rule fails, the non-gate rules contribute nothing (see
    ``engine.rules.combine``), e.g. a format rule that must pass before correctness counts.
    """

    name: str
    kind: str
    params: dict[str, Any] = field(default_factory=dict)
    weight: float = 1.0
    enabled: bool = True
    gate: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "params": dict(self.params),
            "weight": self.weight,
            "enabled": self.enabled,
            "gate": self.gate,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RuleSpec:
        """The spec stored by ``to_dict``. Unknown keys are ignored (a newer version may
        have written them); wrong types raise ``ValueError`` naming the field."""
        if not isinstance(data, dict):
            raise ValueError(f"a rule must be a JSON object, not {type(data).__name__}")
        for key in ("name", "kind"):
            if not isinstance(data.get(key), str) or not data[key].strip():
                raise ValueError(f"rule field '{key}' must be a non-empty string")
        params = data.get("params", {})
        if params is None:
            params = {}
        if not isinstance(params, dict):
            raise ValueError("rule field 'params' must be a JSON object")
        weight = data.get("weight", 1.0)
        # bool is an int subclass; True as a weight is a mistake, not 1.0.
        if (
            isinstance(weight, bool)
            or not isinstance(weight, int | float)
            or not math.isfinite(weight)
        ):
            raise ValueError("rule field 'weight' must be a finite number")
        for key in ("enabled", "gate"):
            if not isinstance(data.get(key, False), bool):
                raise ValueError(f"rule field '{key}' must be true or false")
        return cls(
            name=data["name"],
            kind=data["kind"],
            params=dict(params),
            weight=float(weight),
            enabled=data.get("enabled", True),
            gate=data.get("gate", False),
        )
