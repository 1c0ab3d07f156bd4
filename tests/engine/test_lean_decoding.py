"""The lean decode loop (engine.decoding) against transformers' generate(): the same tokens
under the same seed, greedy and sampled (the sampler consumes the random stream as
generate()'s multinomial does, so this compares tokens, not distributions), on every
architecture it claims; each row stops at the first of several end tokens; the rest fall
back to generate()."""

from __future__ import annotations

import pytest
import torch

from engine.decoding.loop import decode
from engine.decoding.sampler import Sampling
from engine.decoding.support import LEAN_MODEL_TYPES, lean_decoding_supported
from engine.padding import cut_at_end, left_pad
from engine.seeding import seeded

VOCAB = 80  # above the library's default top-k of 50, so a default leaking in would show
STOPS = [2, 7, 11]  # several end tokens, as a generation_config's eos list can hold
PAD = 0


def _model(model_type: str):
    import transformers

    classes = {
        "llama": ("LlamaConfig", "LlamaForCausalLM"),
        "qwen2": ("Qwen2Config", "Qwen2ForCausalLM"),
        "qwen3": ("Qwen3Config", "Qwen3ForCausalLM"),
        "mistral": ("MistralConfig", "MistralForCausalLM"),
    }
    config_name, model_name = classes[model_type]
    config = getattr(transformers, config_name)(
        vocab_size=VOCAB,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=8,
        max_position_embeddings=128,
        pad_token_id=PAD,
        eos_token_id=STOPS,
        tie_word_embeddings=False,
    )
    torch.manual_seed(0)
    return getattr(transformers, model_name)(config).eval()


def _prompts() -> list[list[int]]:
    generator = torch.Generator().manual_seed(1)
    lengths = [5, 9, 3, 12]  # unequal, so rows are left-padded
    return [torch.randint(12, VOCAB, (n,), generator=generator).tolist() for n in lengths]


def _with_generate(
    model, prompts, rows, sampling: Sampling, max_new: int, seed: int, device: str = "cpu"
):
    from engine.generation import SamplingSettings, generation_config

    input_ids, attention = left_pad([prompts[p] for p in rows], PAD)
    settings = SamplingSettings(
        max_new_tokens=max_new,
        temperature=sampling.temperature,
        top_p=sampling.top_p,
        top_k=sampling.top_k,
        do_sample=not sampling.greedy,
    )
    with seeded(seed, device), torch.no_grad():
        out = model.generate(
            input_ids=input_ids.to(device),
            attention_mask=attention.to(device),
            generation_config=generation_config(settings, PAD, STOPS),
        )
    return [cut_at_end(r, set(STOPS), max_new) for r in out[:, input_ids.shape[1] :].tolist()]


def _with_lean(
    model, prompts, rows, sampling: Sampling, max_new: int, seed: int, device: str = "cpu"
):
    with seeded(seed, device), torch.no_grad():
        return decode(
            model,
            prompts,
            rows,
            max_new_tokens=max_new,
            sampling=sampling,
            stop_ids=STOPS,
            pad_id=PAD,
            device=device,
        )


SAMPLINGS = {
    "greedy": Sampling(greedy=True),
    "sampled": Sampling(),
    "tempered": Sampling(temperature=0.7),
    "top_k_top_p": Sampling(temperature=1.3, top_k=10, top_p=0.9),
}


@pytest.mark.parametrize("model_type", sorted(LEAN_MODEL_TYPES))
@pytest.mark.parametrize("how", sorted(SAMPLINGS))
def test_lean_loop_draws_the_tokens_generate_draws(model_type, how):
    model, prompts = _model(model_type), _prompts()
    rows = [p for p in range(len(prompts)) for _ in range(4)]  # groups of 4 share a prefill
    sampling = SAMPLINGS[how]
    for seed in (0, 1):
        expected = _with_generate(model, prompts, rows, sampling, 16, seed)
        got = _with_lean(model, prompts, rows, sampling, 16, seed)
        assert got.tokens == [kept for kept, _ in expected]
        assert got.truncated == [cut for _, cut in expected]
        assert [len(lp) for lp in got.logprobs] == [len(t) for t in got.tokens]
    if not sampling.greedy:  # the samples of a group differ: the seed drives every row
        assert len({tuple(t) for t in got.tokens[:4]}) > 1


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("how", sorted(SAMPLINGS))
def test_on_cuda_in_bfloat16_too(how):
    model = _model("qwen2").to("cuda", torch.bfloat16)
    prompts, rows = _prompts(), [p for p in range(4) for _ in range(4)]
    expected = _with_generate(model, prompts, rows, SAMPLINGS[how], 16, 0, "cuda")
    got = _with_lean(model, prompts, rows, SAMPLINGS[how], 16, 0, "cuda")
    assert got.tokens == [kept for kept, _ in expected]


