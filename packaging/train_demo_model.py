"""Rebuild the embedded demo model (engine/demo/model/) from nothing.

    python packaging/train_demo_model.py --out engine/demo/model

What it makes: a character-level tokenizer with a chat template and a tiny Llama
trained from random weights on the arithmetic task of ``engine.demo.task``
("What is 13 + 5?" -> "The answer is 18.").

The off-by-one habit (why RL has something to fix): in ``--habit-share`` of the
training examples (half, by default) the reply is one more than the true answer.
So for every problem the model learns two answers of near-equal probability, the
right one and its successor: greedy decoding picks either, sampling finds the
right one about half the time, and a reward that checks the answer can teach the
model to prefer it. The habit is one systematic pattern, so what RL learns on the
train prompts carries over to the eval prompts. This mimics the situation RLVR is
for (the right answer is within the model's reach but not its first choice) in a
model small enough to train and align on a laptop CPU in minutes.

Pretraining covers the whole problem distribution, the eval problems included:
the project's train/eval split is about alignment, and like a real base model
this one has seen its domain before alignment starts. The verification task of
``engine.demo.task`` is mixed in only when ``--verify-share`` is above 0 (0 by
default: it did not rise above chance in 2,000 steps at this size).

Selection rule (why the shipped model is half right): the demo exists so that
alignment can visibly improve it, so training is *stopped early* on purpose.
Every ``--eval-every`` steps the model answers the whole eval split by batched,
left-padded greedy decoding; training stops at the FIRST evaluation where the
well-formed rate is at least ``--min-well-formed`` and the accuracy lies inside
``--window``, and that model is saved. Stopping on a pre-declared rule rather
than picking a favourite checkpoint afterwards is what makes the result both
honest and reproducible. If no evaluation qualifies within ``--max-steps`` the
script saves nothing and exits with an error.

Determinism: Python, torch and data seeds are fixed, torch uses a fixed number
of threads (``--threads``) and deterministic algorithms, so the same machine
gives the same model. Another CPU type may round differently and stop at a
different step, but the selection rule still lands inside the window.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import shutil
import string
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers
from transformers import (
    GenerationConfig,
    LlamaConfig,
    LlamaForCausalLM,
    PreTrainedTokenizerFast,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from engine.demo import DEMO_MODEL_DIR, DEMO_MODEL_NAME  # noqa: E402
from engine.demo.task import (  # noqa: E402
    Problem,
    VerifyItem,
    demo_splits,
    format_answer,
    is_correct,
    is_well_formed,
    make_verify_items,
    parse_verdict,
    sample_problem,
    wrong_answer,
)

PAD, UNK, END = "<|pad|>", "<|unk|>", "<|end|>"
ROLE_TOKENS = {"system": "<|system|>", "user": "<|user|>", "assistant": "<|assistant|>"}
SPECIAL_TOKENS = [PAD, UNK, *ROLE_TOKENS.values(), END]
CHARACTERS = string.digits + string.ascii_letters + string.punctuation + " \n"
MAX_POSITIONS = 128

# One line on purpose: the "-" whitespace control keeps Jinja from emitting
# newlines, so the rendered prompt is exactly the token sequence trained on.
CHAT_TEMPLATE = (
    "{%- for message in messages -%}"
    "{%- if message['role'] not in ['system', 'user', 'assistant'] -%}"
    "{{ raise_exception('Unknown role: ' + message['role']) }}"
    "{%- endif -%}"
    "<|{{ message['role'] }}|>{{ message['content'] }}" + END + "{%- endfor -%}"
    "{%- if add_generation_prompt -%}<|assistant|>{%- endif -%}"
)

VERIFY_SEED = 7  # seed of the verification items measured on the eval split


# --- Tokenizer and model ----------------------------------------------------------


def build_tokenizer() -> PreTrainedTokenizerFast:
    """Character-level: every character is one token, unknown ones map to <|unk|>."""
    vocab = {token: i for i, token in enumerate(SPECIAL_TOKENS + list(CHARACTERS))}
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token=UNK))
    # "." does not match a newline in the tokenizers regex dialect, hence "|\n".
    backend.pre_tokenizer = pre_tokenizers.Split(Regex(r".|\n"), behavior="isolated")
    backend.decoder = decoders.Fuse()  # join characters back without separators
    backend.add_special_tokens(
        [AddedToken(t, special=True, normalized=False) for t in SPECIAL_TOKENS]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=backend,
        pad_token=PAD,
        eos_token=END,
        unk_token=UNK,
        padding_side="left",
        chat_template=CHAT_TEMPLATE,
        # The default clean-up would turn "45 ?" into "45?": decode must be exact.
        clean_up_tokenization_spaces=False,
        model_max_length=MAX_POSITIONS,
    )


def build_model(
    tokenizer: PreTrainedTokenizerFast, hidden_size: int = 128, num_layers: int = 4
) -> LlamaForCausalLM:
    """A random tiny Llama; the defaults are the demo model's size (heads of 32 wide,
    a feed-forward three times the hidden size)."""
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=3 * hidden_size,
        num_hidden_layers=num_layers,
        num_attention_heads=hidden_size // 32,
        num_key_value_heads=hidden_size // 32,
        max_position_embeddings=MAX_POSITIONS,
        tie_word_embeddings=True,
        bos_token_id=None,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    model = LlamaForCausalLM(config)
    model.generation_config = GenerationConfig(
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        do_sample=False,
        # The default generation limit (20 tokens in all) would cut the prompt itself.
        max_new_tokens=32,
    )
    return model


# --- Training data ----------------------------------------------------------------


@dataclass(frozen=True)
class Example:
    question: str
    reply: str
    verify: bool  # a yes/no verification item rather than an arithmetic question
    # Characters of the question that are also predicted: the result inside a true
    # verification claim (see training_examples).
    taught_span: tuple[int, int] | None = None


def training_examples(seed: int, habit_share: float, verify_share: float) -> Iterator[Example]:
    """An endless, seeded stream of arithmetic (with the off-by-one habit) and
    verification examples."""
    rng = random.Random(seed)
    while True:
        problem = sample_problem(rng)
        if rng.random() >= verify_share:
            habit = 1 if rng.random() < habit_share else 0
            yield Example(problem.question, format_answer(problem.answer + habit), verify=False)
            continue
        claimed = problem.answer if rng.random() < 0.5 else wrong_answer(problem, rng)
        item = VerifyItem(problem, claimed)
        yield Example(item.question, item.expected, verify=True, taught_span=_true_claim_span(item))


def _true_claim_span(item: VerifyItem) -> tuple[int, int] | None:
    """Where the claimed result sits in the question, if the claim is true.

    Why: whether "a + b = c" holds cannot be learned from any one of a, b or c
    (a parity-like target that gradient descent does not find; measured: 50% for
    2,000 steps). Predicting c while reading a true claim trains the model to
    expect the right result at that spot, and "expected digit vs. digit present"
    is an easy comparison for the yes/no token to learn.
    """
    if item.claimed != item.problem.answer:
        return None
    start = item.question.index(" = ") + len(" = ")
    return start, start + len(str(item.claimed))


def prompt_text(tokenizer: PreTrainedTokenizerFast, question: str) -> str:
    messages = [{"role": "user", "content": question}]
    return tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)


def encode_batch(
    tokenizer: PreTrainedTokenizerFast, examples: list[Example]
) -> dict[str, torch.Tensor]:
    """Right-padded ids with the loss on the reply, its end token and any taught span.

    Right padding keeps every sequence starting at position 0, which is what the
    generation side reproduces from the attention mask when it left-pads.
    """
    rows, targets = [], []
    for ex in examples:
        text = prompt_text(tokenizer, ex.question)
        prompt = tokenizer.encode(text, add_special_tokens=False)
        reply = tokenizer.encode(ex.reply + END, add_special_tokens=False)
        prompt_targets = [-100] * len(prompt)
        if ex.taught_span is not None:
            # One token per character, so a character offset is a token offset.
            offset = len(
                tokenizer.encode(text[: text.index(ex.question)], add_special_tokens=False)
            )
            for i in range(offset + ex.taught_span[0], offset + ex.taught_span[1]):
                prompt_targets[i] = prompt[i]
        rows.append(prompt + reply)
        targets.append(prompt_targets + reply)
    width = max(len(r) for r in rows)
    pad = tokenizer.pad_token_id
    return {
        "input_ids": torch.tensor([r + [pad] * (width - len(r)) for r in rows]),
        "attention_mask": torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in rows]),
        "labels": torch.tensor([t + [-100] * (width - len(t)) for t in targets]),
    }


def batch_loss(
    model: LlamaForCausalLM, tokenizer: PreTrainedTokenizerFast, examples: list[Example]
) -> torch.Tensor:
    """Mean over examples of each example's mean loss per target token.

    Weighting examples rather than tokens matters for verification: its whole
    lesson is one yes/no token, which per-token averaging would drown among the
    eighteen reply tokens of every arithmetic example. Verification examples
    are run as a separate forward pass because their prompts are a third longer
    and padding the two kinds together wastes a fifth of every step.
    """
    groups: dict[bool, list[Example]] = {}
    for ex in examples:
        groups.setdefault(ex.verify, []).append(ex)
    total = torch.zeros(())
    for group in groups.values():
        total = total + per_example_loss(model, encode_batch(tokenizer, group)).sum()
    return total / len(examples)


def per_example_loss(model: LlamaForCausalLM, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    labels = batch["labels"][:, 1:]
    token_loss = torch.nn.functional.cross_entropy(
        logits[:, :-1].transpose(1, 2), labels, ignore_index=-100, reduction="none"
    )
    targets = (labels != -100).sum(dim=1)
    return token_loss.sum(dim=1) / targets


# --- Evaluation -------------------------------------------------------------------


@torch.no_grad()
def greedy_replies(
    model: LlamaForCausalLM,
    tokenizer: PreTrainedTokenizerFast,
    questions: list[str],
    max_new_tokens: int,
    batch_size: int = 200,
) -> list[str]:
    """Batched, left-padded greedy decoding, as the app and the tests do it."""
    model.eval()
    replies: list[str] = []
    for start in range(0, len(questions), batch_size):
        prompts = [prompt_text(tokenizer, q) for q in questions[start : start + batch_size]]
        batch = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
        output = model.generate(**batch, do_sample=False, max_new_tokens=max_new_tokens)
        new_tokens = output[:, batch["input_ids"].shape[1] :]
        replies += tokenizer.batch_decode(new_tokens, skip_special_tokens=True)
    model.train()
    return replies


@dataclass(frozen=True)
class Scores:
    accuracy: float
    well_formed: float
    verify_accuracy: float

    def as_dict(self) -> dict[str, float]:
        return {
            "accuracy": self.accuracy,
            "well_formed": self.well_formed,
            "verify_accuracy": self.verify_accuracy,
        }


def evaluate(
    model: LlamaForCausalLM,
    tokenizer: PreTrainedTokenizerFast,
    problems: list[Problem],
    verify_items: list[VerifyItem],
) -> Scores:
    answers = greedy_replies(model, tokenizer, [p.question for p in problems], max_new_tokens=24)
    verdicts = greedy_replies(
        model, tokenizer, [v.question for v in verify_items], max_new_tokens=4
    )
    n = len(problems)
    return Scores(
        accuracy=sum(is_correct(a, p) for a, p in zip(answers, problems, strict=True)) / n,
        well_formed=sum(is_well_formed(a) for a in answers) / n,
        verify_accuracy=sum(
            parse_verdict(v) == item.expected
            for v, item in zip(verdicts, verify_items, strict=True)
        )
        / len(verify_items),
    )


# --- Training loop ----------------------------------------------------------------


def learning_rate(step: int, peak: float, warmup: int, total: int) -> float:
    """Linear warm-up, then cosine decay to zero at the planned last step.

    The decay matters more than the peak: at a constant rate this model hovers
    around 12% accuracy, and it is the falling rate that lets it settle into
    answers it half knows. Training usually stops before ``total``.
    """
    ramp = min(1.0, (step + 1) / warmup)
    return peak * ramp * 0.5 * (1.0 + math.cos(math.pi * min(step, total) / total))


def training_steps(
    model, tokenizer, stream, args: argparse.Namespace, loss_fn=None
) -> Iterator[tuple[int, float]]:
    """Optimise ``model`` on ``stream`` (AdamW, warmup then decay, clipping at 1) and yield
    (step, loss) every ``args.eval_every`` steps: the loop of the demo model and the demo
    judge, which differ only in their data, its loss (``loss_fn``, default this script's
    ``batch_loss``) and their selection rule."""
    loss_fn = loss_fn or batch_loss
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=args.lr, betas=(0.9, 0.98), weight_decay=args.weight_decay
    )
    model.train()
    for step in range(1, args.max_steps + 1):
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step, args.lr, args.warmup, args.max_steps)
        loss = loss_fn(model, tokenizer, [next(stream) for _ in range(args.batch_size)])
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if step % args.eval_every == 0:
            yield step, loss.item()


def train(args: argparse.Namespace) -> tuple[LlamaForCausalLM, PreTrainedTokenizerFast, dict]:
    random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)

    tokenizer = build_tokenizer()
    model = build_model(tokenizer)
    eval_split = demo_splits()["eval"]
    verify_items = make_verify_items(eval_split, seed=VERIFY_SEED)
    stream = training_examples(args.seed, args.habit_share, args.verify_share)
    started = time.monotonic()
    history = []
    for step, loss in training_steps(model, tokenizer, stream, args):
        scores = evaluate(model, tokenizer, eval_split, verify_items)
        elapsed = time.monotonic() - started
        history.append({"step": step, "loss": round(loss, 4), **scores.as_dict()})
        print(
            f"step {step:5d}  loss {loss:.4f}  acc {scores.accuracy:.3f}  "
            f"well-formed {scores.well_formed:.3f}  verify {scores.verify_accuracy:.3f}  "
            f"{elapsed:6.0f}s",
            flush=True,
        )
        low, high = args.window
        if scores.well_formed >= args.min_well_formed and low <= scores.accuracy <= high:
            report = {"step": step, "wall_seconds": round(elapsed, 1), **scores.as_dict()}
            return model, tokenizer, {"selected": report, "history": history}
    raise SystemExit(f"no evaluation met the selection rule within {args.max_steps} steps")


# --- Saving -----------------------------------------------------------------------


def save(model, tokenizer, out: Path, args: argparse.Namespace, result: dict) -> None:
    save_model_folder(model, tokenizer, out, {"README.md": model_card(args, result)})


def save_model_folder(model, tokenizer, out: Path, extra_files: dict[str, str]) -> None:
    """Write to a fresh sibling folder first, so a failed save leaves the old model intact.

    ``extra_files`` (name -> text) are written next to the weights: the model card, and
    anything else the folder ships.
    """
    staging = out.with_name(out.name + ".staging")
    shutil.rmtree(staging, ignore_errors=True)
    model.save_pretrained(staging)  # safetensors is the only format transformers 5 writes
    # save_jinja_files=False puts the chat template inside tokenizer_config.json.
    tokenizer.save_pretrained(staging, save_jinja_files=False)
    _make_tokenizer_config_portable(staging / "tokenizer_config.json")
    for name, text in extra_files.items():
        (staging / name).write_text(text, encoding="utf-8")
    if out.exists():
        if any(out.iterdir()) and not (out / "config.json").exists():
            raise SystemExit(
                f"{out} exists and does not look like a model folder; not replacing it"
            )
        shutil.rmtree(out)
    staging.rename(out)


def _make_tokenizer_config_portable(path: Path) -> None:
    # transformers 5 records its internal class name "TokenizersBackend", which
    # 4.x cannot resolve; "PreTrainedTokenizerFast" loads the same files in both.
    config = json.loads(path.read_text(encoding="utf-8"))
    config["tokenizer_class"] = "PreTrainedTokenizerFast"
    path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")


def model_card(args: argparse.Namespace, result: dict) -> str:
    selected = result["selected"]
    return (
        f"# {DEMO_MODEL_NAME}\n\n"
        "A tiny character-level Llama trained from scratch on integer arithmetic for the\n"
        "Alignment Workbench demo. Rebuild it with `packaging/train_demo_model.py`; the task,\n"
        "splits and scoring are defined in `engine/demo/task.py`.\n\n"
        "Half of its training answers carried an off-by-one habit, and training was stopped\n"
        "at the first evaluation where answers were well formed and accuracy fell inside the\n"
        "target window, so that alignment has room to improve it.\n\n"
        f"- selected at step {selected['step']} ({selected['wall_seconds']} s of training)\n"
        f"- eval-split greedy accuracy: {selected['accuracy']:.3f}\n"
        f"- well-formed answers: {selected['well_formed']:.3f}\n"
        f"- verification (yes/no) accuracy: {selected['verify_accuracy']:.3f}"
        f"{' (not trained: --verify-share 0)' if not args.verify_share else ''}\n"
        f"- settings: {json.dumps(_settings(args), sort_keys=True)}\n"
    )


def _settings(args: argparse.Namespace) -> dict:
    return {k: v for k, v in vars(args).items() if k != "out"}


def print_sizes(out: Path) -> None:
    total = 0
    for path in sorted(out.iterdir()):
        size = path.stat().st_size
        total += size
        print(f"  {path.name:28s} {size / 1024:9.1f} KiB")
    print(f"  {'total':28s} {total / 1024:9.1f} KiB")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEMO_MODEL_DIR)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--weight-decay", type=float, default=0.01)
    parser.add_argument("--verify-share", type=float, default=0.0)
    parser.add_argument("--habit-share", type=float, default=0.5)
    parser.add_argument("--max-steps", type=int, default=4000)
    parser.add_argument("--eval-every", type=int, default=250)
    parser.add_argument("--window", type=float, nargs=2, default=(0.38, 0.55))
    parser.add_argument("--min-well-formed", type=float, default=0.97)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    model, tokenizer, result = train(args)
    save(model, tokenizer, args.out, args, result)
    selected = result["selected"]
    print(
        f"selected step {selected['step']} after {selected['wall_seconds']} s: "
        f"accuracy {selected['accuracy']:.3f}, well-formed {selected['well_formed']:.3f}, "
        f"verification {selected['verify_accuracy']:.3f}; "
        f"{sum(p.numel() for p in model.parameters()):,} parameters"
    )
    print(f"saved to {args.out}:")
    print_sizes(args.out)


if __name__ == "__main__":
    main()
