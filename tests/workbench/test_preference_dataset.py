import json

import pytest

from engine.training.examples import content_key
from tests.workbench.label_helpers import Tiny, as_tuples
from workbench.data.preference_data import build_dataset, hold_out
from workbench.labels.comparisons import override
from workbench.labels.completion_labels import add_label


@pytest.fixture
def tiny(tmp_path):
    t = Tiny(tmp_path / "p")
    yield t
    t.project.close()


def pairs_of(dataset):
    return [(p.prompt, p.chosen, p.rejected) for p in dataset.pairs]


def unpaired_of(dataset):
    return [(u.prompt, u.completion, u.desirable) for u in dataset.unpaired]


def test_outcome_a_and_b_name_the_winner_in_the_order_shown(tiny):
    p = tiny.prompt("What is 2 + 2?")
    x, y = tiny.completions(p, "4", "5")
    tiny.compare(p, [x, y], "a")
    q = tiny.prompt("What is 3 + 3?")
    u, v = tiny.completions(q, "7", "6")
    tiny.compare(q, [u, v], "b")
    dataset = build_dataset(tiny.project)
    assert pairs_of(dataset) == [("What is 2 + 2?", "4", "5"), ("What is 3 + 3?", "6", "7")]
    assert dataset.pairs[0].key == content_key("What is 2 + 2?", "4", "5")
    # every pair is also two unpaired examples, so KTO trains on pairwise labels
    assert unpaired_of(dataset) == [
        ("What is 2 + 2?", "4", True),
        ("What is 2 + 2?", "5", False),
        ("What is 3 + 3?", "6", True),
        ("What is 3 + 3?", "7", False),
    ]
    assert dataset.unpaired[1].key == content_key("What is 2 + 2?", "5", "undesirable")
    assert dataset.counts["pairs"] == 2 and dataset.counts["unpaired"] == 4
    assert dataset.counts["prompts"] == 2


def test_a_ranking_gives_every_pair_best_first(tiny):
    p = tiny.prompt("Rank these")
    ids = tiny.completions(p, "b", "c", "a", "d")
    tiny.compare(p, ids, "ranking", ranking=[ids[2], ids[0], ids[1], ids[3]])  # a > b > c > d
    dataset = build_dataset(tiny.project)
    assert [(c, r) for _, c, r in pairs_of(dataset)] == [
        ("a", "b"),
        ("a", "c"),
        ("a", "d"),
        ("b", "c"),
        ("b", "d"),
        ("c", "d"),
    ]
    # b and c are desirable against some and undesirable against others: not unpaired data
    assert unpaired_of(dataset) == [("Rank these", "a", True), ("Rank these", "d", False)]
    assert dataset.counts["unpaired_conflicts"] == 6  # b and c, three times each


def test_ties_are_counted_and_both_bad_gives_two_undesirable_examples(tiny):
    p = tiny.prompt("q")
    x, y = tiny.completions(p, "x", "y")
    tiny.compare(p, [x, y], "tie")
    z, w = tiny.completions(p, "z", "w")
    tiny.compare(p, [z, w], "both_bad")
    dataset = build_dataset(tiny.project)
    assert dataset.pairs == []
    assert unpaired_of(dataset) == [("q", "z", False), ("q", "w", False)]
    assert dataset.counts["ties"] == 1 and dataset.counts["both_bad"] == 1


def test_superseded_labels_are_left_out(tiny):
    p = tiny.prompt("q")
    x, y = tiny.completions(p, "x", "y")
    rule_label = tiny.compare(p, [x, y], "a", source="rule", judge="answer")
    human_label = override(tiny.project, rule_label, "b")
    dataset = build_dataset(tiny.project)
    assert pairs_of(dataset) == [("q", "y", "x")]
    assert dataset.snapshot["comparison_ids"] == [human_label]
    assert dataset.counts["conflicts"] == 0  # the overridden label no longer counts


