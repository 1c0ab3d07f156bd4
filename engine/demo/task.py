"""The demo task: integer arithmetic with known answers.

Pure standard library on purpose: the GUI imports this at start-up and must not
pull in torch. Everything here is deterministic given its seed, so the splits,
the training data of ``packaging/train_demo_model.py`` and the tests all agree.

Problems (see ``sample_problem``): sums and differences of numbers from 0 to 20
(differences may be negative) and the times tables, 2..9 by 2..12.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from functools import cache

OPS = ("+", "-", "*")

# Operand ranges of the problem distribution: sums and differences of 0..20 and the
# times tables (2..9 by 2..12), about a thousand problems in all. Small enough that
# a model of a few MB learns them on a laptop CPU in minutes; measured, 2-digit
# operands stayed below 25% accuracy after 2,000 steps, which no demo can wait for.
_OP_WEIGHTS = {"+": 0.35, "-": 0.35, "*": 0.30}
_ADD_SUB_RANGE = (0, 20)
_MUL_SMALL_RANGE = (2, 9)
_MUL_LARGE_RANGE = (2, 12)

_MAX_CONSECUTIVE_REPEATS = 10_000

EVAL_SEED = 20240601
TRAIN_SEED = 20240602
HELDOUT_SEED = 20240603
EVAL_SIZE = 200
TRAIN_SIZE = 500

VERIFY_YES = "yes"
VERIFY_NO = "no"

_ANSWER_PREFIX = "The answer is "
# Canonical integers only ("-0" and leading zeros are not what format_answer
# writes), so a well-formed answer has exactly one spelling.
_ANSWER_RE = re.compile(r"The answer is (0|-?[1-9][0-9]*)\.")


@dataclass(frozen=True)
class Problem:
    a: int
    op: str
    b: int

    def __post_init__(self) -> None:
        if self.op not in OPS:
            raise ValueError(f"unknown operator {self.op!r}; expected one of {OPS}")

    @property
    def expression(self) -> str:
        return f"{self.a} {self.op} {self.b}"

    @property
    def question(self) -> str:
        return f"What is {self.expression}?"

    @property
    def answer(self) -> int:
        if self.op == "+":
            return self.a + self.b
        if self.op == "-":
            return self.a - self.b
        return self.a * self.b


def sample_problem(rng: random.Random) -> Problem:
    """One problem from the demo distribution (not necessarily new)."""
    op = rng.choices(OPS, weights=[_OP_WEIGHTS[o] for o in OPS])[0]
    if op == "*":
        small = rng.randint(*_MUL_SMALL_RANGE)
        large = rng.randint(*_MUL_LARGE_RANGE)
        # Both orders occur so the model cannot rely on the small factor's position.
        a, b = (small, large) if rng.random() < 0.5 else (large, small)
    else:
        a, b = rng.randint(*_ADD_SUB_RANGE), rng.randint(*_ADD_SUB_RANGE)
    return Problem(a, op, b)


def make_problems(n: int, seed: int, exclude: frozenset[Problem] = frozenset()) -> list[Problem]:
    """``n`` distinct problems not in ``exclude``, the same ones for the same arguments."""
    rng = random.Random(seed)
    chosen: dict[Problem, None] = {}  # a dict keeps insertion order, a set would not
    misses = 0
    while len(chosen) < n:
        problem = sample_problem(rng)
        if problem in exclude or problem in chosen:
            misses += 1
            # The distribution holds about 1,000 problems; a long run of repeats means
            # the request (nearly) exhausts it, and an error beats an endless loop.
            if misses > _MAX_CONSECUTIVE_REPEATS:
                raise ValueError(f"could not draw {n} distinct problems (seed {seed})")
            continue
        misses = 0
        chosen[problem] = None
    return list(chosen)


def all_problems() -> list[Problem]:
    """Every problem ``sample_problem`` can draw, in a fixed order (994 of them)."""
    add_sub = [
        Problem(a, op, b)
        for op in ("+", "-")
        for a in range(_ADD_SUB_RANGE[0], _ADD_SUB_RANGE[1] + 1)
        for b in range(_ADD_SUB_RANGE[0], _ADD_SUB_RANGE[1] + 1)
    ]
    times: dict[Problem, None] = {}  # 2..9 by 2..12 in both orders overlap on 2..9 by 2..9
    for small in range(_MUL_SMALL_RANGE[0], _MUL_SMALL_RANGE[1] + 1):
        for large in range(_MUL_LARGE_RANGE[0], _MUL_LARGE_RANGE[1] + 1):
            times[Problem(small, "*", large)] = None
            times[Problem(large, "*", small)] = None
    return add_sub + list(times)


@cache
def _splits() -> tuple[tuple[Problem, ...], tuple[Problem, ...], tuple[Problem, ...]]:
    eval_split = make_problems(EVAL_SIZE, EVAL_SEED)
    train_split = make_problems(TRAIN_SIZE, TRAIN_SEED, exclude=frozenset(eval_split))
    # Held out: the rest of the distribution (294 problems), so a gain measured there is
    # a gain on problems no run trained or was selected on; shuffled so a prefix
    # (``--limit``) mixes the operations as the other splits do.
    seen = frozenset(train_split) | frozenset(eval_split)
    heldout = [p for p in all_problems() if p not in seen]
    random.Random(HELDOUT_SEED).shuffle(heldout)
    return tuple(train_split), tuple(eval_split), tuple(heldout)


def demo_splits() -> dict[str, list[Problem]]:
    """The fixed, disjoint demo splits: 500 training and 200 evaluation problems, and the
    294 others of the distribution held out of both (``heldout``)."""
    train_split, eval_split, heldout = _splits()
    return {"train": list(train_split), "eval": list(eval_split), "heldout": list(heldout)}


def format_answer(value: int) -> str:
    return f"{_ANSWER_PREFIX}{value}."


def parse_answer(text: str) -> int | None:
    """The integer of a well-formed answer, else None."""
    match = _ANSWER_RE.fullmatch(text.strip())
    return int(match.group(1)) if match else None


def is_well_formed(text: str) -> bool:
    return parse_answer(text) is not None


def is_correct(text: str, problem_or_answer: Problem | int) -> bool:
    expected = (
        problem_or_answer.answer if isinstance(problem_or_answer, Problem) else problem_or_answer
    )
    return parse_answer(text) == expected


# --- Verification (the future AI-judge feature) ---------------------------------


@dataclass(frozen=True)
class VerifyItem:
    problem: Problem
    claimed: int

    @property
    def question(self) -> str:
        return verify_question(self.problem, self.claimed)

    @property
    def expected(self) -> str:
        return VERIFY_YES if self.claimed == self.problem.answer else VERIFY_NO


def verify_question(problem: Problem, claimed: int) -> str:
    return f"Is {problem.expression} = {claimed} correct? Answer yes or no."


def parse_verdict(text: str) -> str | None:
    """VERIFY_YES or VERIFY_NO if the text is exactly one of them, else None."""
    word = text.strip().lower()
    return word if word in (VERIFY_YES, VERIFY_NO) else None


def wrong_answer(problem: Problem, rng: random.Random) -> int:
    """A plausible wrong result: the kinds of slips a model (or a person) makes.

    Off-by-one and off-by-ten errors are the carry and borrow mistakes; a wrong
    sign is the subtraction mistake (other problems get a wider offset instead); the wider offsets keep "no" from being
    detectable by looking at a single digit.
    """
    answer = problem.answer
    kind = rng.randrange(4)
    if kind == 0:
        offset = rng.choice((-2, -1, 1, 2))
    elif kind == 1:
        offset = rng.choice((-20, -10, 10, 20))
    elif kind == 2 and problem.op == "-" and answer != 0:
        return -answer
    else:
        offset = rng.choice((-1, 1)) * rng.randint(3, 30)
    return answer + offset


def make_verify_items(problems: list[Problem], seed: int) -> list[VerifyItem]:
    """One item per problem, half with the true result and half with a wrong one."""
    rng = random.Random(seed)
    truthful = [i < (len(problems) + 1) // 2 for i in range(len(problems))]
    rng.shuffle(truthful)
    return [
        VerifyItem(p, p.answer if honest else wrong_answer(p, rng))
        for p, honest in zip(problems, truthful, strict=True)
    ]
