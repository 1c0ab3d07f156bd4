"""Known-answer tables for contains, regex, format_tags and length."""

from __future__ import annotations

import time

import pytest

from engine.rules import RuleScore
from tests.engine.rules.conftest import build, score

CONTAINS_TABLE = [
    # completion, params, passed, reason fragment
    ("The capital is Paris.", {"substrings": ["Paris"]}, True, "found 'Paris'"),
    ("The capital is paris.", {"substrings": "Paris"}, True, "found"),
    (
        "The capital is paris.",
        {"substrings": ["Paris"], "case_sensitive": True},
        False,
        "none found",
    ),
    ("Paris or Rome", {"substrings": ["Rome", "Oslo"]}, True, "found 'Rome'"),
    ("Paris or Rome", {"substrings": ["Paris", "Rome"], "mode": "all"}, True, "found all 2"),
    ("Paris or Rom", {"substrings": ["Paris", "Rome"], "mode": "all"}, False, "missing 'Rome'"),
    (
        "As an AI, I cannot",
        {"substrings": ["as an ai"], "negate": True},
        False,
        "contains forbidden 'as an ai'",
    ),
    ("Sure: 42", {"substrings": ["as an ai", "sorry"], "negate": True}, True, "none found"),
    ("sorry", {"substrings": ["as an ai", "sorry"], "negate": True}, False, "forbidden 'sorry'"),
    ("a b", {"substrings": ["a", "b"], "mode": "all", "negate": True}, False, "contains all 2"),
    ("a", {"substrings": ["a", "b"], "mode": "all", "negate": True}, True, "missing 'b'"),
]


@pytest.mark.parametrize("completion, params, passed, reason", CONTAINS_TABLE)
def test_contains(completion, params, passed, reason):
    result = score("contains", completion, **params)
    assert (result.passed, result.score) == (passed, 1.0 if passed else 0.0)
    assert reason in result.reason


REGEX_TABLE = [
    # completion, params, passed, reason fragment
    ("The answer is 68.", {"pattern": r"-?\d+"}, True, "matched '68'"),
    (
        "The answer is -7.",
        {"pattern": r"^The answer is -?\d+\.$", "mode": "fullmatch"},
        True,
        "matched",
    ),
    (
        "The answer is 7. ok",
        {"pattern": r"The answer is -?\d+\.", "mode": "fullmatch"},
        False,
        "no match",
    ),
    ("The answer is 7. ok", {"pattern": r"The answer is -?\d+\."}, True, "matched"),
    ("THE ANSWER", {"pattern": "the answer"}, False, "no match"),
    ("THE ANSWER", {"pattern": "the answer", "ignore_case": True}, True, "matched"),
    ("a\nb", {"pattern": "^b$"}, False, "no match"),
    ("a\nb", {"pattern": "^b$", "multiline": True}, True, "matched 'b'"),
    ("a\nb", {"pattern": "a.b"}, False, "no match"),
    ("a\nb", {"pattern": "a.b", "dotall": True}, True, "matched"),
    ("I am sorry", {"pattern": "sorry|apolog", "negate": True}, False, "matched 'sorry'"),
    ("Here you go", {"pattern": "sorry|apolog", "negate": True}, True, "no match"),
]


@pytest.mark.parametrize("completion, params, passed, reason", REGEX_TABLE)
def test_regex(completion, params, passed, reason):
    result = score("regex", completion, **params)
    assert (result.passed, result.score) == (passed, 1.0 if passed else 0.0)
    assert reason in result.reason


@pytest.mark.parametrize(
    "pattern, text, reason",
    [
        # The regex module short-cuts this classic, so it ends at once with no match ...
        (r"(a+)+$", "a" * 40 + "b", None),
        # ... while these backtrack exponentially and hit the time limit.
        (r"(a|aa)+$", "a" * 40 + "b", "pattern timed out"),
        (r"(a+)+$", "a" * 5000 + "!", "pattern timed out"),
        (r"(a|a)+$", "a" * 40 + "b", "pattern timed out"),
    ],
)
@pytest.mark.parametrize("negate", [False, True])
def test_catastrophic_regex_returns_zero_quickly(pattern, text, reason, negate):
    rule = build("regex", pattern=pattern, negate=negate)
    start = time.monotonic()
    result = rule.score(text)
    assert time.monotonic() - start < 3.0
    if reason:
        assert result == RuleScore(0.0, False, reason)  # a timeout fails even when negated
    else:
        assert result.passed is negate


