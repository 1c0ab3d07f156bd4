"""Rebuild the demo judge (engine/demo/judge/) from nothing.

    python packaging/train_demo_judge.py --out engine/demo/judge

What it makes: a tiny Llama, separate from the demo model but with the same
character-level tokenizer and chat template (``build_tokenizer``/``build_model``
of ``train_demo_model.py``), trained from random weights to compare two answers
to a demo question and name the right one. It is read as a pairwise judge: the
judge input is rendered from the template that ``judge.json`` records,

    user_text = TEMPLATE.format(prompt=question, first=answer_a, second=answer_b, criteria="")

as the single user turn of the chat template with the generation prompt, and the
verdict is the softmax over the next-token logits of "A" and "B" (the model is
trained to reply "A" or "B" and then end its turn). The template ends with the
second answer on purpose: the verdict token then sits two tokens after the end of
answer B, where the model has just checked it.

Training data (an endless, seeded stream over the whole problem distribution of
``engine.demo.task``, like the demo model's pretraining): pairs of the correct
answer and a wrong one, shown in random order, the reply naming the correct one.
``--off-by-one-share`` of the wrong answers are the true result plus or minus one
(the demo model's habit is plus one; both signs are used so that "pick the
smaller number" is no shortcut); the rest come from ``task.wrong_answer`` (off by
one or two, off by ten or twenty, a wrong sign, a wider offset). Aids that make
the comparison learnable at this size (``--aids``):

- ``--answer-share`` of the examples are plain arithmetic questions answered
  correctly (no off-by-one habit), which teaches the arithmetic the judge checks;
- "checker" (the default): inside each judge input, over the number and full stop
  of both answers, the model also predicts, character by character, the next
  character of the correct result while what it has read so far matches it, "n"
  from the first character that differs on, and "y" after the full stop of the
  right answer. So "expected vs. present" is taught exactly where the mismatch
  becomes visible, and each answer ends with its own verdict for the A/B token to
  read. The reply's tokens weigh ``--reply-weight`` times these.
- "span-marks" (tried first): only the correct answer's characters are predicted
  (the "taught span" of ``train_demo_model.py``) plus "y"/"n" at both full stops;
  "none": no extra targets.

Pilot runs (1 thread, batch 64, lr 3e-3, 128 wide; pairwise accuracy on the eval
split, both orders; off-by-one / other wrong answers):

- no aid, 4 layers: chance (0.50) for 500 steps while the arithmetic loss fell;
  the correct answer's span alone (no marks): chance for 800 steps;
- "span-marks", 4 layers: one run 0.99 / 0.89 at 2,000-2,400 steps (stuck below
  0.9 on other answers), another, with another template, at chance for 1,800 steps:
  the comparison is learned suddenly, at a step that varies from run to run;
- "checker", 4 layers: the comparison was learned by step 500-700 in every run,
  but two runs of four stalled near 0.7 on off-by-one answers (0.73 / 0.95 after
  3,000 steps) although they predicted the correct digits (0.99): the last digit
  was not checked reliably. Two others met the rule, and with the reply weighted
  4x a run scored 1.00 on off-by-one answers but 0.74 on answers off by two: an
  answer off by one has the wrong parity, a shortcut;
- "checker", 6 layers, 20% of wrong answers off by two (same parity): met the rule
  at step 1,600 (0.999 / 0.925, off by two 0.84). These are the defaults.

Stage 2 (``--both-wrong-share``, on by default): a judge trained only on a right
and a wrong answer still names a winner, confidently, when both are wrong, and a
labeller that pairs a prompt's samples meets such pairs half the time (741 of
1,463 on the demo). Measured with the stage-1 judge: 583 of those 733 labels chose
the answer farther from the truth, 354 rejected the demo model's off-by-one habit
for another wrong answer, and DPO on its labels alone reached 42.0% (base 39.0%)
against 51.0% once those pairs were left out. So stage 2 goes on from stage 1 with ``--both-wrong-share``
of the judge pairs showing two wrong answers and the reply drawn A or B at random,
whose loss is least at P(A) = 1/2; labelling with a tie margin then turns them
into ties (the demo's: 700 of 741), which training leaves out.

Stage 3 (``--init`` on the stage-2 folder, ``--select last``): the stage-2 judge still
decided many pairs of two wrong answers by parity: asked "-4 or -5" for 7 - 13 (the
answer -6) it named -4, sure of it (0.91), because an answer off by one has the wrong
parity and one off by two does not; on the demo's candidates 41 of its 733 verdicts
chose between two wrong answers so, and DPO learned them. Stage 3 goes on from it with
30% of the wrong answers off by one and 40% off by two (so two-wrong pairs of one of each
are common), a fresh data seed, for a fixed 1,500 steps, keeping the last model (the
rule declared before it ran). On the same candidates: 3 such verdicts of 724.

Selection rule, declared before training: every ``--eval-every`` steps the judge
is measured on the 200 eval-split problems (pairs with the answer plus one, minus
one, and another wrong answer that is not off by one, each in both orders; and
the answer plus one beside that other wrong answer); each stage stops at the
FIRST evaluation where the both-order accuracy reaches ``--target`` on the
off-by-one pairs and on the other pairs and, in stage 2, at least ``--tie-target``
of the two-wrong pairs get an order-averaged verdict within ``--tie-margin`` of
1/2. The model of the last stage is saved. If a stage meets no evaluation within
its steps the script saves nothing and exits with an error.

Determinism: Python, torch and data seeds are fixed, torch uses ``--threads``
threads (1 by default) and deterministic algorithms.
"""

