"""Known-answer tables for exact, numeric and math rules, near misses included.

Decisions these tables pin down:
- ``exact`` compares text: "42.0" is not "42" and "1/2" is not "0.5" (use numeric/math).
- ``numeric`` compares values: "42.0" == "42", "1/2" == "0.5", "41.9" != "42" at the
  default tolerance (rel 1e-6, abs 1e-9).
- ``math`` uses math-verify: "1/2", "0.5" and "\\frac{1}{2}" are equal.
"""

from __future__ import annotations

import pytest

from engine.demo.task import demo_splits, format_answer
from tests.engine.rules.conftest import build, score

EXACT_TABLE = [
    # completion, reference, params, passed, reason fragment
    ("Paris", "Paris", {}, True, "matches"),
    ("  paris.  ", "Paris", {}, True, "matches"),
    ("PARIS!", "paris", {}, True, "matches"),
    ('"Paris"', "Paris", {}, True, "matches"),
    ("New  York", "new york", {}, True, "matches"),
    ("Paris", "paris", {"case_sensitive": True}, False, "expected 'paris', got 'Paris'"),
    ("Paris.", "Paris", {"strip_punctuation": False}, False, "got 'Paris.'"),
    ("Pariss", "Paris", {}, False, "expected 'Paris', got 'Pariss'"),
    ("42.0", "42", {}, False, "expected '42', got '42.0'"),  # text, not value
    ("1/2", "0.5", {}, False, "expected '0.5'"),
    ("-7", "7", {}, False, "got '-7'"),  # a sign is never stripped
    ("(B)", "B", {}, False, "got '(B)'"),  # brackets are kept
    ("Let me think.\nParis", "Paris", {"extract": "last_line"}, True, "matches"),
    ("Paris\nor maybe not", "Paris", {"extract": "last_line"}, False, "got 'or maybe not'"),
    ("<answer> Paris </answer>", "Paris", {"extract": "answer_tag"}, True, "matches"),
    (
        "<answer>Rome</answer> <answer>Paris</answer>",
        "Paris",
        {"extract": "answer_tag"},
        True,
        "matches",
    ),
    ("Paris", "Paris", {"extract": "answer_tag"}, False, "tag <answer> missing"),
    ("The answer is 68.", "68", {"extract": "after_marker"}, True, "matches"),
    ("The answer is 68.\nbye", "68", {"extract": "after_marker"}, True, "matches"),
    ("#### 72", "72", {"extract": "after_marker", "marker": "####"}, True, "matches"),
    ("It is 68.", "68", {"extract": "after_marker"}, False, "marker 'The answer is' not found"),
    ("The answer is", "68", {"extract": "after_marker"}, False, "empty answer"),
    ("Paris", None, {}, False, "no reference answer"),
    ("Paris", None, {"expected": "paris"}, True, "matches"),
    ("Paris", "Rome", {"expected": "Paris"}, True, "matches"),  # a fixed expected wins
    ("Rome", "Rome", {"expected": ""}, True, "matches"),  # empty field: the reference
]


@pytest.mark.parametrize("completion, reference, params, passed, reason", EXACT_TABLE)
def test_exact(completion, reference, params, passed, reason):
    result = score("exact", completion, reference, **params)
    assert result.passed is passed
    assert result.score == (1.0 if passed else 0.0)
    assert reason in result.reason


NUMERIC_TABLE = [
    # completion, reference, params, passed, reason fragment
    ("The answer is 68.", "68", {}, True, "68 matches 68"),
    ("The answer is -7.", "-7", {}, True, "-7 matches -7"),
    ("The answer is -7.", "7", {}, False, "expected 7, got -7"),
    ("The answer is 7.", "-7", {}, False, "expected -7, got 7"),
    ("x = \u22127", "-7", {}, True, "matches"),  # unicode minus
    ("42.0", "42", {}, True, "42.0 matches 42"),
    ("42.000001", "42", {}, True, "matches"),  # within rel_tol 1e-6
    ("41.9", "42", {}, False, "expected 42, got 41.9"),
    ("41.9", "42", {"rel_tol": 0.01}, True, "matches"),
    ("41.9", "42", {"abs_tol": 0.5}, True, "matches"),
    ("1/2", "0.5", {}, True, "1/2 matches 0.5"),
    ("0.5", "1/2", {}, True, "matches"),
    (".5", "0.5", {}, True, "matches"),
    ("1/3", "0.333", {}, False, "expected 0.333"),
    ("It costs 1,234 dollars", "1234", {}, True, "1,234 matches 1234"),
    ("1,000,000", "1e6", {}, True, "matches"),
    ("10-3=7", "7", {}, True, "7 matches 7"),  # '-' between digits is not a sign
    ("3-5", "5", {}, True, "matches"),
    ("$1,234.50", "1234.5", {}, True, "matches"),
    ("first 3 then 4", "3", {}, False, "expected 3, got 4"),  # the LAST number counts
    ("no digits here", "3", {}, False, "no number found"),
    ("", "3", {}, False, "no number found"),
    ("5", None, {}, False, "no reference answer"),
    ("5", "five", {}, False, "no number in the reference"),
    ("5", None, {"expected": "5.0"}, True, "matches"),
    # References in GSM8K and MATH style.
    ("The answer is 72.", "48 + 24 = 72 apples\n#### 72", {}, True, "matches"),
    ("The answer is 72.", "so \\boxed{72}", {}, True, "matches"),
    # hash
    ("work... #### 1,234", "1234", {"extract": "hash"}, True, "matches"),
    ("#### -15 then 3 more", "-15", {"extract": "hash"}, True, "matches"),
    ("#### 12\n#### 13", "13", {"extract": "hash"}, True, "matches"),
    ("The answer is 1234", "1234", {"extract": "hash"}, False, "no '####' found"),
    ("#### none", "1", {"extract": "hash"}, False, "no number after '####'"),
    # boxed
    ("so \\boxed{\\frac{1}{2}}", "0.5", {"extract": "boxed"}, True, "matches"),
    ("so \\boxed{-\\dfrac{3}{4}}", "-0.75", {"extract": "boxed"}, True, "matches"),
    ("\\boxed{1{,}234}", "1234", {"extract": "boxed"}, True, "matches"),
    ("\\boxed{{12}} then 13", "12", {"extract": "boxed"}, True, "matches"),
    ("\\boxed{3} or \\boxed{4}", "4", {"extract": "boxed"}, True, "matches"),
    ("the answer is 12", "12", {"extract": "boxed"}, False, "no \\boxed{} found"),
    ("\\boxed{x}", "12", {"extract": "boxed"}, False, "no number in \\boxed{}"),
    # answer_tag
    ("<think>2+2 is 4</think><answer>4</answer>", "4", {"extract": "answer_tag"}, True, "matches"),
    (
        "<think>maybe 5</think><answer>about 4</answer>",
        "5",
        {"extract": "answer_tag"},
        False,
        "expected 5, got 4",
    ),
    ("4", "4", {"extract": "answer_tag"}, False, "tag <answer> missing"),
    # percent
    ("50%", "50", {}, True, "matches"),
    ("50%", "0.5", {}, False, "expected 0.5"),
    ("50%", "0.5", {"percent": "fraction"}, True, "matches"),
    ("50%", "0.5", {"percent": "either"}, True, "matches"),
    ("50%", "50", {"percent": "either"}, True, "matches"),
    ("2.5e3", "2500", {}, True, "matches"),
]