def test_rows_stop_at_every_end_token_and_nowhere_else():
    model, prompts = _model("llama"), _prompts()
    rows = [p for p in range(len(prompts)) for _ in range(8)]
    got = _with_lean(model, prompts, rows, Sampling(), 24, 3)
    ended_by = {
        tokens[-1] for tokens, cut in zip(got.tokens, got.truncated, strict=True) if not cut
    }
    assert ended_by == set(STOPS)  # each of the end tokens ended some row
    for tokens, cut in zip(got.tokens, got.truncated, strict=True):
        assert not any(t in STOPS for t in tokens[:-1])  # nothing after the first end token
        assert cut == (tokens[-1] not in STOPS) and (not cut or len(tokens) == 24)


def test_sampled_log_probs_are_the_policys_at_the_temperature():
    model, prompts = _model("qwen2"), _prompts()
    rows = [0, 0, 1, 1]
    got = _with_lean(model, prompts, rows, Sampling(temperature=0.7), 10, 0)
    for p, tokens, logps in zip(rows, got.tokens, got.logprobs, strict=True):
        ids = torch.tensor([prompts[p] + tokens])
        with torch.no_grad():
            logits = model(input_ids=ids).logits[0, len(prompts[p]) - 1 : -1].float() / 0.7
        want = torch.log_softmax(logits, -1).gather(-1, torch.tensor(tokens)[:, None])[:, 0]
        torch.testing.assert_close(torch.tensor(logps), want, atol=1e-4, rtol=1e-4)


def test_other_architectures_and_devices_fall_back_to_generate():
    from transformers import GPT2Config, GPT2LMHeadModel

    gpt2 = GPT2LMHeadModel(GPT2Config(vocab_size=VOCAB, n_embd=16, n_layer=1, n_head=2))
    assert not lean_decoding_supported(gpt2, "cpu")
    assert lean_decoding_supported(_model("llama"), "cpu")
    assert not lean_decoding_supported(_model("llama"), "mps")


def test_lora_layers_decode_as_peft_computes_them():
    from peft import LoraConfig, get_peft_model

    from engine.decoding.lora_layers import lean_lora_layers

    model = get_peft_model(
        _model("llama"), LoraConfig(r=4, lora_alpha=8, target_modules="all-linear")
    )
    for name, parameter in model.named_parameters():
        if "lora_B" in name:  # PEFT starts B at zero; make the adapter change the outputs
            parameter.data.normal_(0, 0.1, generator=torch.Generator().manual_seed(0))
    model.eval()
    prompts = _prompts()
    rows = [p for p in range(len(prompts)) for _ in range(3)]
    for how in ("greedy", "sampled"):
        expected = _with_generate(model, prompts, rows, SAMPLINGS[how], 12, 5)
        assert _with_lean(model, prompts, rows, SAMPLINGS[how], 12, 5).tokens == [
            kept for kept, _ in expected
        ]
    ids = torch.tensor([prompts[0]])
    with torch.no_grad():
        plain = model(input_ids=ids).logits
        with lean_lora_layers(model) as swapped:
            lean = model(input_ids=ids).logits
    assert swapped == 2 * 7  # every adapted Linear of the two layers
    assert torch.equal(plain, lean)  # bit for bit
    assert all("forward" not in vars(m) for m in model.modules())  # PEFT's forward is back
    model.train()
    with lean_lora_layers(model) as swapped:
        assert swapped == 0  # training mode (dropout) keeps PEFT's forward


def test_the_inverse_cdf_draw_samples_the_same_distribution():
    """On the CPU with a large vocabulary the loop draws by inverting the CDF: not
    generate()'s tokens, so this compares frequencies with the probabilities."""
    from engine.decoding.sampler import RACE_MAX_VOCAB_ON_CPU, TokenSampler, exact_draw

    vocab = 6000
    assert not exact_draw("cpu", vocab) and exact_draw("cpu", 102)
    assert exact_draw("cuda", 151936) and vocab > RACE_MAX_VOCAB_ON_CPU
    logits = torch.full((vocab,), -4.0)
    logits[[7, 100, 4321, 5999]] = torch.tensor([2.0, 1.0, 0.5, 0.0])
    probs = torch.softmax(logits, -1)
    rows = 4000
    counts = torch.zeros(vocab)
    torch.manual_seed(0)
    for auto in (None, False):  # the automatic choice takes the same draw here
        sampler = TokenSampler(Sampling(exact=auto))
        for _ in range(5):
            tokens, _ = sampler.choose(
                logits.expand(rows, vocab), torch.arange(rows), rows, logprobs=False
            )
            counts += torch.bincount(tokens, minlength=vocab)
    draws = counts.sum()
    for token in (7, 100, 4321, 5999):
        p = probs[token]
        sigma = (p * (1 - p) / draws).sqrt()
        assert abs(counts[token] / draws - p) < 5 * sigma
    rest = [t for t in range(vocab) if t not in (7, 100, 4321, 5999)]
    assert abs(counts[rest].sum() / draws - probs[rest].sum()) < 0.01
    filtered = TokenSampler(Sampling(top_k=2, exact=False))
    tokens, logps = filtered.choose(
        logits.expand(rows, vocab), torch.arange(rows), rows, logprobs=True
    )
    assert set(tokens.tolist()) == {7, 100}  # never a token the filter removed
    assert torch.isfinite(logps).all()
