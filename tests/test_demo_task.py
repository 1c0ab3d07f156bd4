"""The demo task helpers: known answers, the answer format and the fixed splits."""

import random
import subprocess
import sys

import pytest

from engine.demo.task import (
    VERIFY_NO,
    VERIFY_YES,
    Problem,
    all_problems,
    demo_splits,
    format_answer,
    is_correct,
    is_well_formed,
    make_problems,
    make_verify_items,
    parse_answer,
    parse_verdict,
    sample_problem,
    verify_question,
    wrong_answer,
)


def test_problem_text_and_known_answers():
    assert Problem(23, "+", 45).question == "What is 23 + 45?"
    assert Problem(23, "+", 45).answer == 68
    assert Problem(7, "-", 30).answer == -23
    assert Problem(12, "*", 8).answer == 96
    assert Problem(0, "-", 0).answer == 0


def test_unknown_operator_is_rejected():
    with pytest.raises(ValueError):
        Problem(1, "/", 2)


@pytest.mark.parametrize("value", [0, 7, 68, 891, -1, -23, -99])
def test_format_parse_round_trip(value):
    text = format_answer(value)
    assert is_well_formed(text)
    assert parse_answer(text) == value


def test_format_answer_exact_text():
    assert format_answer(68) == "The answer is 68."
    assert format_answer(-23) == "The answer is -23."


def test_surrounding_whitespace_is_tolerated():
    assert parse_answer("  The answer is -5.\n") == -5


@pytest.mark.parametrize(
    "text",
    [
        "",
        "68",
        "The answer is 68",  # no full stop
        "The answer is 68. Really.",  # trailing text
        "So, the answer is 68.",  # leading text
        "the answer is 68.",  # wrong case
        "The answer is  68.",  # doubled space
        "The answer is sixty-eight.",
        "The answer is 6 8.",
        "The answer is 068.",  # not canonical
        "The answer is -0.",
        "The answer is +68.",
        "The answer is 6.8.",
        "The answer is --3.",
    ],
)
def test_malformed_answers_are_rejected(text):
    assert not is_well_formed(text)
    assert parse_answer(text) is None
    assert not is_correct(text, 68)


def test_is_correct_accepts_problem_or_integer():
    problem = Problem(50, "-", 58)
    assert is_correct("The answer is -8.", problem)
    assert is_correct("The answer is -8.", -8)
    assert not is_correct("The answer is 8.", problem)
    assert not is_correct("The answer is -8", problem)


def test_make_problems_is_deterministic_and_distinct():
    first = make_problems(300, seed=5)
    assert first == make_problems(300, seed=5)
    assert first != make_problems(300, seed=6)
    assert len(set(first)) == 300


def test_make_problems_honours_exclude():
    excluded = frozenset(make_problems(100, seed=1))
    drawn = make_problems(300, seed=1, exclude=excluded)
    assert not excluded & set(drawn)


def test_make_problems_fails_rather_than_loops_when_impossible():
    with pytest.raises(ValueError):
        make_problems(30_000, seed=0)


def test_problem_mix_covers_all_operators_and_negative_answers():
    rng = random.Random(0)
    problems = [sample_problem(rng) for _ in range(2000)]
    assert {p.op for p in problems} == {"+", "-", "*"}
    assert any(p.answer < 0 for p in problems)
    assert all(0 <= p.a <= 20 and 0 <= p.b <= 20 for p in problems)
    products = [p for p in problems if p.op == "*"]
    assert all(min(p.a, p.b) <= 9 for p in products)


def test_splits_sizes_disjoint_and_fixed():
    splits = demo_splits()
    assert len(splits["train"]) == 500
    assert len(splits["eval"]) == 200
    assert len(set(splits["train"])) == 500
    assert len(set(splits["eval"])) == 200
    assert not set(splits["train"]) & set(splits["eval"])
    assert demo_splits() == splits


def test_heldout_is_the_rest_of_the_distribution_in_neither_split():
    splits = demo_splits()
    heldout = splits["heldout"]
    assert len(heldout) == len(set(heldout)) == 294
    assert not set(heldout) & (set(splits["train"]) | set(splits["eval"]))
    support = set(all_problems())
    rng = random.Random(7)
    # Every problem the distribution draws is in one of the three splits, and no other.
    assert all(sample_problem(rng) in support for _ in range(20_000))
    assert set(heldout) | set(splits["train"]) | set(splits["eval"]) == support
    assert heldout != sorted(heldout, key=lambda p: (p.op, p.a, p.b))  # shuffled, seeded


def test_splits_are_the_same_in_a_fresh_interpreter():
    # Guards against hash-order or global-random dependence, which would change
    # the eval split between runs and silently invalidate the shipped model's figures.
    code = "from engine.demo.task import demo_splits; print(demo_splits()['eval'][:5])"
    fresh = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert fresh == str(demo_splits()["eval"][:5])


def test_demo_splits_returns_copies():
    demo_splits()["eval"].clear()
    assert len(demo_splits()["eval"]) == 200


def test_verify_question_text():
    assert verify_question(Problem(23, "+", 45), 68) == "Is 23 + 45 = 68 correct? Answer yes or no."
    assert VERIFY_YES == "yes" and VERIFY_NO == "no"


def test_parse_verdict():
    assert parse_verdict(" yes\n") == VERIFY_YES
    assert parse_verdict("No") == VERIFY_NO
    assert parse_verdict("yes no") is None
    assert parse_verdict("maybe") is None


def test_wrong_answers_are_wrong():
    rng = random.Random(3)
    for problem in make_problems(500, seed=3):
        assert wrong_answer(problem, rng) != problem.answer


def test_verify_items_are_balanced_and_labelled_right():
    problems = make_problems(200, seed=4)
    items = make_verify_items(problems, seed=9)
    assert items == make_verify_items(problems, seed=9)
    assert [item.problem for item in items] == problems
    assert sum(item.expected == VERIFY_YES for item in items) == 100
    for item in items:
        truthful = item.claimed == item.problem.answer
        assert item.expected == (VERIFY_YES if truthful else VERIFY_NO)


def test_demo_package_does_not_import_torch():
    code = (
        "import sys, engine.demo, engine.demo.task; "
        "print(any(m.split('.')[0] in ('torch', 'transformers') for m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