from __future__ import annotations

import argparse
import functools
import json
import random
import re
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import LlamaForCausalLM

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from train_demo_model import (  # noqa: E402
    END,
    build_model,
    build_tokenizer,
    print_sizes,
    prompt_text,
    save_model_folder,
    training_steps,
)

from engine.demo import DEMO_JUDGE_DIR, DEMO_MODEL_NAME  # noqa: E402
from engine.demo.task import (  # noqa: E402
    Problem,
    demo_splits,
    format_answer,
    sample_problem,
    wrong_answer,
)

JUDGE_NAME = "workbench-demo-judge"
INIT_STAGE = "stage 3: more same-parity wrong answers, from the stage-2 judge (--init)"
# Short on purpose: the context is 128 characters. {criteria} is left out.
TEMPLATE = "{prompt} A: {first} B: {second}"
CHOICES = ("A", "B")
EVAL_PAIR_SEED = 11  # seed of the "other wrong answer" drawn for each eval problem


def render_user_text(question: str, first: str, second: str) -> str:
    return TEMPLATE.format(prompt=question, first=first, second=second, criteria="")


def judge_config(tie_margin: float) -> dict:
    """judge.json: how to ask the judge, and the tie margin its labels should be read with
    (two wrong answers come out near 1/2)."""
    return {
        "mode": "pairwise",
        "template": TEMPLATE,
        "choices": list(CHOICES),
        "criteria": "",
        "tie_margin": tie_margin,
    }


# --- Training data ----------------------------------------------------------------


@dataclass(frozen=True)
class Pair:
    """Two answers to ``problem`` as shown: A (``first_value``) and B (``second_value``)."""

    problem: Problem
    first_value: int
    second_value: int

    @classmethod
    def of(cls, problem: Problem, wrong: int, correct_first: bool) -> Pair:
        answer = problem.answer
        return cls(problem, answer, wrong) if correct_first else cls(problem, wrong, answer)

    @property
    def first(self) -> str:
        return format_answer(self.first_value)

    @property
    def second(self) -> str:
        return format_answer(self.second_value)

    @property
    def wrong(self) -> int:
        return self.second_value if self.first_value == self.problem.answer else self.first_value

    @property
    def user_text(self) -> str:
        return render_user_text(self.problem.question, self.first, self.second)

    @property
    def label(self) -> str | None:
        """The choice naming the correct answer; None when neither is correct."""
        if self.first_value == self.problem.answer:
            return CHOICES[0]
        return CHOICES[1] if self.second_value == self.problem.answer else None

    def swapped(self) -> Pair:
        return Pair(self.problem, self.second_value, self.first_value)

    def number_starts(self) -> tuple[int, int]:
        """Where the numbers of answer A and answer B start in ``user_text``."""
        head = TEMPLATE[: TEMPLATE.index("{first}")].format(prompt=self.problem.question)
        between = TEMPLATE[TEMPLATE.index("{first}") + len("{first}") : TEMPLATE.index("{second}")]
        prefix = len(format_answer(0)) - len("0.")  # "The answer is "
        first = len(head) + prefix
        return first, len(head) + len(self.first) + len(between) + prefix


def draw_wrong(
    problem: Problem, rng: random.Random, off_by_one_share: float, off_by_two_share: float
) -> int:
    """Off by one, off by two (same parity as the answer, so parity alone cannot tell
    it apart), or any ``wrong_answer``."""
    draw = rng.random()
    if draw < off_by_one_share:
        return problem.answer + rng.choice((-1, 1))
    if draw < off_by_one_share + off_by_two_share:
        return problem.answer + rng.choice((-2, 2))
    return wrong_answer(problem, rng)


