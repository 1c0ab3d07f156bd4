"""Verifiable rules (RLVR): rules as data, scored against completions.

A rule is a ``RuleSpec`` (kind, params, weight, enabled, gate, name); ``make_rule``
builds it, ``RuleSet`` combines several (weights and gates, see ``combine``), and
``make_reward_fn`` gives online RL its batch reward function. Importing this package
loads no torch, sympy, jsonschema or sandbox: the GUI builds its rule forms from
``REGISTRY[kind].PARAMS`` at start-up.
"""

from engine.rules.base import Item, ParamInfo, Rule, RuleContext, RuleParamError, RuleScore
from engine.rules.combine import Combined, RuleSet
from engine.rules.registry import REGISTRY, make_rule, rule_class, validate_spec
from engine.rules.reward import RewardBatch, RewardFn, make_reward_fn
from engine.rules.spec import RuleSpec

__all__ = [
    "REGISTRY",
    "Combined",
    "Item",
    "ParamInfo",
    "RewardBatch",
    "RewardFn",
    "Rule",
    "RuleContext",
    "RuleParamError",
    "RuleScore",
    "RuleSet",
    "RuleSpec",
    "make_reward_fn",
    "make_rule",
    "rule_class",
    "validate_spec",
]
