"""The rule interface: scores, parameter descriptions, validation and the base class.

Pure standard library: the GUI imports every rule module at start-up to build its
forms from ``PARAMS``, so nothing here (or in a kind's module, at import time) may
pull in torch, transformers or the sandbox.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

from engine.errors import SettingsError

PARAM_TYPES = ("str", "int", "float", "bool", "choice", "text", "json", "path")


class RuleParamError(SettingsError):
    """A rule parameter is missing, of the wrong type or out of range.

    ``param`` names the parameter, ``why`` says what is wrong, ``rule`` (when known) is
    the rule's name. Also a ``ValueError`` (through ``SettingsError``).
    """

    def __init__(self, param: str, why: str, rule: str | None = None) -> None:
        self.param = param
        self.why = why
        self.rule = rule
        where = f" of rule '{rule}'" if rule else ""
        super().__init__(f"Parameter '{param}'{where}: {why}")

    def with_rule(self, rule: str) -> RuleParamError:
        return RuleParamError(self.param, self.why, rule)

    def __reduce__(self):
        return (self.__class__, (self.param, self.why, self.rule))


@dataclass(frozen=True)
class RuleScore:
    """One rule's verdict on one completion.

    ``score`` is in [0, 1]: 1 or 0 for pass/fail kinds, a fraction for partial credit
    (``python_tests`` with ``partial_credit``) and soft penalties (``length`` in soft
    mode: 1 inside the bounds, falling linearly to 0 over the margin). ``passed`` is
    whether the rule's condition holds (a soft length score of 0.8 is not a pass);
    gates and pass rates use it. ``reason`` is a short phrase a user reads in a table.
    """

    score: float
    passed: bool
    reason: str


def ok(reason: str) -> RuleScore:
    return RuleScore(1.0, True, reason)


def fail(reason: str) -> RuleScore:
    return RuleScore(0.0, False, reason)


@dataclass(frozen=True)
class ParamInfo:
    """How the GUI shows one parameter, and how ``validate_params`` checks it.

    ``type``: "str" (one line), "text" (several lines, e.g. code), "int", "float",
    "bool", "choice" (one of ``choices``), "json" (a JSON value: list, object, ...),
    "path" (a file). ``default`` of None means optional (None is then allowed).
    ``help`` says what the parameter does and when to change it.
    ``minimum``/``maximum`` bound numbers (inclusive).
    """

    name: str
    type: str
    default: Any
    help: str
    choices: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None

    def __post_init__(self) -> None:
        if self.type not in PARAM_TYPES:
            raise ValueError(f"unknown parameter type {self.type!r}")
        if self.type == "choice" and not self.choices:
            raise ValueError(f"choice parameter {self.name!r} needs choices")


@dataclass(frozen=True)
class RuleContext:
    """What a rule may need from its surroundings, given at construction.

    ``count_tokens``: counts the tokens of a text with the policy's tokenizer (the
    caller wraps its tokenizer, so rules never import transformers).
    """

    count_tokens: Callable[[str], int] | None = None


class Item(NamedTuple):
    """One thing to score. A plain tuple ``(completion, reference, prompt)`` or a mapping
    with those keys is accepted wherever an ``Item`` is."""

    completion: str
    reference: str | None = None
    prompt: str | None = None


def as_item(value: Item | tuple | Mapping[str, Any]) -> Item:
    if isinstance(value, Item):
        return value
    if isinstance(value, Mapping):
        return Item(value["completion"], value.get("reference"), value.get("prompt"))
    return Item(*value)


def quote(text: str, limit: int = 40) -> str:
    """A short quoted rendering of ``text`` for reasons."""
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return f"'{text}'"


def _check_value(info: ParamInfo, value: Any) -> Any:
    """The value converted to its canonical type, or RuleParamError."""
    if value is None:
        if info.default is None:
            return None
        raise RuleParamError(info.name, "a value is required")
    kind = info.type
    if kind in ("str", "text", "path"):
        if not isinstance(value, str):
            raise RuleParamError(info.name, f"must be text, not {type(value).__name__}")
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise RuleParamError(info.name, "must be true or false")
        return value
    if kind == "choice":
        assert info.choices is not None  # ParamInfo.__post_init__ requires them
        if value not in info.choices:
            raise RuleParamError(
                info.name, f"must be one of {', '.join(info.choices)} (got {value!r})"
            )
        return value
    if kind == "json":
        try:
            json.dumps(value)
        except (TypeError, ValueError) as error:
            raise RuleParamError(info.name, f"must be a JSON value ({error})") from None
        return value
    # Numbers. bool is an int subclass: reject it explicitly.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RuleParamError(info.name, f"must be a number, not {type(value).__name__}")
    if not math.isfinite(value):
        raise RuleParamError(info.name, "must be a finite number")
    if kind == "int":
        if isinstance(value, float) and not value.is_integer():
            raise RuleParamError(info.name, f"must be a whole number (got {value})")
        value = int(value)
    else:
        value = float(value)
    if info.minimum is not None and value < info.minimum:
        raise RuleParamError(info.name, f"must be at least {info.minimum:g} (got {value:g})")
    if info.maximum is not None and value > info.maximum:
        raise RuleParamError(info.name, f"must be at most {info.maximum:g} (got {value:g})")
    return value


class Rule:
    """Base class of the rule kinds.

    Subclasses set ``kind``, ``title``, ``description`` (one paragraph for the GUI) and
    ``PARAMS``, may override ``check_params`` (checks across parameters, or of content
    such as a regex or a schema) and ``prepare`` (build compiled state), and implement
    ``score``. Kinds that run in the sandbox override ``score_batch`` to run a batch in
    parallel. Rules return a failing ``RuleScore`` with a reason rather than raise on a
    bad completion.
    """

    kind: ClassVar[str] = ""
    title: ClassVar[str] = ""
    description: ClassVar[str] = ""
    PARAMS: ClassVar[list[ParamInfo]] = []

    def __init__(
        self, params: Mapping[str, Any] | None = None, *, context: RuleContext | None = None
    ) -> None:
        self.params = self.validate_params(params or {})
        self.context = context or RuleContext()
        self.prepare()

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        return {info.name: copy.deepcopy(info.default) for info in cls.PARAMS}

    @classmethod
    def validate_params(cls, params: Mapping[str, Any]) -> dict[str, Any]:
        """``params`` with defaults filled in and values in canonical types; raises
        ``RuleParamError`` naming the parameter and why."""
        known = {info.name: info for info in cls.PARAMS}
        for name in params:
            if name not in known:
                raise RuleParamError(
                    name,
                    f"unknown parameter for a '{cls.kind}' rule "
                    f"(known: {', '.join(known) or 'none'})",
                )
        # Deep copies: a rule never shares a list or dict with its spec or the defaults.
        checked = {
            name: _check_value(info, copy.deepcopy(params.get(name, info.default)))
            for name, info in known.items()
        }
        return cls.check_params(checked)

    @classmethod
    def check_params(cls, params: dict[str, Any]) -> dict[str, Any]:
        """Kind-specific checks; may normalise values. Returns the params."""
        return params

    def prepare(self) -> None:
        """Build compiled state from ``self.params`` (a regex, a schema validator)."""

    def score(
        self, completion: str, reference: str | None = None, prompt: str | None = None
    ) -> RuleScore:
        raise NotImplementedError

    def score_batch(self, items: Iterable[Item | tuple | Mapping[str, Any]]) -> list[RuleScore]:
        return [self.score(*as_item(item)) for item in items]
