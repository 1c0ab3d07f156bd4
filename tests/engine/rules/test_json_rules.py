"""json_valid and json_schema, including remote $ref refusal without network."""

from __future__ import annotations

import socket
import urllib.request

import pytest

from engine.rules import RuleParamError
from tests.engine.rules.conftest import build, score

JSON_VALID_TABLE = [
    # completion, extract, passed, reason fragment
    ('{"a": 1}', "whole", True, "valid JSON object"),
    ("  [1, 2]\n", "whole", True, "valid JSON array"),
    ('"text"', "whole", True, "valid JSON string"),
    ("null", "whole", True, "valid JSON null"),
    ('{"a": 1,}', "whole", False, "invalid JSON at line 1 column 9"),
    ("{'a': 1}", "whole", False, "invalid JSON"),
    ('{"a": NaN}', "whole", False, "NaN is not valid JSON"),
    ('Here: {"a": 1}', "whole", False, "invalid JSON"),
    ('Here:\n```json\n{"a": 1}\n```\nDone.', "fenced", True, "valid JSON object"),
    ("```\n[1]\n```", "fenced", True, "valid JSON array"),
    ('```json\n{"a": }\n```', "fenced", False, "invalid JSON"),
    ('{"a": 1}', "fenced", False, "no ```json block found"),
    ('Sure! {"a": {"b": [1, 2]}} hope it helps {}', "first_object", True, "valid JSON object"),
    ('Use {braces} like {"a": 1}', "first_object", True, "valid JSON object"),
    ("no object here [1, 2]", "first_object", False, "no {…} object found"),
]


@pytest.mark.parametrize("completion, extract, passed, reason", JSON_VALID_TABLE)
def test_json_valid(completion, extract, passed, reason):
    result = score("json_valid", completion, extract=extract)
    assert (result.passed, result.score) == (passed, 1.0 if passed else 0.0)
    assert reason in result.reason


PERSON = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "age": {"type": "integer", "minimum": 0},
        "tags": {"type": "array", "items": {"$ref": "#/$defs/tag"}},
    },
    "required": ["name", "age"],
    "additionalProperties": False,
    "$defs": {"tag": {"type": "string", "maxLength": 5}},
}

SCHEMA_TABLE = [
    # completion, params, passed, reason fragment
    ('{"name": "Ada", "age": 36}', {}, True, "matches the schema"),
    ('{"name": "Ada", "age": 36, "tags": ["x"]}', {}, True, "matches"),
    ('{"name": "Ada", "age": 36, "tags": ["toolong"]}', {}, False, "at $.tags[0]"),
    ('{"name": "Ada", "age": "36"}', {}, False, "'36' is not of type 'integer' at $.age"),
    ('{"name": "Ada", "age": -1}', {}, False, "minimum"),
    ('{"name": "Ada"}', {}, False, "'age' is a required property"),
    ('{"name": "Ada", "age": 1, "x": 0}', {}, False, "Additional properties"),
    ('{"name": "Ada", "age": 1', {}, False, "invalid JSON"),
    ('Sure: {"name": "Ada", "age": 1}', {"extract": "first_object"}, True, "matches"),
    ('{"name": "Ada", "age": 1.5}', {"draft": "4"}, False, "not of type 'integer'"),
]


@pytest.mark.parametrize("completion, params, passed, reason", SCHEMA_TABLE)
def test_json_schema(completion, params, passed, reason):
    result = score("json_schema", completion, schema=PERSON, **params)
    assert (result.passed, result.score) == (passed, 1.0 if passed else 0.0)
    assert reason in result.reason


def test_schema_given_as_text_and_formats():
    assert score("json_schema", "[1]", schema='{"type": "array"}').passed
    email = {"type": "string", "format": "email"}
    assert score("json_schema", '"nope"', schema=email).passed  # format is an annotation
    assert not score("json_schema", '"nope"', schema=email, check_formats=True).passed


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a connection fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(urllib.request, "urlopen", refuse)


@pytest.mark.parametrize(
    "schema",
    [
        {"$ref": "https://example.com/person.json"},
        {"type": "object", "properties": {"a": {"$ref": "http://127.0.0.1:9/x.json#/defs/a"}}},
        {"$id": "https://example.com/root.json", "$ref": "other.json"},
    ],
)
def test_remote_ref_refused_at_validation(no_network, schema):
    with pytest.raises(RuleParamError) as caught:
        build("json_schema", schema=schema)
    assert caught.value.param == "schema"
    assert "never fetched" in caught.value.why


def test_dangling_local_ref_refused():
    with pytest.raises(RuleParamError, match="points to nothing"):
        build("json_schema", schema={"$ref": "#/$defs/missing"})


def test_local_and_embedded_refs_resolve(no_network):
    embedded = {"$defs": {"item": {"$id": "item.json", "type": "integer"}}, "$ref": "item.json"}
    rule = build("json_schema", schema=embedded)
    assert rule.score("3").passed and not rule.score('"x"').passed
    meta = build("json_schema", schema={"$ref": "https://json-schema.org/draft/2020-12/schema"})
    assert meta.score('{"type": "string"}').passed
    assert not meta.score('{"type": 12}').passed


def test_remote_ref_found_only_while_scoring_scores_zero(no_network):
    rule = build("json_schema", schema={"type": "object"})
    # A schema that slipped past the check (e.g. edited after building): still no fetch.
    from jsonschema import Draft202012Validator
    from referencing import Registry

    from engine.rules.json_schema import _refuse

    rule._validator = Draft202012Validator(
        {"$ref": "https://example.com/s.json"}, registry=Registry(retrieve=_refuse)
    )
    result = rule.score("{}")
    assert (result.score, result.passed) == (0.0, False)
    assert "no network fetch" in result.reason