FORMAT_TABLE = [
    # completion, params, passed, reason fragment
    ("<think>2+2</think><answer>4</answer>", {}, True, "format matches"),
    ("<think>\nstep\n</think>\n\n<answer>4</answer>\n", {}, True, "format matches"),
    ("  \n<think>a</think><answer>4</answer>", {}, True, "format matches"),
    (
        "  <think>a</think><answer>4</answer>",
        {"allow_leading_whitespace": False},
        False,
        "text before <think>",
    ),
    ("<think>a</think><answer>4</answer> Hope this helps!", {}, False, "text after </answer>"),
    ("<think>a</think><answer>4</answer><answer>5</answer>", {}, False, "text after </answer>"),
    ("Sure! <think>a</think><answer>4</answer>", {}, False, "text before <think>"),
    ("<think>a</think> so <answer>4</answer>", {}, False, "text between </think> and <answer>"),
    ("<answer>4</answer><think>a</think>", {}, False, "text before <think>"),
    ("<think>a</think>", {}, False, "tag <answer> missing"),
    ("<think>a</think><answer>4", {}, False, "tag <answer> not closed"),
    ("<think> </think><answer>4</answer>", {}, False, "tag <think> is empty"),
    ("<think> </think><answer>4</answer>", {"require_nonempty": False}, True, "format matches"),
    ("<answer>4</answer>", {"tags": ["answer"]}, True, "format matches"),
    ("<answer>4</answer>", {"tags": "answer"}, True, "format matches"),
    ("", {}, False, "tag <think> missing"),
]


@pytest.mark.parametrize("completion, params, passed, reason", FORMAT_TABLE)
def test_format_tags(completion, params, passed, reason):
    result = score("format_tags", completion, **params)
    assert (result.passed, result.score) == (passed, 1.0 if passed else 0.0)
    assert reason in result.reason


LENGTH_TABLE = [
    # length, params, score, passed
    (10, {"min": 10, "max": 20}, 1.0, True),
    (20, {"min": 10, "max": 20}, 1.0, True),
    (9, {"min": 10, "max": 20}, 0.0, False),
    (21, {"min": 10, "max": 20}, 0.0, False),
    (0, {"max": 20}, 1.0, True),
    (1000, {"min": 5}, 1.0, True),
    (20, {"min": 10, "max": 20, "mode": "soft", "soft_margin": 10}, 1.0, True),
    (21, {"min": 10, "max": 20, "mode": "soft", "soft_margin": 10}, 0.9, False),
    (25, {"min": 10, "max": 20, "mode": "soft", "soft_margin": 10}, 0.5, False),
    (30, {"min": 10, "max": 20, "mode": "soft", "soft_margin": 10}, 0.0, False),
    (99, {"min": 10, "max": 20, "mode": "soft", "soft_margin": 10}, 0.0, False),
    (8, {"min": 10, "max": 20, "mode": "soft", "soft_margin": 10}, 0.8, False),
    (0, {"min": 10, "max": 20, "mode": "soft", "soft_margin": 10}, 0.0, False),
]


@pytest.mark.parametrize("length, params, expected, passed", LENGTH_TABLE)
def test_length_chars(length, params, expected, passed):
    result = score("length", "x" * length, **params)
    assert result.score == pytest.approx(expected)
    assert result.passed is passed
    assert f"{length} chars" in result.reason


def test_length_reasons():
    assert score("length", "x" * 25, max=20).reason == "25 chars, over max 20"
    assert score("length", "x" * 25, max=20, mode="soft", soft_margin=10).reason == (
        "25 chars, 5 over max 20 (score 0.50)"
    )
    assert score("length", "xx", min=5).reason == "2 chars, under min 5"


def test_length_tokens_with_and_without_a_counter():
    words = lambda text: len(text.split())  # noqa: E731 - a stand-in tokenizer
    rule = build("length", count_tokens=words, unit="tokens", max=3)
    assert rule.score("one two three").passed
    assert rule.score("one two three four").reason == "4 tokens, over max 3"
    fallback = build("length", unit="tokens", max=3).score("one two")
    assert not fallback.passed and "no tokenizer: counted characters" in fallback.reason
    assert fallback.reason.startswith("7 chars")
