"""``json_schema``: the completion's JSON validates against a user's JSON Schema.

No network, ever: jsonschema's default registry fetches a remote ``$ref`` over HTTP,
so the validator here gets a ``referencing.Registry`` whose ``retrieve`` refuses every
URI. References into the schema itself (``#/$defs/...``, embedded ``$id``s) and to the
standard meta-schemas resolve; any other ``$ref`` makes the parameters invalid (checked
when the rule is built) or, if one is only found while validating, scores 0 with the
reason. jsonschema is imported lazily: the GUI imports this module at start-up.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urljoin

from engine.rules.base import ParamInfo, Rule, RuleParamError, RuleScore, fail, ok
from engine.rules.json_valid import EXTRACT_PARAM, JSONExtractError, load_json

DRAFTS = ("2020-12", "2019-09", "7", "6", "4")
# Values under these keys are data, not subschemas: a "$ref" inside them is just text.
_DATA_KEYS = ("enum", "const", "examples", "default")


def _refuse(uri: str):
    from referencing.exceptions import NoSuchResource

    # referencing's attrs stubs use a dataclass transform mypy does not apply, so it
    # sees no fields; ``ref`` is the documented argument.
    raise NoSuchResource(ref=uri)  # type: ignore[call-arg]


def _validator_class(schema: Any, draft: str):
    from jsonschema import validators

    default = {
        "2020-12": validators.Draft202012Validator,
        "2019-09": validators.Draft201909Validator,
        "7": validators.Draft7Validator,
        "6": validators.Draft6Validator,
        "4": validators.Draft4Validator,
    }[draft]
    return validators.validator_for(schema, default=default)  # a "$schema" in it wins


def _refs(node: Any, base: str):
    """(base URI, reference) for every $ref / $dynamicRef in the schema."""
    if isinstance(node, dict):
        if isinstance(node.get("$id"), str):
            base = urljoin(base, node["$id"])
        for key in ("$ref", "$dynamicRef"):
            if isinstance(node.get(key), str):
                yield base, node[key]
        for key, value in node.items():
            if key not in _DATA_KEYS:
                yield from _refs(value, base)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value, base)


def _check_refs(schema: Any, cls) -> None:
    """Raise RuleParamError for a $ref that would need fetching or points nowhere."""
    from jsonschema_specifications import REGISTRY as SPECIFICATIONS
    from referencing import Registry, Resource
    from referencing.exceptions import Unresolvable
    from referencing.jsonschema import specification_with

    spec = specification_with(cls.META_SCHEMA.get("$schema", ""))
    root = schema.get("$id", "") if isinstance(schema, dict) else ""
    # ``retrieve`` is the documented argument (see _refuse on referencing's stubs).
    registry = SPECIFICATIONS.combine(Registry(retrieve=_refuse))  # type: ignore[call-arg]
    registry = registry.with_resource(
        root, Resource.from_contents(schema, default_specification=spec)
    )
    registry = registry.crawl()
    for base, ref in _refs(schema, root):
        try:
            registry.resolver(base_uri=base).lookup(ref)
        except Unresolvable:
            target = urljoin(base, ref)
            if target.split("#", 1)[0] and not target.startswith("#"):
                why = (
                    f"$ref {ref!r} points outside the schema; remote references are "
                    'never fetched: copy the referenced schema under "$defs"'
                )
            else:
                why = f"$ref {ref!r} points to nothing in the schema"
            raise RuleParamError("schema", why) from None


class JSONSchemaRule(Rule):
    kind = "json_schema"
    title = "JSON schema"
    description = (
        "Passes when the completion's JSON validates against a JSON Schema you give "
        '(draft 2020-12 unless the schema\'s "$schema" says otherwise). References must '
        'stay inside the schema ("#/$defs/..."): nothing is fetched from the network.'
    )
    PARAMS = [
        ParamInfo(
            "schema", "json", {"type": "object"}, "The JSON Schema, as a JSON object (or its text)."
        ),
        EXTRACT_PARAM,
        ParamInfo(
            "draft",
            "choice",
            "2020-12",
            'The JSON Schema version used when the schema has no "$schema" key.',
            choices=DRAFTS,
        ),
        ParamInfo(
            "check_formats",
            "bool",
            False,
            'Also check "format" keywords (email, date-time, ...). Off by default, '
            "as the standard treats them as annotations.",
        ),
    ]

    @classmethod
    def check_params(cls, params):
        schema = params["schema"]
        if isinstance(schema, str):  # the GUI's text box
            try:
                schema = json.loads(schema)
            except json.JSONDecodeError as error:
                raise RuleParamError("schema", f"not valid JSON: {error}") from None
        if not isinstance(schema, dict | bool):
            raise RuleParamError("schema", "must be a JSON object (or true/false)")
        from jsonschema.exceptions import SchemaError

        validator_cls = _validator_class(schema, params["draft"])
        try:
            validator_cls.check_schema(schema)
        except SchemaError as error:
            where = error.json_path if hasattr(error, "json_path") else ""
            raise RuleParamError(
                "schema", f"not a valid schema: {error.message} (at {where})"
            ) from None
        _check_refs(schema, validator_cls)
        params["schema"] = schema
        return params

    def prepare(self) -> None:
        from jsonschema import FormatChecker
        from referencing import Registry

        cls = _validator_class(self.params["schema"], self.params["draft"])
        checker = FormatChecker() if self.params["check_formats"] else None
        registry = Registry(retrieve=_refuse)  # type: ignore[call-arg]  # see _refuse
        self._validator = cls(self.params["schema"], registry=registry, format_checker=checker)

    def score(self, completion, reference=None, prompt=None) -> RuleScore:
        from jsonschema.exceptions import best_match
        from referencing.exceptions import Unresolvable

        try:
            value = load_json(completion, self.params["extract"])
        except JSONExtractError as exc:
            return fail(str(exc))
        try:
            error = best_match(self._validator.iter_errors(value))
        except Unresolvable as exc:  # only reached if the schema changed after checking
            return fail(f"schema reference not resolved (no network fetch): {exc}")
        if error is None:
            return ok("matches the schema")
        message = error.message if len(error.message) <= 100 else error.message[:99] + "…"
        return fail(f"{message} at {error.json_path}")