def test_completion_labels_add_unpaired_examples_only(tiny):
    p = tiny.prompt("q")
    x, y = tiny.completions(p, "x", "y")
    first = add_label(tiny.project, x, True, "human")
    second = add_label(tiny.project, y, False, "ai", confidence=0.9)
    dataset = build_dataset(tiny.project)
    assert dataset.pairs == []
    assert unpaired_of(dataset) == [("q", "x", True), ("q", "y", False)]
    assert dataset.snapshot["completion_label_ids"] == [first, second]


def test_source_and_confidence_filters(tiny):
    p = tiny.prompt("q")
    tiny.pair(p, "human says", "worse", source="human")  # no confidence: always passes
    tiny.pair(p, "sure ai", "worse", source="ai", confidence=0.9)
    tiny.pair(p, "unsure ai", "worse", source="ai", confidence=0.4)
    tiny.pair(p, "rule", "worse", source="rule", confidence=1.0)
    x = tiny.completions(p, "unsure label")[0]
    add_label(tiny.project, x, True, "ai", confidence=0.3)

    confident = build_dataset(tiny.project, min_confidence=0.5)
    assert [c for _, c, _ in pairs_of(confident)] == ["human says", "sure ai", "rule"]
    assert confident.counts["filtered_out"] == 2
    assert confident.counts["by_source"] == {"human": 1, "ai": 1, "rule": 1}

    ai_only = build_dataset(tiny.project, sources="ai")
    assert [c for _, c, _ in pairs_of(ai_only)] == ["sure ai", "unsure ai"]
    assert ai_only.counts["filtered_out"] == 2  # the human and the rule pair
    assert ai_only.counts["by_source"] == {"ai": 3}
    assert ai_only.snapshot["sources"] == ["ai"]
    with pytest.raises(ValueError, match="sources"):
        build_dataset(tiny.project, sources=["crowd"])
    with pytest.raises(ValueError, match="split"):
        build_dataset(tiny.project, split="test")


def test_repeats_are_kept_once_and_identical_pairs_dropped(tiny):
    p = tiny.prompt("same question")
    tiny.pair(p, "good", "bad")
    tiny.pair(p, "good", "bad")  # the same texts labelled again
    again = tiny.prompt("same question")  # the same prompt imported twice
    tiny.pair(again, "good", "bad")
    tiny.pair(p, "twin", "twin")  # two samples that happen to be equal
    dataset = build_dataset(tiny.project)
    assert pairs_of(dataset) == [("same question", "good", "bad")]
    assert dataset.counts["duplicates"] == 2 and dataset.counts["identical"] == 1
    assert unpaired_of(dataset) == [
        ("same question", "good", True),
        ("same question", "bad", False),
    ]
    assert dataset.counts["unpaired_duplicates"] == 4
    assert dataset.counts["prompts"] == 1


def test_contradicting_labels_are_both_dropped(tiny):
    p = tiny.prompt("q")
    x, y = tiny.completions(p, "x", "y")
    tiny.compare(p, [x, y], "a", source="human")
    tiny.compare(p, [x, y], "a", source="ai", confidence=0.8)
    tiny.compare(p, [y, x], "a", source="rule")  # says y beats x
    tiny.pair(p, "fine", "poor")
    dataset = build_dataset(tiny.project)
    assert pairs_of(dataset) == [("q", "fine", "poor")]
    assert dataset.counts["conflicts"] == 3
    assert unpaired_of(dataset) == [("q", "fine", True), ("q", "poor", False)]
    # without the rule's label there is nothing to contradict
    assert pairs_of(build_dataset(tiny.project, sources=["human", "ai"]))[0] == ("q", "x", "y")


def test_an_unpaired_label_contradicting_a_pair_drops_both(tiny):
    p = tiny.prompt("q")
    x, y = tiny.completions(p, "x", "y")
    tiny.compare(p, [x, y], "a")
    add_label(tiny.project, x, False, "human")  # the winner marked undesirable
    dataset = build_dataset(tiny.project)
    assert pairs_of(dataset) == [("q", "x", "y")]
    assert unpaired_of(dataset) == [("q", "y", False)]
    assert dataset.counts["unpaired_conflicts"] == 2


