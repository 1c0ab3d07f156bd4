"""``json_valid``: the completion (or a part of it) is valid JSON.

Strict JSON: Python's ``json`` accepts ``NaN`` and ``Infinity``, which other parsers
reject, so they count as invalid here.
"""

from __future__ import annotations

import json
from typing import Any

from engine.rules.base import ParamInfo, Rule, RuleScore, fail, ok
from engine.rules.extract import fenced_block

EXTRACT_PARAM = ParamInfo(
    "extract",
    "choice",
    "whole",
    "Which text must be JSON: the 'whole' completion (surrounding whitespace allowed), the "
    "last ```json fenced block ('fenced'; an unlabelled fence also counts), or the first "
    "{…} object in the text ('first_object'), for models that add prose around it.",
    choices=("whole", "fenced", "first_object"),
)


class JSONExtractError(ValueError):
    """No JSON could be read; the message is the reason to show."""


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _decode(text: str) -> Any:
    try:
        return json.loads(text, parse_constant=_no_constants)
    except json.JSONDecodeError as error:
        raise JSONExtractError(
            f"invalid JSON at line {error.lineno} column {error.colno}: {error.msg}"
        ) from None
    except ValueError as error:
        raise JSONExtractError(str(error)) from None


def load_json(completion: str, how: str) -> Any:
    """The JSON value the completion holds per ``how``; raises ``JSONExtractError``."""
    if how == "whole":
        return _decode(completion)
    if how == "fenced":
        block = fenced_block(completion, ("json",))
        if block is None:
            raise JSONExtractError("no ```json block found")
        return _decode(block)
    decoder = json.JSONDecoder(parse_constant=_no_constants)
    start = completion.find("{")
    while start >= 0:
        try:
            return decoder.raw_decode(completion, start)[0]
        except ValueError:  # not an object here (prose braces): try the next '{'
            start = completion.find("{", start + 1)
    raise JSONExtractError("no {…} object found")


def json_type(value: Any) -> str:
    """The JSON name of a decoded value's type."""
    if isinstance(value, bool):
        return "boolean"
    names = {dict: "object", list: "array", str: "string", int: "number", float: "number"}
    return names.get(type(value), "null")


class JSONValidRule(Rule):
    kind = "json_valid"
    title = "Valid JSON"
    description = (
        "Passes when the completion is valid JSON, or contains a valid JSON block or "
        "object, depending on 'extract'. Use 'JSON schema' to also check its structure."
    )
    PARAMS = [EXTRACT_PARAM]

    def score(self, completion, reference=None, prompt=None) -> RuleScore:
        try:
            value = load_json(completion, self.params["extract"])
        except JSONExtractError as error:
            return fail(str(error))
        return ok(f"valid JSON {json_type(value)}")
