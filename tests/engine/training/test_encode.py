"""encode: prompts exactly as generation encodes them, completions closed by one eos,
too-long examples set aside with their length (never truncated)."""

from __future__ import annotations

import pytest

from engine.errors import EngineError
from engine.generation import encode_prompts
from engine.tokens import end_token_ids, template_end_id
from engine.training.encode import TooLong, completion_ids, encode_pairs, encode_unpaired
from engine.training.examples import PairExample, UnpairedExample
from tests.engine.conftest import build_tokenizer
from tests.engine.training.helpers import demo_pairs, demo_unpaired


@pytest.fixture(scope="module")
def demo_tokenizer():
    from transformers import AutoTokenizer

    from engine.demo import DEMO_MODEL_DIR

    return AutoTokenizer.from_pretrained(DEMO_MODEL_DIR)


@pytest.fixture(params=["demo", "tiny-chat", "tiny-plain"])
def tokenizer(request, demo_tokenizer):
    if request.param == "demo":
        return demo_tokenizer
    return build_tokenizer(chat_template=request.param == "tiny-chat")


def test_prompt_ids_equal_generation_encoding(tokenizer):
    pairs = demo_pairs("train", 6)
    kept, too_long = encode_pairs(tokenizer, pairs, max_length=1000)
    assert too_long == []
    assert [e.prompt_ids for e in kept] == encode_prompts(tokenizer, [p.prompt for p in pairs])
    assert [e.key for e in kept] == [p.key for p in pairs]
    unpaired = demo_unpaired("train", 3)
    kept_u, _ = encode_unpaired(tokenizer, unpaired, max_length=1000)
    assert [e.prompt_ids for e in kept_u] == encode_prompts(tokenizer, [u.prompt for u in unpaired])
    assert [e.desirable for e in kept_u] == [True, False] * 3


def test_chat_message_prompts_use_the_template(demo_tokenizer):
    messages = [
        {"role": "system", "content": "Be exact."},
        {"role": "user", "content": "What is 2 + 2?"},
    ]
    kept, _ = encode_pairs(
        demo_tokenizer,
        [PairExample("k", messages, "The answer is 4.", "The answer is 5.")],
        max_length=1000,
    )
    assert kept[0].prompt_ids == encode_prompts(demo_tokenizer, [messages])[0]


def test_completions_end_with_eos_exactly_once(tokenizer):
    # The turn's end: the chat template's own end-of-turn token (the tiny chat template
    # closes turns with <|end|>, not with the tokenizer's </s>), else eos.
    eos = template_end_id(tokenizer) or tokenizer.eos_token_id
    ends = set(end_token_ids(tokenizer))
    for plain, text in (
        ("The answer is 12.", "The answer is 12."),
        ("The answer is 12.", "The answer is 12." + tokenizer.eos_token),
        ("x", "x"),
    ):
        ids = completion_ids(tokenizer, text)
        assert ids[-1] in ends
        assert sum(i in ends for i in ids) == 1, text
        assert ids[:-1] == tokenizer(plain, add_special_tokens=False)["input_ids"]
    pair = PairExample("k", "What is 1 + 1?", "The answer is 2.", "The answer is 3.")
    kept, _ = encode_pairs(tokenizer, [pair], max_length=1000)
    for ids in (kept[0].chosen_ids, kept[0].rejected_ids):
        assert ids[-1] == eos and ids.count(eos) == 1
    assert (
        kept[0].chosen_ids[:-1]
        == tokenizer("The answer is 2.", add_special_tokens=False)["input_ids"]
    )


def test_no_eos_token_is_an_error():
    # Without a chat template there is no end-of-turn token to fall back on.
    tokenizer = build_tokenizer(chat_template=False)
    tokenizer.eos_token = None
    with pytest.raises(EngineError, match="end-of-sequence"):
        completion_ids(tokenizer, "abc")


def test_too_long_examples_are_reported_never_truncated(demo_tokenizer):
    long_chosen = "The answer is " + "1" * 40 + "."
    pairs = [
        PairExample("short", "What is 1 + 1?", "The answer is 2.", "The answer is 3."),
        PairExample("long", "What is 1 + 1?", long_chosen, "The answer is 3.", margin=1.0),
    ]
    full, _ = encode_pairs(demo_tokenizer, pairs, max_length=10_000)
    short_len = len(full[0].prompt_ids) + len(full[0].chosen_ids)
    long_len = len(full[1].prompt_ids) + max(len(full[1].chosen_ids), len(full[1].rejected_ids))
    assert short_len < long_len

    kept, too_long = encode_pairs(demo_tokenizer, pairs, max_length=short_len)  # at the limit: kept
    assert [e.key for e in kept] == ["short"]
    assert kept[0] == full[0]  # whole, not cut
    assert too_long == [TooLong("long", long_len, short_len)]

    kept, too_long = encode_pairs(demo_tokenizer, pairs, max_length=short_len - 1)
    assert kept == []
    assert [(t.key, t.tokens) for t in too_long] == [("short", short_len), ("long", long_len)]

    kept, too_long = encode_pairs(demo_tokenizer, pairs, max_length=long_len)
    assert kept == full and too_long == []
    assert kept[1].margin == 1.0


def test_too_long_unpaired_examples(demo_tokenizer):
    examples = [
        UnpairedExample("a", "What is 1 + 1?", "The answer is 2.", True),
        UnpairedExample("b", "What is 1 + 1?", "The answer is " + "9" * 30 + ".", False),
    ]
    full, _ = encode_unpaired(demo_tokenizer, examples, max_length=10_000)
    lengths = [len(e.prompt_ids) + len(e.completion_ids) for e in full]
    kept, too_long = encode_unpaired(demo_tokenizer, examples, max_length=lengths[0])
    assert kept == full[:1]
    assert too_long == [TooLong("b", lengths[1], lengths[0])]
