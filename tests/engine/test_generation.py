import pytest

from engine.errors import EngineError, PromptTooLongError, SettingsError
from engine.generation import Generated, SamplingSettings, generate, stop_token_ids

PROMPTS = ["1+1=", "hello there", "abc"]


def texts(result):
    return [[g.text for g in row] for row in result]


def force_logits(loaded, fn):
    """Hook the output head: ``fn(logits, step)`` may edit the last position's logits."""
    state = {"step": 0}

    def hook(module, inputs, output):
        state["step"] += 1
        fn(output, state["step"])
        return output

    return loaded.model.lm_head.register_forward_hook(hook)


def test_shapes_and_n_per_prompt(loaded_tiny):
    settings = SamplingSettings(max_new_tokens=6, seed=3)
    result = generate(loaded_tiny, PROMPTS, settings, n=3, batch_size=4)
    assert len(result) == len(PROMPTS)
    for row in result:
        assert len(row) == 3
        for g in row:
            assert isinstance(g, Generated) and isinstance(g.text, str)
            assert 1 <= g.num_tokens <= 6
            assert g.finish_reason in {"stop", "length"}
            if g.finish_reason == "length":
                assert g.num_tokens == 6


def test_sampling_is_reproducible_by_seed_and_leaves_global_rng_alone(loaded_tiny):
    import torch

    settings = SamplingSettings(max_new_tokens=8, seed=7, temperature=1.0)
    torch.manual_seed(1234)
    before = torch.get_rng_state()
    first = generate(loaded_tiny, PROMPTS, settings, n=2, batch_size=2)
    assert torch.equal(torch.get_rng_state(), before)
    torch.manual_seed(999)  # a different global state must not matter
    second = generate(loaded_tiny, PROMPTS, settings, n=2, batch_size=2)
    assert texts(first) == texts(second)
    other = generate(
        loaded_tiny, PROMPTS, SamplingSettings(max_new_tokens=8, seed=8), n=2, batch_size=2
    )
    assert texts(other) != texts(first)
    # Sampling gives different completions for the same prompt.
    assert len({g.text for row in first for g in row}) > len(PROMPTS)


def test_greedy_is_deterministic_and_ignores_seed(loaded_tiny):
    a = generate(
        loaded_tiny, PROMPTS, SamplingSettings(max_new_tokens=8, do_sample=False, seed=1), n=2
    )
    b = generate(
        loaded_tiny, PROMPTS, SamplingSettings(max_new_tokens=8, do_sample=False, seed=2), n=2
    )
    c = generate(
        loaded_tiny, PROMPTS, SamplingSettings(max_new_tokens=8, temperature=0.0, seed=3), n=2
    )
    assert texts(a) == texts(b) == texts(c)
    for row in a:
        assert row[0].text == row[1].text


def test_left_padding_does_not_change_greedy_output(loaded_tiny):
    settings = SamplingSettings(max_new_tokens=8, do_sample=False)
    alone = generate(loaded_tiny, ["abc"], settings)
    batched = generate(
        loaded_tiny, ["a much longer prompt than the other", "abc"], settings, batch_size=2
    )
    assert batched[1][0].text == alone[0][0].text


def test_finish_reason_length_when_no_stop_token(loaded_tiny):
    stops = stop_token_ids(loaded_tiny)

    def never_stop(logits, step):
        logits[..., stops] = -1e9

    handle = force_logits(loaded_tiny, never_stop)
    try:
        result = generate(loaded_tiny, PROMPTS, SamplingSettings(max_new_tokens=5), n=2)
    finally:
        handle.remove()
    for row in result:
        for g in row:
            assert (g.finish_reason, g.num_tokens) == ("length", 5)


def test_finish_reason_stop_counts_tokens_and_hides_eos(loaded_tiny):
    eos = loaded_tiny.tokenizer.eos_token_id
    stops = stop_token_ids(loaded_tiny)

    def stop_row0_at_step3(logits, step):
        logits[..., stops] = -1e9
        if step == 3:
            logits[0, -1, eos] = 1e9

    handle = force_logits(loaded_tiny, stop_row0_at_step3)
    try:
        result = generate(
            loaded_tiny,
            ["abc", "hello"],
            SamplingSettings(max_new_tokens=6, do_sample=False),
            batch_size=2,
        )
    finally:
        handle.remove()
    stopped, running = result[0][0], result[1][0]
    assert (stopped.finish_reason, stopped.num_tokens) == ("stop", 3)
    assert (running.finish_reason, running.num_tokens) == ("length", 6)
    assert "</s>" not in stopped.text and "<pad>" not in stopped.text


def test_end_of_turn_token_is_a_stop_token(loaded_tiny):
    end_id = loaded_tiny.tokenizer.convert_tokens_to_ids("<|end|>")
    assert end_id in stop_token_ids(loaded_tiny)
    assert loaded_tiny.tokenizer.eos_token_id in stop_token_ids(loaded_tiny)