@dataclass(frozen=True)
class Example:
    """One training sequence: ``question`` as the user turn, ``reply`` as the assistant
    turn, and extra targets inside the question: (character index, token) pairs, the
    token being what the model must predict at that character's position."""

    question: str
    reply: str
    judge: bool
    targets: tuple[tuple[int, str], ...] = ()


MARK_RIGHT, MARK_WRONG = "y", "n"
AIDS = ("none", "span-marks", "checker")


def judge_targets(pair: Pair, aids: str) -> tuple[tuple[int, str], ...]:
    """Extra targets inside a judge input, read over the number and full stop of each
    answer ("18." against the expected "18.").

    "span-marks": the correct answer's characters are predicted, each from the one
    before it (the taught span of ``train_demo_model.py``); at the full stop ending
    each answer, "y" if it is right, else "n".
    "checker": the same, over both answers, as a running check: while the characters
    so far match the expected ones, the next expected character is predicted; from
    the first character that differs on, "n"; at the full stop of a right answer "y".
    The first "n" sits exactly where the mismatch is visible, so comparing
    "expected vs. present" is taught where it can be computed, and the verdict at the
    full stop is then carried forward only a few characters.
    """
    if aids == "none":
        return ()
    text = pair.user_text
    expected = f"{pair.problem.answer}."
    targets: list[tuple[int, str]] = []
    for start in pair.number_starts():
        shown = text[start : text.index(".", start) + 1]
        right = shown == expected
        if aids == "checker" or right:
            for i in range(len(shown)):
                matching = shown[:i] == expected[:i]
                if aids == "span-marks" or matching:
                    targets.append((start + i - 1, expected[i]))
                else:
                    targets.append((start + i - 1, MARK_WRONG))
        targets.append((start + len(shown) - 1, MARK_RIGHT if right else MARK_WRONG))
    return tuple(targets)


def training_examples(
    seed: int,
    off_by_one_share: float,
    off_by_two_share: float,
    answer_share: float,
    aids: str,
    both_wrong_share: float = 0.0,
) -> Iterator[Example]:
    """Judge pairs (reply "A" or "B") and plain, correct answers. ``both_wrong_share`` of
    the judge pairs show two different wrong answers, the reply drawn A or B at random:
    the loss is then least at P(A) = P(B) = 1/2, so the judge learns to say it cannot
    tell, and a tie margin turns that into a tie instead of a confident arbitrary label
    (which DPO would learn from as if it were a preference)."""
    rng = random.Random(seed)
    while True:
        problem = sample_problem(rng)
        if rng.random() < answer_share:
            yield Example(problem.question, format_answer(problem.answer), judge=False)
            continue
        wrong = draw_wrong(problem, rng, off_by_one_share, off_by_two_share)
        # No draw at share 0, so that stage 1's stream is the same with and without stage 2.
        if both_wrong_share and rng.random() < both_wrong_share:
            other = draw_wrong(problem, rng, off_by_one_share, off_by_two_share)
            while other == wrong:
                other = draw_wrong(problem, rng, off_by_one_share, off_by_two_share)
            pair = Pair(problem, wrong, other)
            reply = rng.choice(CHOICES)
        else:
            pair = Pair.of(problem, wrong, correct_first=rng.random() < 0.5)
            reply = pair.label
        yield Example(pair.user_text, reply, judge=True, targets=judge_targets(pair, aids))


def encode_batch(tokenizer, examples: list[Example]) -> dict[str, torch.Tensor]:
    """Right-padded ids; labels on the reply, its end token and the extra targets
    (``labels[i]`` is predicted at position ``i - 1``, as in ``train_demo_model.py``),
    and ``reply`` marking the reply's labels."""
    rows, labels, replies = [], [], []
    for ex in examples:
        text = prompt_text(tokenizer, ex.question)
        prompt = tokenizer.encode(text, add_special_tokens=False)
        reply = tokenizer.encode(ex.reply + END, add_special_tokens=False)
        row_labels = [-100] * len(prompt)
        # One token per character, so a character offset is a token offset.
        offset = len(tokenizer.encode(text[: text.index(ex.question)], add_special_tokens=False))
        for index, token in ex.targets:
            row_labels[offset + index + 1] = tokenizer.convert_tokens_to_ids(token)
        rows.append(prompt + reply)
        labels.append(row_labels + reply)
        replies.append([False] * len(prompt) + [True] * len(reply))
    width = max(len(r) for r in rows)
    pad = tokenizer.pad_token_id
    return {
        "input_ids": torch.tensor([r + [pad] * (width - len(r)) for r in rows]),
        "attention_mask": torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in rows]),
        "labels": torch.tensor([t + [-100] * (width - len(t)) for t in labels]),
        "reply": torch.tensor([r + [False] * (width - len(r)) for r in replies]),
    }