@pytest.mark.parametrize("completion, reference, params, passed, reason", NUMERIC_TABLE)
def test_numeric(completion, reference, params, passed, reason):
    result = score("numeric", completion, reference, **params)
    assert result.passed is passed, result
    assert result.score == (1.0 if passed else 0.0)
    assert reason in result.reason


def test_numeric_division_by_zero_is_not_a_number():
    assert score("numeric", "1/0", "1").reason == "no number found"


def test_numeric_demo_task_answers():
    """The demo's completions read 'The answer is 68.'; references are str(answer)."""
    rule = build("numeric")
    problems = demo_splits()["eval"]
    assert any(p.answer < 0 for p in problems)
    right = rule.score_batch([(format_answer(p.answer), str(p.answer)) for p in problems])
    assert all(r.passed for r in right)
    wrong = rule.score_batch(
        [(format_answer(-p.answer if p.answer else 1), str(p.answer)) for p in problems]
    )
    assert not any(r.passed for r in wrong)
    assert rule.score("The answer is -7.", "-7").passed


MATH_TABLE = [
    # completion, reference, params, passed
    ("1/2", "0.5", {}, True),
    ("0.5", "1/2", {}, True),
    ("\\frac{1}{2}", "0.5", {}, True),
    ("The result is $\\boxed{\\frac{1}{2}}$", "0.5", {}, True),
    ("The answer is 68.", "68", {}, True),
    ("The answer is -7.", "-7", {}, True),
    ("The answer is 7.", "-7", {}, False),
    ("42.0", "42", {}, True),
    ("41.9", "42", {}, False),
    ("$1+x^2$", "x^2+1", {}, True),
    ("#### 1,234", "Sum them.\n#### 1234", {}, True),
    ("<answer>\\frac{2}{4}</answer> and 7", "0.5", {"extract": "answer_tag"}, True),
    ("The answer is 1/3.", "0.5", {"extract": "after_marker"}, False),
]


@pytest.fixture(scope="module")
def math_results():
    """The whole table scored in a few batches: each batch starts one verifier child
    (importing sympy takes a second), as a training step would."""
    results = {}
    for params in {tuple(sorted(row[2].items())) for row in MATH_TABLE}:
        rows = [row for row in MATH_TABLE if tuple(sorted(row[2].items())) == params]
        scores = build("math", **dict(params)).score_batch([(c, r) for c, r, _, _ in rows])
        results.update({(c, r): s for (c, r, _, _), s in zip(rows, scores, strict=True)})
    return results


@pytest.mark.parametrize("completion, reference, params, passed", MATH_TABLE)
def test_math(sandbox_ready, math_results, completion, reference, params, passed):
    result = math_results[completion, reference]
    assert result.passed is passed, result
    assert result.score == (1.0 if passed else 0.0)
    assert result.reason


def test_math_batch_and_reasons(sandbox_ready):
    rule = build("math")
    results = rule.score_batch(
        [
            ("1/2", "0.5"),
            ("no answer at all", "0.5"),
            ("3", None),
            ("2/4", "0.5"),
        ]
    )
    assert [r.passed for r in results] == [True, False, False, True]
    assert "equivalent to '0.5'" in results[0].reason
    assert results[2].reason == "no reference answer"
    assert build("math", extract="answer_tag").score("0.5", "0.5").reason == "tag <answer> missing"
