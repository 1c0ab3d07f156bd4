"""Check the GGUF export against llama.cpp itself (through llama-cpp-python): the demo
model exported with a trained-looking random LoRA merged in, and a tiny random Qwen2 with
a byte-level BPE tokenizer, each in f32, f16 and q8_0. For every prompt it compares

- the tokens llama.cpp makes of the chat-templated prompt with transformers' tokens;
- the next-token logits at the end of the prompt (max |difference|, top-1 and top-5);
- the greedy continuation (up to --max-new-tokens, stopping at end of turn).

llama-cpp-python is not a dependency of the app; build it once from source:

    CMAKE_BUILD_PARALLEL_LEVEL=1 .venv/bin/pip install --no-binary llama-cpp-python llama-cpp-python

then run from the repository root:

    .venv/bin/python tests/benchmarks/check_gguf_llamacpp.py [--prompts 40]

It prints a Markdown table, one row per model and type.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from engine.demo import DEMO_MODEL_DIR  # noqa: E402
from engine.demo.task import demo_splits  # noqa: E402
from engine.export.gguf_file import write_gguf  # noqa: E402
from engine.export.merge import merge_adapter  # noqa: E402
from tests.engine.export.tiny_models import CORPUS, build_adapter, build_qwen2  # noqa: E402

DTYPES = ("f32", "f16", "q8_0")


def hf_side(folder: Path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
    return model, tokenizer


def prompt_ids(tokenizer, question: str) -> list[int]:
    messages = [{"role": "user", "content": question}]
    text = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    return tokenizer(text, add_special_tokens=False)["input_ids"], text


def hf_greedy(model, ids: list[int], max_new: int, stops: set[int]) -> tuple[list[int], np.ndarray]:
    out: list[int] = []
    first = None
    sequence = list(ids)
    with torch.no_grad():
        for _ in range(max_new):
            logits = model(torch.tensor([sequence])).logits[0, -1].numpy()
            if first is None:
                first = logits
            token = int(np.argmax(logits))
            out.append(token)
            if token in stops:
                break
            sequence.append(token)
    return out, first


def llama_greedy(
    llm, ids: list[int], max_new: int, stops: set[int]
) -> tuple[list[int], np.ndarray]:
    llm.reset()
    llm.eval(ids)
    out: list[int] = []
    first = None
    for _ in range(max_new):
        logits = np.array(llm.scores[llm.n_tokens - 1], dtype=np.float32)
        if first is None:
            first = logits
        token = int(np.argmax(logits))
        out.append(token)
        if token in stops:
            break
        llm.eval([token])
    return out, first


def check(name: str, folder: Path, questions: list[str], max_new: int, work: Path) -> list[str]:
    from llama_cpp import Llama

    model, tokenizer = hf_side(folder)
    stops = {tokenizer.eos_token_id}
    rows = []
    hf_runs = [(q, *prompt_ids(tokenizer, q)) for q in questions]
    hf_out = [hf_greedy(model, ids, max_new, stops) for _, ids, _ in hf_runs]
    for dtype in DTYPES:
        path = work / f"{name}-{dtype}.gguf"
        started = time.perf_counter()
        write_gguf(folder, path, dtype)
        seconds = time.perf_counter() - started
        llm = Llama(
            model_path=str(path),
            n_ctx=model.config.max_position_embeddings,
            logits_all=True,
            verbose=False,
            n_threads=1,
            n_batch=256,
        )
        same_tokens = same_greedy = top1 = top5 = 0
        max_diff = 0.0
        examples = []
        for (question, ids, text), (hf_tokens, hf_first) in zip(hf_runs, hf_out, strict=True):
            cpp_ids = llm.tokenize(text.encode(), add_bos=False, special=True)
            same_tokens += cpp_ids == ids
            cpp_tokens, cpp_first = llama_greedy(llm, ids, max_new, stops)
            same_greedy += cpp_tokens == hf_tokens
            if cpp_tokens != hf_tokens and len(examples) < 2:
                examples.append(
                    f"{question!r}: hf {tokenizer.decode(hf_tokens)!r} vs "
                    f"llama.cpp {tokenizer.decode(cpp_tokens)!r}"
                )
            max_diff = max(max_diff, float(np.max(np.abs(cpp_first - hf_first))))
            top1 += int(np.argmax(cpp_first) == np.argmax(hf_first))
            top5 += set(np.argsort(cpp_first)[-5:]) == set(np.argsort(hf_first)[-5:])
        n = len(questions)
        generated = sum(len(tokens) for tokens, _ in hf_out) / n
        rows.append(
            f"| {name} | {dtype} | {path.stat().st_size / 2**20:.2f} MiB | {seconds:.2f} s | "
            f"{same_tokens}/{n} | {same_greedy}/{n} ({generated:.1f} tokens) | {top1}/{n} | "
            f"{top5}/{n} | {max_diff:.2e} |"
        )
        for example in examples:
            rows.append(f"|   | {dtype} differs | {example} ||||||")
        del llm
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prompts", type=int, default=40)
    parser.add_argument("--max-new-tokens", type=int, default=24)
    args = parser.parse_args()
    torch.set_num_threads(1)
    import llama_cpp

    questions = [p.question for p in demo_splits()["eval"][: args.prompts]]
    # distinct prompts: the corpus lines cut at different lengths
    lines = list(dict.fromkeys(CORPUS))
    qwen_questions = [
        lines[i % len(lines)][: 8 + 3 * (i // len(lines))] for i in range(args.prompts)
    ]
    print(f"llama-cpp-python {llama_cpp.__version__}, gguf export from engine/export")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        demo = work / "demo-merged"
        demo.mkdir()
        adapter = build_adapter(DEMO_MODEL_DIR, work / "demo-adapter", scale=0.05)
        merge_adapter(DEMO_MODEL_DIR, adapter, demo, "f32")
        qwen = build_qwen2(work / "qwen2")
        print(
            "| model | type | size | export | same prompt tokens | same greedy output (mean length) | "
            "same top-1 | same top-5 | max abs logit diff (first step) |"
        )
        print("|---|---|---|---|---|---|---|---|---|")
        for line in check("demo+lora (llama, chars)", demo, questions, args.max_new_tokens, work):
            print(line, flush=True)
        for line in check("tiny qwen2 (byte BPE)", qwen, qwen_questions, args.max_new_tokens, work):
            print(line, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
