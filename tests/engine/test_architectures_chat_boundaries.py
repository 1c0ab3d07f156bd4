"""The boundary between prompt and completion under every family's real chat template: the
prompt's ids are a prefix of the whole conversation's, the completion is the template's
assistant turn up to and including its end-of-turn token (which the loss sees and at which
sampling stops), several end tokens in a generation config are all honoured, a template
that renders a default system prompt or today's date is handled, and a tokenizer without a
pad token gets one that keeps the end token in the loss."""

from __future__ import annotations

import pytest
import torch

from engine.generation import SamplingSettings, encode_prompts, generate, stop_token_ids
from engine.loading import load_model, load_tokenizer
from engine.model_source import ModelSpec
from engine.tokens import render_chat, user_turn
from engine.training.batching import pad_sequences
from engine.training.encode import encode_pairs
from engine.training.examples import PairExample
from engine.training.logprobs import sequence_logps
from tests.engine.architecture_families import BY_NAME, FAMILIES

CHAT = [f.name for f in FAMILIES if f.template is not None]
QUESTION = "What is 2 + 3?"
# Leading and trailing spaces: templates that trim the content (Llama, Gemma, Mistral) and
# those that keep it (ChatML) must both come out as the template writes them.
ANSWER = "  The answer is 5. "


def _encode(tokenizer, prompt, chosen=ANSWER, rejected="The answer is 6."):
    kept, too_long = encode_pairs(
        tokenizer, [PairExample("k", prompt, chosen, rejected)], max_length=10_000
    )
    assert too_long == []
    return kept[0]


def _ids(tokenizer, text: str) -> list[int]:
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])


def _prompts(name: str) -> list:
    # Gemma's template refuses a system message; every other one takes it.
    system = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": QUESTION}]
    return [QUESTION] if name == "gemma2" else [QUESTION, system]


@pytest.mark.parametrize("name", CHAT)
def test_prompt_is_a_prefix_and_the_completion_is_the_templates_turn(name, family_model_dir):
    family = BY_NAME[name]
    tokenizer = load_tokenizer(family_model_dir(name))
    end = tokenizer.convert_tokens_to_ids(family.turn_end)
    for prompt in _prompts(name):
        encoded = _encode(tokenizer, prompt)
        full_text = render_chat(
            tokenizer,
            user_turn(prompt) + [{"role": "assistant", "content": ANSWER}],
            add_generation_prompt=False,
        )
        full = _ids(tokenizer, full_text)
        n = len(encoded.prompt_ids)
        assert encoded.prompt_ids == encode_prompts(tokenizer, [prompt])[0]
        for completion in (encoded.chosen_ids, encoded.rejected_ids):
            assert completion[-1] == end and completion.count(end) == 1
        if name == "mistral" and isinstance(prompt, list):
            # Mistral moves the system prompt into the LAST user turn, so once an answer
            # follows, the conversation no longer holds it: the answer is its usual turn.
            assert tokenizer.decode(encoded.chosen_ids) == " The answer is 5.</s>"
            continue
        assert full[:n] == encoded.prompt_ids, "the prompt is not a prefix of the conversation"
        assert full[: n + len(encoded.chosen_ids)] == encoded.prompt_ids + encoded.chosen_ids
        # After the end token the template writes only whitespace or an eos.
        rest = tokenizer.decode(full[n + len(encoded.chosen_ids) :], skip_special_tokens=True)
        assert rest.strip() == ""


def test_a_model_without_a_template_ends_its_completion_with_eos(family_model_dir):
    tokenizer = load_tokenizer(family_model_dir("gpt2"))
    encoded = _encode(tokenizer, QUESTION, chosen="The answer is 5.")
    assert encoded.prompt_ids == _ids(tokenizer, QUESTION)
    assert encoded.chosen_ids == _ids(tokenizer, "The answer is 5.") + [tokenizer.eos_token_id]


def test_default_system_prompt_and_date_are_part_of_the_prompt(family_model_dir):
    qwen = load_tokenizer(family_model_dir("qwen2"))
    prompt = qwen.decode(_encode(qwen, QUESTION).prompt_ids)
    assert prompt.startswith("<|im_start|>system\nYou are Qwen, created by Alibaba Cloud.")
    smol = load_tokenizer(family_model_dir("smollm"))
    assert "named SmolLM" in smol.decode(_encode(smol, QUESTION).prompt_ids)
    # Llama 3.1 stamps today's date; the encoding must not change from one day to the next
    # (cached reference log-probs, resumed runs), so the date is the template's own default.
    llama = load_tokenizer(family_model_dir("llama"))
    text = llama.decode(_encode(llama, QUESTION).prompt_ids)
    assert "Today Date: 26 Jul 2024" in text and text.startswith("<|begin_of_text|>")
    assert text.count("<|begin_of_text|>") == 1  # the template's bos, none added on top


def test_qwen3_completion_carries_the_empty_think_block(family_model_dir):
    tokenizer = load_tokenizer(family_model_dir("qwen3"))
    encoded = _encode(tokenizer, QUESTION, chosen="The answer is 5.")
    assert tokenizer.decode(encoded.chosen_ids) == (
        "<think>\n\n</think>\n\nThe answer is 5.<|im_end|>"
    )


class _Force:
    """A forward hook on the output head that makes ``token`` the likeliest next token."""

    def __init__(self, model, token: int):
        self.token = token
        self.handle = model.get_output_embeddings().register_forward_hook(self)

    def __call__(self, module, inputs, output):
        output = output.clone()
        output[..., self.token] += 1e4
        return output


@pytest.mark.parametrize("name", [f.name for f in FAMILIES])
def test_sampling_stops_at_every_end_token(name, family_model_dir):
    family = BY_NAME[name]
    loaded = load_model(ModelSpec(str(family_model_dir(name))), "cpu", "float32")
    tokenizer = loaded.tokenizer
    ends = [t for t in (family.turn_end, *family.generation_eos, family.eos) if t]
    assert {tokenizer.convert_tokens_to_ids(t) for t in ends} <= set(stop_token_ids(loaded))
    settings = SamplingSettings(max_new_tokens=6, do_sample=False)
    for token in dict.fromkeys(ends):
        hook = _Force(loaded.model, tokenizer.convert_tokens_to_ids(token))
        try:
            out = generate(loaded, [QUESTION], settings)[0][0]
        finally:
            hook.handle.remove()
        assert (out.finish_reason, out.num_tokens) == ("stop", 1), token


@pytest.mark.parametrize("name", ["llama", "mistral", "smollm", "gpt2"])
def test_a_tokenizer_without_pad_gets_one_and_the_loss_sees_the_end(name, family_model_dir):
    loaded = load_model(ModelSpec(str(family_model_dir(name))), "cpu", "float32")
    tokenizer = loaded.tokenizer
    assert tokenizer.pad_token is not None and tokenizer.padding_side == "left"
    if name == "llama":  # its vocabulary reserves a pad token: no end token is reused
        assert tokenizer.pad_token == "<|finetune_right_pad_id|>"
    pairs = [_encode(tokenizer, QUESTION), _encode(tokenizer, "What is 12 + 30?", "42", "4")]
    prompts = [e.prompt_ids for e in pairs for _ in (0, 1)]
    completions = [c for e in pairs for c in (e.chosen_ids, e.rejected_ids)]
    batch = pad_sequences(prompts, completions, tokenizer.pad_token_id)
    with torch.no_grad():
        logps = sequence_logps(loaded.model, batch)
    # Every completion token is counted, the end token (which may equal pad) included.
    assert logps.counts.tolist() == [float(len(c)) for c in completions]