def test_chat_messages_and_plain_string_use_the_template(loaded_tiny):
    settings = SamplingSettings(max_new_tokens=8, do_sample=False)
    as_text = generate(loaded_tiny, ["what is 2+2?"], settings)
    as_chat = generate(loaded_tiny, [[{"role": "user", "content": "what is 2+2?"}]], settings)
    assert texts(as_text) == texts(as_chat)
    with_system = generate(
        loaded_tiny,
        [[{"role": "system", "content": "be brief"}, {"role": "user", "content": "what is 2+2?"}]],
        settings,
    )
    assert len(with_system) == 1 and with_system[0][0].num_tokens > 0
    with pytest.raises(EngineError, match="Prompt 1"):
        generate(loaded_tiny, ["ok", [{"role": "user"}]], settings)


def test_chat_prompt_without_template_is_refused(tiny_base_model_dir):
    from engine.loading import load_model
    from engine.model_source import ModelSpec

    base = load_model(ModelSpec(str(tiny_base_model_dir)), device="cpu")
    settings = SamplingSettings(max_new_tokens=4, do_sample=False)
    assert len(generate(base, ["plain text works"], settings)[0]) == 1
    with pytest.raises(EngineError, match="no chat template"):
        generate(base, [[{"role": "user", "content": "hi"}]], settings)


def test_prompt_too_long_raises_before_generating(loaded_tiny, monkeypatch):
    calls = []
    monkeypatch.setattr(loaded_tiny.model, "generate", lambda *a, **k: calls.append(1))
    limit = loaded_tiny.model.config.max_position_embeddings
    long_prompt = "a" * (limit - 10)
    with pytest.raises(PromptTooLongError) as info:
        generate(loaded_tiny, ["short", long_prompt], SamplingSettings(max_new_tokens=16))
    err = info.value
    assert err.index == 1 and err.limit == limit and err.length > limit - 16
    assert "Prompt 1" in str(err)
    assert calls == []


def test_progress_and_should_stop(loaded_tiny):
    settings = SamplingSettings(max_new_tokens=3, seed=0)
    prompts = ["a", "b", "c", "d", "e"]
    seen = []
    full = generate(
        loaded_tiny, prompts, settings, batch_size=2, progress=lambda d, t: seen.append((d, t))
    )
    assert seen == [(2, 5), (4, 5), (5, 5)]
    assert len(full) == 5

    # Stop after the first batch: only the finished prompts come back, in order.
    checks = []

    def stop_after_first():
        checks.append(1)
        return len(checks) > 1

    partial = generate(loaded_tiny, prompts, settings, batch_size=2, should_stop=stop_after_first)
    assert len(partial) == 2
    assert texts(partial) == texts(full[:2])

    # With n=2 and 3 rows per batch, one prompt is complete after the first batch.
    checks.clear()
    partial_n = generate(
        loaded_tiny, prompts, settings, n=2, batch_size=3, should_stop=stop_after_first
    )
    assert len(partial_n) == 1 and len(partial_n[0]) == 2

    assert generate(loaded_tiny, prompts, settings, should_stop=lambda: True) == []


def test_training_mode_is_restored(loaded_tiny):
    loaded_tiny.model.train()
    generate(loaded_tiny, ["abc"], SamplingSettings(max_new_tokens=2))
    assert loaded_tiny.model.training is True


def test_settings_validation_and_round_trip():
    s = SamplingSettings(
        max_new_tokens=32, temperature=0.7, top_p=0.9, top_k=40, do_sample=True, seed=5
    )
    s.validate()
    assert SamplingSettings.from_dict(s.to_dict()) == s
    assert SamplingSettings.from_dict({"temperature": 0.5, "future_field": 1}).temperature == 0.5
    for bad in [
        dict(max_new_tokens=0),
        dict(temperature=-1),
        dict(top_p=0),
        dict(top_p=1.5),
        dict(top_k=-1),
        dict(seed=-3),
    ]:
        with pytest.raises(SettingsError):
            SamplingSettings(**bad).validate()
    with pytest.raises(ValueError):
        SamplingSettings.from_dict({"max_new_tokens": "lots"})
    assert SamplingSettings(temperature=0).greedy and SamplingSettings(do_sample=False).greedy
    assert not SamplingSettings().greedy


def test_bad_n_and_empty_prompts(loaded_tiny):
    settings = SamplingSettings(max_new_tokens=2)
    assert generate(loaded_tiny, [], settings) == []
    with pytest.raises(SettingsError):
        generate(loaded_tiny, ["a"], settings, n=0)
    with pytest.raises(SettingsError):
        generate(loaded_tiny, ["a"], settings, batch_size=0)
