import pytest

from tests.workbench.label_helpers import Tiny
from workbench.judging.agreement import agreement, cohen_kappa, review_queue
from workbench.labels.comparisons import override


@pytest.fixture
def tiny(tmp_path):
    t = Tiny(tmp_path / "p")
    yield t
    t.project.close()


def six_pairs(tiny):
    """Six completions pairs of one prompt: c[0]-c[1], c[2]-c[3], ..."""
    prompt = tiny.prompt("q")
    ids = tiny.completions(prompt, *[f"c{i}" for i in range(12)])
    return prompt, [(ids[i], ids[i + 1]) for i in range(0, 12, 2)]


def test_percent_agreement_and_kappa_match_a_hand_computation(tiny):
    prompt, pairs = six_pairs(tiny)
    # By pair, lower id first: AI says F F S S T F, the human F S S S T F.
    ai = ["a", "a", "b", "b", "tie", "a"]
    human = ["a", "b", "b", "b", "tie", "a"]
    for (x, y), said_ai, said_human in zip(pairs, ai, human, strict=True):
        tiny.compare(prompt, [x, y], said_ai, "ai", judge="j", confidence=0.8)
        # The human saw the pair the other way round: the same preference, the other letter.
        flipped = {"a": "b", "b": "a", "tie": "tie"}[said_human]
        tiny.compare(prompt, [y, x], flipped, "human")
    result = agreement(tiny.project, "ai", "human")
    # p_o = 5/6; p_e = (3*2 + 2*3 + 1*1) / 36 = 13/36; kappa = (30 - 13) / (36 - 13) = 17/23.
    assert (result.pairs, result.agreed) == (6, 5)
    assert result.percent == pytest.approx(100 * 5 / 6)
    assert result.kappa == pytest.approx(17 / 23)
    assert result.counts["first"] == {"first": 2, "second": 1, "tie": 0}
    assert result.counts["tie"]["tie"] == 1 and result.counts["second"]["second"] == 2


def test_a_ranking_counts_as_its_implied_pairs_and_both_bad_is_left_out(tiny):
    prompt = tiny.prompt("q")
    c1, c2, c3, c4 = tiny.completions(prompt, "one", "two", "three", "four")
    tiny.compare(prompt, [c1, c2, c3], "ranking", "human", ranking=[c3, c1, c2])
    tiny.compare(prompt, [c3, c1], "a", "ai")  # agrees: c3 beats c1
    tiny.compare(prompt, [c1, c2], "b", "ai")  # disagrees: the ranking puts c1 above c2
    tiny.compare(prompt, [c3, c4], "a", "ai")
    tiny.compare(prompt, [c3, c4], "both_bad", "human")
    result = agreement(tiny.project, "ai", "human")
    assert (result.pairs, result.agreed) == (2, 1)


def test_only_active_and_latest_labels_count(tiny):
    prompt = tiny.prompt("q")
    c1, c2 = tiny.completions(prompt, "one", "two")
    tiny.compare(prompt, [c1, c2], "b", "human")
    tiny.compare(prompt, [c1, c2], "a", "human")  # the person changed their mind
    ai_label = tiny.compare(prompt, [c1, c2], "b", "ai")
    assert agreement(tiny.project, "ai", "human").agreed == 0
    override(tiny.project, ai_label, "a")  # the AI label is superseded: nothing left to compare
    assert agreement(tiny.project, "ai", "human").pairs == 0


def test_kappa_is_undefined_when_both_always_say_the_same_single_outcome():
    assert cohen_kappa([("first", "first")] * 4) is None
    assert cohen_kappa([]) is None
    assert cohen_kappa([("first", "first"), ("second", "second")]) == 1.0


def test_agreement_with_rules_and_per_judge(tiny):
    prompt, pairs = six_pairs(tiny)
    for (x, y), rule_says, judge_one, judge_two in zip(
        pairs[:3], ["a", "a", "b"], ["a", "a", "a"], ["b", "b", "b"], strict=True
    ):
        tiny.compare(prompt, [x, y], rule_says, "rule", judge="rules: answer")
        tiny.compare(prompt, [x, y], judge_one, "ai", judge="one")
        tiny.compare(prompt, [x, y], judge_two, "ai", judge="two")
    assert agreement(tiny.project, "ai", "rule", judge_a="one").agreed == 2
    second = agreement(tiny.project, "ai", "rule", judge_a="two")
    assert second.agreed == 1 and second.source_a == "ai (two)"
    assert agreement(tiny.project, "rule", "ai", judge_b="one").counts["second"]["first"] == 1


def test_review_queue_orders_by_confidence_or_disagreement_first(tiny):
    prompt, pairs = six_pairs(tiny)
    confident_wrong = tiny.compare(prompt, list(pairs[0]), "a", "ai", judge="j", confidence=0.95)
    unsure = tiny.compare(prompt, list(pairs[1]), "a", "ai", judge="j", confidence=0.55)
    middling = tiny.compare(prompt, list(pairs[2]), "b", "ai", judge="j", confidence=0.7)
    other_judge = tiny.compare(prompt, list(pairs[3]), "b", "ai", judge="k", confidence=0.6)
    tiny.compare(prompt, list(pairs[0]), "b", "human")
    tiny.compare(prompt, list(pairs[2]), "b", "rule")  # agrees
    by_confidence = review_queue(tiny.project, "confidence", limit=None)
    assert [i.comparison.id for i in by_confidence] == [
        unsure,
        other_judge,
        middling,
        confident_wrong,
    ]
    by_disagreement = review_queue(tiny.project, "disagreement", limit=2, judge="j")
    assert [i.comparison.id for i in by_disagreement] == [confident_wrong, unsure]
    assert [i.disagrees_with for i in by_disagreement] == [["human"], []]
    with pytest.raises(ValueError, match="review order"):
        review_queue(tiny.project, "newest")
