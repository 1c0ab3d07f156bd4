"""KTO's data: the mismatched pairs z0 is estimated from pair each prompt with another
prompt's completion, and an unbalanced split of desirable and undesirable examples is said
with the weight that balances it.

The first test is the one that would have caught the demo's KTO bug: a prompt's unpaired
examples arrive next to each other, and the "mismatched" partner was the next example, so
z0 was estimated on matched answers of the same prompt (mostly the undesirable ones the
loss pushes down), came out negative and was clamped to 0 on nearly every step."""

from __future__ import annotations

from engine.training.encode import EncodedUnpaired
from engine.training.offline.kto import balance_advice
from engine.training.split import Split, mismatched_partners


def unpaired(prompt: int, answer: int, desirable: bool) -> EncodedUnpaired:
    return EncodedUnpaired(f"{prompt}-{answer}", [prompt, 7], [answer], desirable)


def grouped_like_unpaired_labels() -> list[EncodedUnpaired]:
    """Each prompt's right answer, then the wrong answers it beat, as unpairing gives them."""
    return [
        unpaired(prompt, answer, answer == 0)
        for prompt in range(30)
        for answer in range(1 + prompt % 5)
    ]


def test_every_mismatched_partner_has_another_prompt():
    split = Split(grouped_like_unpaired_labels())
    for i, example in enumerate(split.examples):
        partner = split.examples[split.partner(i)]
        assert partner.prompt_ids != example.prompt_ids, i


def test_partners_are_fixed_and_spread_over_the_split():
    examples = grouped_like_unpaired_labels()
    partners = mismatched_partners([e.prompt_ids for e in examples])
    assert partners == mismatched_partners([e.prompt_ids for e in examples])
    assert len(set(partners)) > 0.8 * len(examples)  # not all pointing at a few examples


def test_one_prompt_only_still_gives_a_partner():
    examples = [unpaired(1, answer, answer == 0) for answer in range(4)]
    split = Split(examples)
    assert sorted(split.partner(i) for i in range(4)) == [0, 1, 2, 3]


def test_balance_advice_names_the_weight_that_balances():
    # 374 desirable and 843 undesirable: the demo's rule labels unpaired.
    advice = balance_advice(374, 843, 1.0, 1.0)
    assert advice is not None and "desirable_weight between 2.25 and 3.01" in advice
    assert balance_advice(374, 843, 2.5, 1.0) is None
    assert balance_advice(100, 100, 1.0, 1.0) is None
    assert balance_advice(0, 100, 1.0, 1.0) is None
