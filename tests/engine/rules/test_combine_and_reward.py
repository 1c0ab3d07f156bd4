"""RuleSet weights and gates, and the batch reward function's shapes and values."""

from __future__ import annotations

import pytest

from engine.rules import RuleParamError, RuleScore, RuleSet, RuleSpec, make_reward_fn

FORMAT = RuleSpec("format", "format_tags", {"tags": ["think", "answer"]}, weight=0.5, gate=True)
CORRECT = RuleSpec("correct", "numeric", {"extract": "answer_tag"}, weight=2.0)
SHORT = RuleSpec("short", "length", {"max": 60, "mode": "soft", "soft_margin": 20}, weight=1.0)

GOOD = "<think>2+2</think><answer>4</answer>"  # 36 chars
WRONG = "<think>2+2</think><answer>5</answer>"
UNFORMATTED = "<answer>4</answer> because 2+2"
LONG = "<think>" + "x" * 41 + "</think><answer>4</answer>"  # 74 chars: 14 over, score 0.3

COMBINE_TABLE = [
    # completion, total, gated, per-rule scores
    (GOOD, 0.5 + 2.0 + 1.0, False, {"format": 1.0, "correct": 1.0, "short": 1.0}),
    (WRONG, 0.5 + 0.0 + 1.0, False, {"format": 1.0, "correct": 0.0, "short": 1.0}),
    # Gate fails: correctness and length count for nothing, but are still reported.
    (UNFORMATTED, 0.0, True, {"format": 0.0, "correct": 1.0, "short": 1.0}),
    (LONG, 0.5 + 2.0 + 0.3, False, {"format": 1.0, "correct": 1.0, "short": 0.3}),
]


@pytest.mark.parametrize("completion, total, gated, scores", COMBINE_TABLE)
def test_weights_and_gates(completion, total, gated, scores):
    rules = RuleSet([FORMAT, CORRECT, SHORT])
    result = rules.score(completion, "4")
    assert result.total == pytest.approx(total)
    assert result.gated is gated
    assert {n: s.score for n, s in result.per_rule.items()} == pytest.approx(scores)
    assert list(result.per_rule) == ["format", "correct", "short"]


def test_a_failing_gate_keeps_its_own_weighted_score():
    # A soft gate that fails (score 0.5, not passed) still contributes 0.5 * its weight.
    gate = RuleSpec(
        "len", "length", {"max": 10, "mode": "soft", "soft_margin": 10}, weight=2.0, gate=True
    )
    rules = RuleSet([gate, RuleSpec("has", "contains", {"substrings": ["x"]}, weight=3.0)])
    result = rules.score("x" * 15)
    assert result.gated and result.per_rule["has"].passed
    assert result.total == pytest.approx(1.0)
    assert rules.score("x" * 10).total == pytest.approx(5.0)


def test_two_gates_both_must_pass():
    gates = [
        RuleSpec("json", "json_valid", {"extract": "first_object"}, weight=0.0, gate=True),
        RuleSpec(
            "nosorry", "contains", {"substrings": ["sorry"], "negate": True}, weight=0.0, gate=True
        ),
        RuleSpec("has_a", "regex", {"pattern": '"a"'}, weight=1.0),
    ]
    rules = RuleSet(gates)
    assert rules.score('{"a": 1}').total == 1.0
    assert rules.score('sorry {"a": 1}').gated
    assert rules.score('"a"').total == 0.0


def test_disabled_rules_are_not_built_and_max_total():
    broken = RuleSpec("broken", "regex", {"pattern": "("}, enabled=False)
    penalty = RuleSpec("penalty", "contains", {"substrings": ["sorry"]}, weight=-1.0)
    rules = RuleSet([FORMAT, CORRECT, broken, penalty])
    assert rules.names == ["format", "correct", "penalty"]
    assert rules.max_total() == 2.5
    assert rules.min_total() == -1.0
    assert rules.score("<think>sorry</think><answer>4</answer>", "4").total == pytest.approx(1.5)
    # A failed gate zeroes penalties too: every non-gate rule contributes nothing.
    gated = rules.score(GOOD + " sorry", "4")
    assert gated.gated and gated.total == 0.0 and gated.per_rule["penalty"].passed
    assert rules.score(GOOD, "4").total == pytest.approx(2.5)
    assert RuleSet([]).score("anything").total == 0.0


def test_duplicate_and_empty_names_rejected():
    with pytest.raises(RuleParamError) as caught:
        RuleSet([FORMAT, RuleSpec("format", "json_valid", enabled=False)])
    assert caught.value.param == "name" and caught.value.rule == "format"
    assert "unique" in str(caught.value)
    with pytest.raises(RuleParamError, match="needs a name"):
        RuleSet([RuleSpec(" ", "json_valid")])


def test_invalid_rule_names_itself():
    with pytest.raises(RuleParamError) as caught:
        RuleSet([FORMAT, RuleSpec("pattern rule", "regex", {"pattern": "(a"})])
    assert caught.value.rule == "pattern rule" and caught.value.param == "pattern"


def test_a_rule_that_raises_scores_zero_with_the_error(monkeypatch):
    rules = RuleSet([CORRECT, SHORT])

    def boom(items):
        raise RuntimeError("kaput")

    monkeypatch.setattr(rules.rules["correct"], "score_batch", boom)
    result = rules.score(GOOD, "4")
    assert result.per_rule["correct"] == RuleScore(0.0, False, "rule error: RuntimeError: kaput")
    assert result.total == 1.0


def test_reward_fn_shapes_and_values():
    reward = make_reward_fn([FORMAT, CORRECT, SHORT])
    batch = reward(["q1", "q2", "q3", "q4"], [GOOD, WRONG, UNFORMATTED, LONG], ["4", "4", "4", "4"])
    assert batch.total == pytest.approx([3.5, 1.5, 0.0, 2.8])
    assert (
        set(batch.per_rule)
        == set(batch.reasons)
        == set(batch.passed)
        == {"format", "correct", "short"}
    )
    assert batch.per_rule["correct"] == [1.0, 0.0, 1.0, 1.0]
    assert batch.passed["format"] == [True, True, False, True]
    assert batch.passed["short"] == [True, True, True, False]
    assert batch.gated == [False, False, True, False]
    assert batch.reasons["correct"][1] == "expected 4, got 5"
    assert batch.reasons["format"][2] == "tag <think> missing"
    assert all(len(v) == 4 for v in [*batch.per_rule.values(), *batch.reasons.values()])
    assert reward.max_total() == 3.5 and reward.names == ["format", "correct", "short"]


def test_reward_fn_edge_cases():
    reward = make_reward_fn([CORRECT])
    empty = reward([], [], [])
    assert empty.total == [] and empty.per_rule == {"correct": []}
    assert reward(["q"], ["<answer>4</answer>"], [None]).reasons["correct"] == [
        "no reference answer"
    ]
    assert reward(["q"], ["<answer>4</answer>"]).total == [0.0]
    with pytest.raises(ValueError, match="differ in length"):
        reward(["q"], ["a", "b"], ["1", "2"])


def test_reward_fn_counts_tokens_with_the_given_counter():
    spec = RuleSpec("brief", "length", {"unit": "tokens", "max": 2})
    reward = make_reward_fn([spec], count_tokens=lambda text: len(text.split()))
    batch = reward(["q", "q"], ["one two", "one two three"], [None, None])
    assert batch.total == [1.0, 0.0]
    assert batch.reasons["brief"] == ["2 tokens within bounds", "3 tokens, over max 2"]