def per_example_loss(model, batch: dict[str, torch.Tensor], reply_weight: float) -> torch.Tensor:
    """Each example's weighted mean loss per target token, the reply's tokens weighing
    ``reply_weight`` times the others (1: the demo model's per-example mean)."""
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    labels = batch["labels"][:, 1:]
    token_loss = torch.nn.functional.cross_entropy(
        logits[:, :-1].transpose(1, 2), labels, ignore_index=-100, reduction="none"
    )
    weights = (labels != -100).float() * torch.where(batch["reply"][:, 1:], reply_weight, 1.0)
    return (token_loss * weights).sum(dim=1) / weights.sum(dim=1)


def batch_loss(model, tokenizer, examples: list[Example], reply_weight: float) -> torch.Tensor:
    """Mean over examples of ``per_example_loss``; judge pairs and plain answers in
    separate forward passes (their lengths differ by half)."""
    total = torch.zeros(())
    for kind in (True, False):
        group = [ex for ex in examples if ex.judge is kind]
        if group:
            total = (
                total + per_example_loss(model, encode_batch(tokenizer, group), reply_weight).sum()
            )
    return total / len(examples)


# --- Evaluation -------------------------------------------------------------------


def eval_pairs(problems: list[Problem]) -> dict[str, list[Pair]]:
    """Per eval problem: the answer plus one (the demo model's habit), minus one, and
    another wrong answer (not off by one), all with the correct answer shown first; and
    the answer plus one beside that other wrong answer (no correct answer)."""
    rng = random.Random(EVAL_PAIR_SEED)
    other = []
    for p in problems:
        wrong = wrong_answer(p, rng)
        while abs(wrong - p.answer) == 1:
            wrong = wrong_answer(p, rng)
        other.append(Pair.of(p, wrong, correct_first=True))
    return {
        "plus_one": [Pair.of(p, p.answer + 1, True) for p in problems],
        "minus_one": [Pair.of(p, p.answer - 1, True) for p in problems],
        "other": other,
        "both_wrong": [
            Pair(p, p.answer + 1, o.wrong) for p, o in zip(problems, other, strict=True)
        ],
    }


@torch.no_grad()
def prob_first(model, tokenizer, user_texts: list[str], batch_size: int = 200) -> list[float]:
    """P("A") of the softmax over the next-token logits of "A" and "B", read as the
    judge engine reads it (chat template, generation prompt, left padding)."""
    ids = [tokenizer.encode(c, add_special_tokens=False)[0] for c in CHOICES]
    was_training = model.training
    model.eval()
    out: list[float] = []
    for start in range(0, len(user_texts), batch_size):
        prompts = [prompt_text(tokenizer, t) for t in user_texts[start : start + batch_size]]
        batch = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
        logits = model(**batch).logits[:, -1, ids]
        out += torch.softmax(logits.float(), dim=-1)[:, 0].tolist()
    model.train(was_training)
    return out


def summarize(p_shown: list[float], p_swapped: list[float]) -> dict[str, float]:
    """``p_shown``: P("A") with the correct answer as A; ``p_swapped``: as B."""
    n = len(p_shown)
    first_ok = sum(p > 0.5 for p in p_shown) / n  # correct answer shown as A
    second_ok = sum(q < 0.5 for q in p_swapped) / n  # correct answer shown as B
    averaged = [(p + 1.0 - q) / 2 for p, q in zip(p_shown, p_swapped, strict=True)]
    return {
        "accuracy": (first_ok + second_ok) / 2,
        "accuracy_correct_as_a": first_ok,
        "accuracy_correct_as_b": second_ok,
        "accuracy_order_averaged": sum(a > 0.5 for a in averaged) / n,
        "prob_correct": sum(averaged) / n,
        "inconsistency": sum(abs(p - (1.0 - q)) for p, q in zip(p_shown, p_swapped, strict=True))
        / n,
        "pairs": n,
    }


