"""All rule kinds by name, and building a rule from its spec.

Importing this module imports every kind's module, which is cheap: none imports
torch, sympy, jsonschema or the sandbox at module level.
"""

from __future__ import annotations

from collections.abc import Callable

from engine.rules.base import Rule, RuleContext, RuleParamError
from engine.rules.contains import ContainsRule
from engine.rules.exact import ExactRule
from engine.rules.format_tags import FormatTagsRule
from engine.rules.json_schema import JSONSchemaRule
from engine.rules.json_valid import JSONValidRule
from engine.rules.length import LengthRule
from engine.rules.math_equiv import MathRule
from engine.rules.numeric import NumericRule
from engine.rules.python_function import PythonFunctionRule
from engine.rules.python_tests import PythonTestsRule
from engine.rules.regex_match import RegexRule
from engine.rules.spec import RuleSpec

# In the order the GUI lists them: answers first, then format, then code.
REGISTRY: dict[str, type[Rule]] = {
    cls.kind: cls
    for cls in (
        ExactRule,
        NumericRule,
        MathRule,
        ContainsRule,
        RegexRule,
        JSONValidRule,
        JSONSchemaRule,
        FormatTagsRule,
        LengthRule,
        PythonTestsRule,
        PythonFunctionRule,
    )
}


def rule_class(kind: str) -> type[Rule]:
    try:
        return REGISTRY[kind]
    except KeyError:
        raise RuleParamError(
            "kind", f"unknown rule kind {kind!r} (known: {', '.join(REGISTRY)})"
        ) from None


def make_rule(spec: RuleSpec, count_tokens: Callable[[str], int] | None = None) -> Rule:
    """The rule ``spec`` describes; ``RuleParamError`` (with the rule's name) if its
    parameters are invalid. ``count_tokens`` serves token-length rules."""
    cls = rule_class(spec.kind)
    try:
        return cls(spec.params, context=RuleContext(count_tokens=count_tokens))
    except RuleParamError as error:
        raise error.with_rule(spec.name) from None


def validate_spec(spec: RuleSpec) -> RuleSpec:
    """A copy of ``spec`` with its parameters checked and defaults filled in (what the
    GUI saves), or ``RuleParamError`` naming the rule and the parameter."""
    try:
        params = rule_class(spec.kind).validate_params(spec.params)
    except RuleParamError as error:
        raise error.with_rule(spec.name) from None
    return RuleSpec(spec.name, spec.kind, params, spec.weight, spec.enabled, spec.gate)