def test_chat_prompts_are_their_messages(tiny):
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    p = tiny.prompt(messages=messages)
    tiny.pair(p, "Hello.", "Hello there, how are you doing today?")
    dataset = build_dataset(tiny.project)
    assert dataset.pairs[0].prompt == messages
    assert dataset.pairs[0].key == content_key(
        messages, "Hello.", "Hello there, how are you doing today?"
    )


def test_splits_keep_eval_prompts_apart(tiny):
    train, other, held = (
        tiny.prompt("t", split="train"),
        tiny.prompt("o", split="extra"),
        tiny.prompt("e", split="eval"),
    )
    for p in (train, other, held):
        tiny.pair(p, "good", "bad")
    assert [q for q, _, _ in pairs_of(build_dataset(tiny.project, split="train"))] == ["t", "o"]
    eval_set = build_dataset(tiny.project, split="eval")
    assert [q for q, _, _ in pairs_of(eval_set)] == ["e"]
    assert eval_set.counts["filtered_out"] == 0  # the other split is not "filtered out"
    assert len(build_dataset(tiny.project).pairs) == 3


def test_the_hash_and_snapshot_are_stable_and_small(tiny):
    p = tiny.prompt("q")
    first = tiny.pair(p, "a" * 5000, "b" * 5000)
    one, again = build_dataset(tiny.project), build_dataset(tiny.project)
    assert one.hash == again.hash and len(one.hash) == 64
    snapshot = json.loads(json.dumps(one.snapshot))
    assert snapshot == one.snapshot
    assert snapshot["comparison_ids"] == [first] and snapshot["counts"] == one.counts
    assert snapshot["min_confidence"] is None and snapshot["split"] is None
    assert len(json.dumps(snapshot)) < 1000  # ids, not texts
    tiny.pair(p, "c", "d")
    assert build_dataset(tiny.project).hash != one.hash
    add_label(tiny.project, tiny.completions(p, "e")[0], True, "human")
    everything = build_dataset(tiny.project)
    assert everything.unpaired[-1].completion == "e"
    # the hash is of the examples: other filters that select the same ones give the same
    assert build_dataset(tiny.project, sources=["human"]).hash == everything.hash


def test_hold_out_moves_whole_prompts_deterministically(tiny):
    for i in range(20):
        p = tiny.prompt(f"question {i}")
        tiny.pair(p, f"good {i}", f"bad {i}")
        tiny.pair(p, f"fine {i}", f"poor {i}")
    dataset = build_dataset(tiny.project)
    train, held = hold_out(dataset, 0.25, seed=1)
    train_prompts = {e.prompt for e in train.pairs + train.unpaired}
    held_prompts = {e.prompt for e in held.pairs + held.unpaired}
    assert len(held_prompts) == 5 and len(train_prompts) == 15
    assert not train_prompts & held_prompts
    assert len(train.pairs) + len(held.pairs) == len(dataset.pairs)
    assert held.counts["pairs"] == 10 and held.counts["prompts"] == 5
    assert held.snapshot["hold_out"] == {"fraction": 0.25, "seed": 1, "part": "eval"}
    assert as_tuples(hold_out(dataset, 0.25, seed=1)[1]) == as_tuples(held)
    assert {e.prompt for e in hold_out(dataset, 0.25, seed=2)[1].pairs} != held_prompts
    assert train.hash != held.hash != dataset.hash
    with pytest.raises(ValueError, match="between 0 and 1"):
        hold_out(dataset, 1.0)


def test_hold_out_of_tiny_datasets(tiny):
    p = tiny.prompt("only")
    tiny.pair(p, "good", "bad")
    train, held = hold_out(build_dataset(tiny.project), 0.5)
    assert len(train.pairs) == 1 and held.pairs == []  # one prompt cannot be split
    tiny.pair(tiny.prompt("second"), "good", "bad")
    train, held = hold_out(build_dataset(tiny.project), 0.01)
    assert len(train.pairs) == 1 and len(held.pairs) == 1  # at least one prompt held out