def wrong_kind(pair: Pair) -> str:
    answer, wrong = pair.problem.answer, pair.wrong
    if wrong == -answer:
        return "wrong_sign"
    if abs(wrong - answer) <= 2:
        return "off_by_one_or_two"
    if abs(wrong - answer) in (10, 20):
        return "off_by_ten_or_twenty"
    return "wider_offset"


@torch.no_grad()
def aid_scores(model, tokenizer, pairs: list[Pair]) -> dict[str, float]:
    """How well the training aids are learned (teacher-forced, argmax): the whole taught
    span (the correct result and its full stop), and the per-answer marks."""
    examples = [Example(p.user_text, p.label, True, judge_targets(p, "span-marks")) for p in pairs]
    was_training = model.training
    model.eval()
    batch = encode_batch(tokenizer, examples)
    predicted = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    predicted = predicted[:, :-1].argmax(-1)
    labels = batch["labels"][:, 1:]
    model.train(was_training)
    marks = {tokenizer.convert_tokens_to_ids(t) for t in (MARK_RIGHT, MARK_WRONG)}
    span_ok, marks_ok = [], []
    for row_pred, row_labels in zip(predicted.tolist(), labels.tolist(), strict=True):
        row_span, row_marks = True, []
        for pred, label in zip(row_pred, row_labels, strict=True):
            if label in marks:
                row_marks.append(pred == label)
            elif label >= 0 and label not in (
                tokenizer.eos_token_id,
                *[tokenizer.convert_tokens_to_ids(c) for c in CHOICES],
            ):
                row_span &= pred == label
        span_ok.append(row_span)
        marks_ok += row_marks
    return {"span": sum(span_ok) / len(span_ok), "marks": sum(marks_ok) / len(marks_ok)}


def tie_scores(p_shown: list[float], p_swapped: list[float], margin: float) -> dict[str, float]:
    """Pairs with no correct answer: how far the order-averaged verdict strays from 1/2,
    and the share a tie margin of ``margin`` turns into ties."""
    averaged = [(p + 1.0 - q) / 2 for p, q in zip(p_shown, p_swapped, strict=True)]
    gaps = [abs(a - 0.5) for a in averaged]
    return {
        "tie_rate": sum(g < margin for g in gaps) / len(gaps),
        "mean_gap": sum(gaps) / len(gaps),
        "pairs": len(gaps),
    }


def evaluate(
    model, tokenizer, pairs: dict[str, list[Pair]], tie_margin: float
) -> dict[str, dict[str, float]]:
    scores = {}
    for name, group in pairs.items():
        p_shown = prob_first(model, tokenizer, [p.user_text for p in group])
        p_swapped = prob_first(model, tokenizer, [p.swapped().user_text for p in group])
        if name == "both_wrong":
            scores[name] = tie_scores(p_shown, p_swapped, tie_margin)
            continue
        scores[name] = summarize(p_shown, p_swapped)
        if name == "other":  # broken down by the kind of wrong answer
            for kind in sorted({wrong_kind(p) for p in group}):
                idx = [i for i, p in enumerate(group) if wrong_kind(p) == kind]
                scores[f"other_{kind}"] = summarize(
                    [p_shown[i] for i in idx], [p_swapped[i] for i in idx]
                )
    scores["aids"] = aid_scores(model, tokenizer, pairs["plus_one"] + pairs["other"])
    both = [scores["plus_one"], scores["minus_one"]]
    scores["off_by_one"] = {k: (both[0][k] + both[1][k]) / 2 for k in both[0] if k != "pairs"}
    scores["off_by_one"]["pairs"] = both[0]["pairs"] + both[1]["pairs"]
    return scores


# --- Training loop ----------------------------------------------------------------


def train(args: argparse.Namespace):
    """Stage 1 (unless ``--init``): from random weights, right against wrong answers.
    Stage 2 (if ``--both-wrong-share`` > 0): from stage 1's model, with pairs of two
    wrong answers added, until the judge also calls most of those a tie."""
    global TEMPLATE
    TEMPLATE = args.template  # what judge.json will hold
    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    tokenizer = build_tokenizer()
    pairs = eval_pairs(demo_splits()["eval"])
    stages = []
    if args.init is not None:  # go on from a judge this script made before
        model = LlamaForCausalLM.from_pretrained(args.init, dtype=torch.float32)
    else:
        torch.manual_seed(args.seed)
        model = build_model(tokenizer, hidden_size=args.hidden, num_layers=args.layers)
        first = argparse.Namespace(**{**vars(args), "both_wrong_share": 0.0, "tie_target": 0.0})
        stages.append(run_stage("stage 1: right against wrong", model, tokenizer, pairs, first))
    if args.both_wrong_share > 0:
        second = argparse.Namespace(
            **{
                **vars(args),
                "lr": args.tie_lr,
                "warmup": args.tie_warmup,
                "max_steps": args.tie_steps,
                "eval_every": args.tie_eval_every,
            }
        )
        name = INIT_STAGE if args.init is not None else "stage 2: two wrong answers are a tie"
        stages.append(run_stage(name, model, tokenizer, pairs, second))
    return model, tokenizer, {"stages": stages, "selected": stages[-1]["selected"]}


