"""RuleSpec round trips, the registry, and parameter validation errors."""

from __future__ import annotations

import pickle
import subprocess
import sys

import pytest

from engine.rules import REGISTRY, ParamInfo, RuleParamError, RuleSpec, make_rule, validate_spec
from engine.rules.base import PARAM_TYPES

ALL_KINDS = {
    "exact",
    "numeric",
    "math",
    "contains",
    "regex",
    "json_valid",
    "json_schema",
    "format_tags",
    "length",
    "python_tests",
    "python_function",
}


def test_spec_round_trip():
    spec = RuleSpec(
        "fmt", "format_tags", {"tags": ["a", "b"]}, weight=0.5, enabled=False, gate=True
    )
    assert RuleSpec.from_dict(spec.to_dict()) == spec
    assert RuleSpec.from_dict({"name": "n", "kind": "exact"}) == RuleSpec("n", "exact")


@pytest.mark.parametrize(
    "data, field",
    [
        ({"kind": "exact"}, "name"),
        ({"name": "", "kind": "exact"}, "name"),
        ({"name": "n"}, "kind"),
        ({"name": "n", "kind": "exact", "params": [1]}, "params"),
        ({"name": "n", "kind": "exact", "weight": "2"}, "weight"),
        ({"name": "n", "kind": "exact", "weight": True}, "weight"),
        ({"name": "n", "kind": "exact", "weight": float("nan")}, "weight"),
        ({"name": "n", "kind": "exact", "gate": "yes"}, "gate"),
    ],
)
def test_spec_from_dict_rejects(data, field):
    with pytest.raises(ValueError, match=f"'{field}'"):
        RuleSpec.from_dict(data)


def test_registry_holds_every_kind_with_documented_params():
    assert set(REGISTRY) == ALL_KINDS
    for kind, cls in REGISTRY.items():
        assert cls.kind == kind
        assert cls.title and len(cls.description) > 40
        for info in cls.PARAMS:
            assert isinstance(info, ParamInfo)
            assert info.type in PARAM_TYPES
            assert len(info.help) > 15, (kind, info.name)


@pytest.mark.parametrize(
    "kind, params, param, why",
    [
        ("exact", {"extract": "first_line"}, "extract", "one of"),
        ("exact", {"case_sensitive": "no"}, "case_sensitive", "true or false"),
        ("exact", {"extract": "after_marker", "marker": ""}, "marker", "empty"),
        ("exact", {"colour": "red"}, "colour", "unknown parameter"),
        ("numeric", {"rel_tol": -0.1}, "rel_tol", "at least 0"),
        ("numeric", {"rel_tol": "small"}, "rel_tol", "number"),
        ("numeric", {"expected": "forty-two"}, "expected", "no number"),
        ("math", {"timeout_s": 0}, "timeout_s", "at least 0.1"),
        ("contains", {}, "substrings", "at least one"),
        ("contains", {"substrings": [1, 2]}, "substrings", "list of strings"),
        ("regex", {"pattern": "(unclosed"}, "pattern", "invalid regular expression"),
        ("regex", {}, "pattern", "empty"),
        ("json_valid", {"extract": "yaml"}, "extract", "one of"),
        ("json_schema", {"schema": {"type": "no-such-type"}}, "schema", "not a valid schema"),
        ("json_schema", {"schema": "{not json"}, "schema", "not valid JSON"),
        ("json_schema", {"schema": [1]}, "schema", "JSON object"),
        ("format_tags", {"tags": []}, "tags", "non-empty"),
        ("format_tags", {"tags": ["<think>"]}, "tags", "not a tag name"),
        ("length", {}, "max", "minimum, a maximum"),
        ("length", {"min": 10, "max": 5}, "max", "at least min"),
        ("length", {"max": 2.5}, "max", "whole number"),
        ("length", {"max": True}, "max", "number"),
        ("length", {"max": 10, "soft_margin": 0}, "soft_margin", "at least 1"),
        ("python_tests", {}, "tests", "write test code"),
        ("python_tests", {"tests": "def test_x(:\n  pass"}, "tests", "syntax error on line 1"),
        ("python_function", {"path": ""}, "path", "choose"),
        ("python_function", {"path": "/no/such/file.py"}, "path", "no file"),
    ],
)
def test_param_errors_name_the_parameter(kind, params, param, why):
    with pytest.raises(RuleParamError) as caught:
        make_rule(RuleSpec("my rule", kind, params))
    error = caught.value
    assert error.param == param
    assert why in error.why
    assert f"'{param}'" in str(error) and "'my rule'" in str(error)
    assert isinstance(error, ValueError)
    again = pickle.loads(pickle.dumps(error))
    assert (again.param, again.why, again.rule) == (error.param, error.why, error.rule)


def test_python_function_params_checked_without_running_the_file(tmp_path):
    marker = tmp_path / "ran"
    source = tmp_path / "reward.py"
    source.write_text(f"open({str(marker)!r}, 'w')\ndef other(p, c, r):\n    return 1.0\n")
    with pytest.raises(RuleParamError) as caught:
        make_rule(RuleSpec("mine", "python_function", {"path": str(source)}))
    assert caught.value.param == "function" and "'reward'" in caught.value.why
    make_rule(RuleSpec("mine", "python_function", {"path": str(source), "function": "other"}))
    broken = tmp_path / "broken.py"
    broken.write_text("def reward(:\n")
    with pytest.raises(RuleParamError, match="syntax error on line 1"):
        make_rule(RuleSpec("mine", "python_function", {"path": str(broken)}))
    assert not marker.exists()


def test_unknown_kind():
    with pytest.raises(RuleParamError) as caught:
        make_rule(RuleSpec("x", "telepathy"))
    assert caught.value.param == "kind" and "telepathy" in caught.value.why


def test_validate_spec_fills_defaults_and_keeps_the_rest():
    spec = validate_spec(RuleSpec("n", "numeric", {"extract": "hash"}, weight=2.0, gate=True))
    assert spec.params["extract"] == "hash"
    assert spec.params["rel_tol"] == 1e-6 and spec.params["percent"] == "ignore"
    assert (spec.weight, spec.gate, spec.enabled) == (2.0, True, True)
    # Ints are accepted for floats and stored as floats.
    assert validate_spec(RuleSpec("n", "numeric", {"abs_tol": 1})).params["abs_tol"] == 1.0


def test_importing_rules_loads_nothing_heavy():
    code = (
        "import sys\n"
        "import engine.rules, engine.rules.registry\n"
        "from engine.rules import REGISTRY\n"
        "[cls.PARAMS for cls in REGISTRY.values()]\n"
        "heavy = [m for m in ('torch', 'transformers', 'sympy', 'math_verify', 'jsonschema',"
        " 'engine.sandbox', 'PySide6') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
