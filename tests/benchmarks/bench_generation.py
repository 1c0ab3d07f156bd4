"""Benchmark: rollout generation tokens/s, our lean decode loop beside TRL's generate path.

    .venv/bin/python tests/benchmarks/bench_generation.py --threads 1
    .venv/bin/python tests/benchmarks/bench_generation.py --model demo --prompts 8 --group 8

TRL's GRPOTrainer (without vLLM) samples rollouts with ``model.generate()`` on the PEFT
model, each prompt repeated for its group; ours (``engine.decoding.decode``) prefills each
prompt once for its group and decodes the running rows. Both run on the same model with
the same LoRA adapter (all-linear, r 8, B drawn at random so the adapter changes the
outputs), the same prompts, seeds and sampling (temperature 1, no top-k/top-p), in one
process, alternately, ``--repeat`` times; the table gives each path's fastest pass and
says whether the two drew the same tokens. The default model is a random model of
Qwen2.5-0.5B's shape (24 layers, hidden 896, vocabulary 151,936; fp32 on the CPU, built
from the config, nothing downloaded); ``--model qwen2-small`` a 4-layer Qwen2 of hidden
size 256 and 32,000 tokens; ``--model demo`` the embedded demo model.
See tests/benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# Qwen2.5-0.5B's config.json (the shape; the weights here are random).
QWEN25_05B = dict(
    vocab_size=151936,
    hidden_size=896,
    intermediate_size=4864,
    num_hidden_layers=24,
    num_attention_heads=14,
    num_key_value_heads=2,
    max_position_embeddings=32768,
    rope_theta=1000000.0,
    rms_norm_eps=1e-6,
    tie_word_embeddings=True,
    eos_token_id=151645,
    pad_token_id=151643,
)
# A small model of the same family, where per-step overhead weighs more than arithmetic.
QWEN2_SMALL = dict(
    QWEN25_05B,
    vocab_size=32000,
    hidden_size=256,
    intermediate_size=768,
    num_hidden_layers=4,
    num_attention_heads=4,
    num_key_value_heads=2,
    eos_token_id=31999,
    pad_token_id=31998,
)


def _model(name: str):
    import torch

    if name == "demo":
        from engine.demo import DEMO_MODEL_DIR
        from engine.loading import load_model
        from engine.model_source import ModelSpec

        loaded = load_model(ModelSpec(str(DEMO_MODEL_DIR)), device="cpu", dtype="float32")
        return loaded.model, [5], 0  # the demo tokenizer: <|end|> is 5, <pad> 0
    from transformers import Qwen2Config, Qwen2ForCausalLM

    config = QWEN25_05B if name == "qwen2.5-0.5b-shape" else QWEN2_SMALL
    torch.manual_seed(0)
    model = Qwen2ForCausalLM(Qwen2Config(**config))
    # Qwen2.5's chat models stop at <|im_end|> and <|endoftext|>.
    return model, [config["eos_token_id"], config["pad_token_id"]], config["pad_token_id"]


def _with_lora(model):
    import torch
    from peft import LoraConfig, get_peft_model

    peft_model = get_peft_model(
        model, LoraConfig(r=8, lora_alpha=16, target_modules="all-linear", task_type="CAUSAL_LM")
    )
    generator = torch.Generator().manual_seed(0)
    for name, parameter in peft_model.named_parameters():
        if "lora_B" in name:
            parameter.data.normal_(0, 0.02, generator=generator)
    return peft_model.eval()


def _prompts(n: int, length: int, vocab: int) -> list[list[int]]:
    import torch

    generator = torch.Generator().manual_seed(1)
    lengths = [length - (i % 4) * 2 for i in range(n)]  # unequal: rows are left-padded
    return [
        torch.randint(10, min(vocab, 5000), (k,), generator=generator).tolist() for k in lengths
    ]


def run_generate(model, prompts, group, max_new, stops, pad, seed):
    import torch
    from transformers import GenerationConfig

    from engine.padding import cut_at_end, left_pad
    from engine.seeding import seeded

    rows = [p for p in prompts for _ in range(group)]
    input_ids, attention = left_pad(rows, pad)
    config = GenerationConfig(
        max_new_tokens=max_new,
        do_sample=True,
        temperature=1.0,
        top_p=1.0,
        top_k=0,
        pad_token_id=pad,
        eos_token_id=stops,
        bos_token_id=None,
    )
    with seeded(seed, "cpu"), torch.no_grad():
        out = model.generate(
            input_ids=input_ids, attention_mask=attention, generation_config=config
        )
    return [cut_at_end(r, set(stops), max_new)[0] for r in out[:, input_ids.shape[1] :].tolist()]


def run_lean(model, prompts, group, max_new, stops, pad, seed):
    import torch

    from engine.decoding.loop import decode
    from engine.decoding.sampler import Sampling
    from engine.seeding import seeded

    with seeded(seed, "cpu"), torch.no_grad():
        return decode(
            model,
            prompts,
            [p for p in range(len(prompts)) for _ in range(group)],
            max_new_tokens=max_new,
            sampling=Sampling(),
            stop_ids=stops,
            pad_id=pad,
            device="cpu",
        ).tokens


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--model",
        default="qwen2.5-0.5b-shape",
        choices=("qwen2.5-0.5b-shape", "qwen2-small", "demo"),
    )
    p.add_argument("--prompts", type=int, default=2)
    p.add_argument("--group", type=int, default=4, help="completions per prompt")
    p.add_argument("--prompt-length", type=int, default=32)
    p.add_argument("--max-new-tokens", type=int, default=8, help="decode steps")
    p.add_argument("--repeat", type=int, default=2)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    print(f"# Generation benchmark ({time.strftime('%Y-%m-%d %H:%M:%S')})")
    print(f"- /proc/loadavg at start: {Path('/proc/loadavg').read_text().strip()}")
    model, stops, pad = _model(args.model)
    model = _with_lora(model)
    vocab = model.get_base_model().config.vocab_size
    prompts = _prompts(args.prompts, args.prompt_length, vocab)
    call = (model, prompts, args.group, args.max_new_tokens, stops, pad, 0)
    best = {"TRL's path (model.generate on the PEFT model)": 1e9, "ours (lean decode loop)": 1e9}
    tokens = {}
    for _ in range(args.repeat):
        for label, fn in zip(best, (run_generate, run_lean), strict=True):
            tick = time.perf_counter()
            tokens[label] = fn(*call)
            best[label] = min(best[label], time.perf_counter() - tick)
    same = len(set(map(str, tokens.values()))) == 1
    from engine.decoding.sampler import exact_draw

    exact = exact_draw("cpu", vocab)
    print(
        f"- model {args.model} with LoRA r 8 all-linear, fp32 CPU, {args.threads} thread(s), "
        f"{args.prompts} prompts x {args.group} completions, prompt ~{args.prompt_length} "
        f"tokens, {args.max_new_tokens} new tokens at most; fastest of {args.repeat}; "
        f"torch {torch.__version__}, {os.cpu_count()} CPUs"
    )
    print()
    print("| path | seconds | tokens | tokens/s |")
    print("|---|---:|---:|---:|")
    for label, seconds in best.items():
        n = sum(len(t) for t in tokens[label])
        print(f"| {label} | {seconds:.2f} | {n} | {n / seconds:.1f} |")
    print()
    print(
        f"- same tokens on both paths: {same} ("
        + (
            "ours draws exactly as generate() does"
            if exact
            else f"vocabulary of {vocab}: ours draws from the same distribution by the "
            "inverse CDF, not generate()'s tokens"
        )
        + ")"
    )
    print(f"- /proc/loadavg at end: {Path('/proc/loadavg').read_text().strip()}")
    return 0 if same or not exact else 1


if __name__ == "__main__":
    sys.exit(main())