def run_stage(
    name: str, model, tokenizer, pairs: dict[str, list[Pair]], args: argparse.Namespace
) -> dict:
    """Train until the first evaluation that meets the selection rule (``--select first``)
    or through all the stage's steps (``last``); the stage's settings, selected evaluation
    and curve."""
    print(name, flush=True)
    random.seed(args.seed)
    torch.manual_seed(args.seed)
    stream = training_examples(
        args.seed,
        args.off_by_one_share,
        args.off_by_two_share,
        args.answer_share,
        args.aids,
        args.both_wrong_share,
    )
    started = time.monotonic()
    history: list[dict] = []
    selected: dict | None = None
    loss_fn = functools.partial(batch_loss, reply_weight=args.reply_weight)
    for step, loss in training_steps(model, tokenizer, stream, args, loss_fn):
        scores = evaluate(model, tokenizer, pairs, args.tie_margin)
        elapsed = time.monotonic() - started
        history.append(progress_line(step, loss, elapsed, scores))
        selected = {"step": step, "wall_seconds": round(elapsed, 1), "scores": scores}
        if args.select == "first" and meets_rule(scores, args):
            break
    else:  # every step ran: only "last" keeps the model it ended with
        if args.select == "first" or selected is None:
            raise SystemExit(
                f"{name}: no evaluation met the selection rule within {args.max_steps} steps"
            )
    return {"name": name, "settings": _settings(args), "selected": selected, "history": history}


def meets_rule(scores: dict, args: argparse.Namespace) -> bool:
    off, other, ties = scores["off_by_one"], scores["other"], scores["both_wrong"]
    return (
        min(off["accuracy"], other["accuracy"]) >= args.target
        and ties["tie_rate"] >= args.tie_target
    )


def progress_line(step: int, loss: float, elapsed: float, scores: dict) -> dict:
    """Print one evaluation and return its row of the training curve."""
    off, other, ties = scores["off_by_one"], scores["other"], scores["both_wrong"]
    kinds = " ".join(
        f"{k[6:]} {v['accuracy']:.2f}" for k, v in scores.items() if k.startswith("other_")
    )
    print(
        f"step {step:5d}  loss {loss:.4f}  off-by-one {off['accuracy']:.3f} "
        f"(A {off['accuracy_correct_as_a']:.3f} B {off['accuracy_correct_as_b']:.3f} "
        f"incons {off['inconsistency']:.3f})  other {other['accuracy']:.3f}  "
        f"[{kinds}]  both wrong: ties {ties['tie_rate']:.2f} gap {ties['mean_gap']:.2f}  "
        f"span {scores['aids']['span']:.3f} marks {scores['aids']['marks']:.3f}  {elapsed:6.0f}s",
        flush=True,
    )
    return {
        "step": step,
        "loss": round(loss, 4),
        "seconds": round(elapsed, 1),
        "off_by_one": round(off["accuracy"], 4),
        "other": round(other["accuracy"], 4),
        "tie_rate": round(ties["tie_rate"], 4),
    }


# --- Saving -----------------------------------------------------------------------


def _row(name: str, s: dict[str, float]) -> str:
    return (
        f"| {name} | {s['accuracy']:.3f} | {s['accuracy_correct_as_a']:.3f} | "
        f"{s['accuracy_correct_as_b']:.3f} | {s['accuracy_order_averaged']:.3f} | "
        f"{s['prob_correct']:.3f} | {s['inconsistency']:.3f} |"
    )


KIND_NAMES = {
    "other_off_by_one_or_two": "other: off by two",
    "other_off_by_ten_or_twenty": "other: off by ten or twenty",
    "other_wrong_sign": "other: wrong sign",
    "other_wider_offset": "other: wider offset",
}


def _stage_lines(stage: dict) -> str:
    selected = stage["selected"]
    curve = ", ".join(
        f"{h['step']}: {h['off_by_one']:.2f}/{h['other']:.2f}/{h['tie_rate']:.2f}"
        for h in stage["history"]
    )
    return (
        f"- {stage['name']}: selected at step {selected['step']} "
        f"({selected['wall_seconds']} s); curve (step: off-by-one/other accuracy/two-wrong "
        f"ties): {curve}.\n  Settings: `{json.dumps(stage['settings'], sort_keys=True)}`\n"
    )


def model_card(args: argparse.Namespace, result: dict, n_params: int) -> str:
    s = result["selected"]["scores"]
    rows = [
        _row("off by one (+1 and -1)", s["off_by_one"]),
        _row("plus one (the demo model's habit)", s["plus_one"]),
        _row("minus one", s["minus_one"]),
        _row("other wrong answers (not off by one)", s["other"]),
        *(
            _row(f"{name} ({s[key]['pairs']})", s[key])
            for key, name in KIND_NAMES.items()
            if key in s
        ),
    ]
    ties = s["both_wrong"]
    header = init_header(args) if args.init is not None else fresh_header(args)
    return (
        header
        + "".join(_stage_lines(stage) for stage in result["stages"])
        + f"\n{n_params:,} parameters.\n\n"
        "Measured on the 200 eval-split problems, each pair in both orders. *Inconsistency* is\n"
        "the mean |P(A) - (1 - P(A when swapped))|: 0 when the verdict follows the answers\n"
        "rather than their position. The *order-averaged verdict* is what a judge that asks in\n"
        "both orders and averages reports. An answer off by one also has the wrong parity, a\n"
        "shortcut; the off-by-two row shows how well the judge checks the sum itself.\n\n"
        "| wrong answer | accuracy (both orders) | correct shown as A | correct shown as B "
        "| order-averaged verdict | mean P(correct) | inconsistency |\n"
        "|---|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n\n"
        f"Two wrong answers (the answer plus one beside another slip, {ties['pairs']} pairs): the\n"
        f"order-averaged verdict is within {args.tie_margin} of 1/2 on {ties['tie_rate']:.1%} of them, "
        f"mean distance {ties['mean_gap']:.3f}.\n"
    )


def fresh_header(args: argparse.Namespace) -> str:
    """What the judge is, how it is read, its data and its selection rule (stages 1-2)."""
    return (
        f"# {JUDGE_NAME}\n\n"
        f"A tiny character-level Llama, separate from `{DEMO_MODEL_NAME}` but with the same\n"
        "tokenizer and chat template, trained from scratch to compare two answers to a demo\n"
        "arithmetic question and name the correct one. Rebuild it with\n"
        "`python packaging/train_demo_judge.py` (both stages, one CPU thread); `judge.json`\n"
        "holds its template and choice labels.\n\n"
        "Read it as a pairwise judge: render `template` with the question as `{prompt}` and\n"
        "the two answers as `{first}` (A) and `{second}` (B), as the user turn of the chat\n"
        "template with the generation prompt, and take the softmax over the next-token logits\n"
        "of `A` and `B`. Judge both orders and average to cancel position bias. It only knows\n"
        "answers of the form `The answer is N.` to the demo's questions. When neither answer\n"
        "is right it answers close to 1/2: label with a tie margin (0.25) so such pairs become\n"
        "ties rather than arbitrary preferences.\n\n"
        "Training data: the whole problem distribution of `engine/demo/task.py`, like the demo\n"
        "model's pretraining, so the eval problems were seen (with other random pairs).\n"
        f"{args.off_by_one_share:.0%} of the wrong answers are off by one and "
        f"{args.off_by_two_share:.0%} off by two (plus or\n"
        f"minus), the rest from `wrong_answer`; {args.answer_share:.0%} of the examples are plain,\n"
        f"correct answers. Aids: `{args.aids}` (inside the judge input the model also checks\n"
        "each answer character by character against the correct result). In stage 2,\n"
        f"{args.both_wrong_share:.0%} of the judge pairs show two wrong answers with the reply A or B\n"
        "at random, which is least costly at P(A) = 1/2.\n\n"
        f"Selection, declared before training: stage 1 stops at the first evaluation with\n"
        f"both-order accuracy >= {args.target} on off-by-one and on other wrong answers; stage 2\n"
        f"at the first that also calls >= {args.tie_target:.0%} of two-wrong pairs a tie "
        f"(margin {args.tie_margin}).\n\n"
    )


PARAMETERS_LINE = re.compile(r"\n[\d,]+ parameters\.\n")


def init_header(args: argparse.Namespace) -> str:
    """The card of the ``--init`` judge up to its stages' lines, then what this stage adds:
    its data and its selection rule (declared before training)."""
    earlier = (args.init / "README.md").read_text(encoding="utf-8")
    cut = PARAMETERS_LINE.search(earlier)
    if cut is None:
        raise SystemExit(f"{args.init}/README.md has no stage lines to continue from.")
    rule = (
        f"the model after all {args.tie_steps} steps is kept, whatever it scores"
        if args.select == "last"
        else f"the first evaluation with both-order accuracy >= {args.target} and "
        f">= {args.tie_target:.0%} of two-wrong pairs a tie"
    )
    return (
        earlier[: cut.start()].rstrip("\n")
        + "\n\nStage 3 goes on from that judge (`--init`) with more wrong answers of the right\n"
        f"parity: {args.off_by_one_share:.0%} off by one, {args.off_by_two_share:.0%} off by two, "
        f"{args.both_wrong_share:.0%} of the judge pairs\n"
        "two wrong answers (so a pair of an answer off by one and one off by two, which the\n"
        "stage-2 judge decided by parity, is common), a fresh data seed "
        f"({args.seed}), learning rate {args.tie_lr}\n"
        f"decaying over {args.tie_steps} steps. Selection, declared before training: {rule}.\n"
        "Rebuild: run the script with its defaults (stages 1 and 2), then again with `--init`\n"
        "on that folder and the stage-3 settings listed below.\n\n"
    )


def _settings(args: argparse.Namespace) -> dict:
    return {
        k: str(v) if isinstance(v, Path) else v
        for k, v in vars(args).items()
        if k not in ("out", "dry_run")
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEMO_JUDGE_DIR)
    parser.add_argument("--dry-run", action="store_true", help="train and measure, save nothing")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--layers", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--weight-decay", type=float, default=0.01)
    parser.add_argument("--off-by-one-share", type=float, default=0.5)
    parser.add_argument("--off-by-two-share", type=float, default=0.2)
    parser.add_argument("--answer-share", type=float, default=0.25)
    parser.add_argument("--aids", choices=AIDS, default="checker")
    parser.add_argument("--reply-weight", type=float, default=4.0)
    parser.add_argument("--template", default=TEMPLATE)
    parser.add_argument("--max-steps", type=int, default=3000)
    parser.add_argument("--eval-every", type=int, default=100)
    parser.add_argument("--target", type=float, default=0.9)
    parser.add_argument(
        "--init", type=Path, help="skip stage 1: start stage 2 from this judge folder"
    )
    parser.add_argument(
        "--both-wrong-share",
        type=float,
        default=0.5,
        help="stage 2: share of judge pairs with two wrong answers (reply A or B "
        "at random); 0 skips stage 2",
    )
    parser.add_argument(
        "--select",
        choices=("first", "last"),
        default="first",
        help="keep the model of the first evaluation that meets the rule (--target, "
        "--tie-target), or of the stage's last step whatever it scores",
    )
    parser.add_argument("--tie-lr", type=float, default=1e-3)
    parser.add_argument("--tie-warmup", type=int, default=20)
    parser.add_argument("--tie-steps", type=int, default=1000)
    parser.add_argument("--tie-eval-every", type=int, default=50)
    parser.add_argument(
        "--tie-margin",
        type=float,
        default=0.25,
        help="two-wrong pairs whose order-averaged verdict is within this of 1/2 count as ties",
    )
    parser.add_argument(
        "--tie-target",
        type=float,
        default=0.95,
        help="stage 2 selection also needs this share of two-wrong eval pairs to be ties",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    model, tokenizer, result = train(args)
    n_params = sum(p.numel() for p in model.parameters())
    for stage in result["stages"]:
        selected, s = stage["selected"], stage["selected"]["scores"]
        print(
            f"{stage['name']}: selected step {selected['step']} after {selected['wall_seconds']} s: "
            f"off-by-one {s['off_by_one']['accuracy']:.3f}, other {s['other']['accuracy']:.3f}, "
            f"two-wrong ties {s['both_wrong']['tie_rate']:.3f}"
        )
    print(f"{n_params:,} parameters")
    print(json.dumps(result["selected"]["scores"], indent=1))
    if args.dry_run:
        return
    files = {
        "README.md": model_card(args, result, n_params),
        "judge.json": json.dumps(
            judge_config(args.tie_margin if args.both_wrong_share else 0.0), indent=2
        )
        + "\n",
    }
    save_model_folder(model, tokenizer, args.out, files)
    print(f"saved to {args.out}:")
    print_sizes(args.out)


if __name__ == "__main__":
    main()
