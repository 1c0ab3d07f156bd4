"""``numeric``: the number in the completion equals the expected number within a tolerance.

Numbers are read exactly (as fractions) from text such as ``-7``, ``1,234``, ``3.50``,
``.5``, ``1/2``, ``2.5e3``, ``50%`` and LaTeX ``\\frac{1}{2}``; they match when equal or
within ``rel_tol``/``abs_tol``. So ``42.0`` matches ``42`` and ``1/2`` matches ``0.5``,
but ``41.9`` does not match ``42`` at the default tolerance.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction

from engine.rules.base import ParamInfo, Rule, RuleParamError, RuleScore, fail, ok
from engine.rules.extract import answer_tag, boxed

_NUMBER = re.compile(
    r"""
    (?<![\w.])                          # not glued to a word or a number: "3-5" is 3 and 5
    (?P<sign>[-+\u2212]?)
    (?:
        (?P<int>\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.(?P<frac>\d+))?
      | \.(?P<lead>\d+)                 # ".5"
    )
    (?:[eE](?P<exp>[-+]?\d+))?
    (?:\s*/\s*(?P<den>\d+)(?![\d.,]\d))?  # a simple fraction "1/2"
    (?P<pct>\s*%)?
    """,
    re.VERBOSE,
)
_LATEX_FRAC = re.compile(r"\\[dt]?frac\s*\{\s*([-+]?[\d.,]+)\s*\}\s*\{\s*([\d.,]+)\s*\}")


@dataclass(frozen=True)
class Number:
    value: Fraction
    percent: bool
    text: str


def _clean(text: str) -> str:
    """LaTeX spellings of numbers turned into plain ones."""
    text = _LATEX_FRAC.sub(r"\1/\2", text)
    text = text.replace("{,}", ",").replace("\\,", "").replace("\\!", "")
    return text.replace("\\%", "%").replace("\\$", " ").replace("$", " ")


def find_numbers(text: str) -> list[Number]:
    """Every number in ``text``, in order."""
    found = []
    for m in _NUMBER.finditer(_clean(text)):
        digits = (m["int"] or "0").replace(",", "") + "." + (m["frac"] or m["lead"] or "0")
        value = Fraction(digits)
        if m["exp"]:
            exp = int(m["exp"])
            if abs(exp) > 400:  # beyond float range; not an answer anyone means
                continue
            value *= Fraction(10) ** exp
        if m["den"]:
            if int(m["den"]) == 0:
                continue
            value /= int(m["den"])
        if m["sign"] in ("-", "\u2212"):
            value = -value
        found.append(Number(value, bool(m["pct"]), " ".join(m[0].split())))
    return found


def parse_reference(text: str) -> Number | None:
    """The expected number in a reference: after the last '####' (GSM8K style), else
    in the last \\boxed{}, else the last number."""
    if "####" in text:
        text = text.rsplit("####", 1)[1]
    elif (box := boxed(text)) is not None:
        text = box
    numbers = find_numbers(text)
    return numbers[-1] if numbers else None


class NumericRule(Rule):
    kind = "numeric"
    title = "Numeric answer"
    description = (
        "Passes when the number in the completion equals the expected number, within a "
        "tolerance. Reads signs, thousands separators (1,234), decimals, simple fractions "
        "(1/2, \\frac{1}{2}) and percentages, so 42.0 matches 42 and 0.5 matches 1/2. The "
        "expected number is taken from the row's reference (after '####' or in \\boxed{} "
        "if there is one, else its last number) unless a fixed 'expected' is set."
    )
    PARAMS = [
        ParamInfo(
            "extract",
            "choice",
            "last_number",
            "Which number counts: the 'last_number' in the completion (suits 'The "
            "answer is 68.'), the first after the last '####' ('hash'), the one in the "
            "last \\boxed{} ('boxed'), or the one inside <answer>…</answer> "
            "('answer_tag').",
            choices=("last_number", "hash", "boxed", "answer_tag"),
        ),
        ParamInfo(
            "expected",
            "str",
            None,
            "A fixed expected number for every row. Leave empty to use each row's "
            "reference answer.",
        ),
        ParamInfo(
            "rel_tol",
            "float",
            1e-6,
            "Relative tolerance: 0.01 accepts answers within 1%. Raise it for "
            "measured or rounded quantities.",
            minimum=0.0,
            maximum=1.0,
        ),
        ParamInfo(
            "abs_tol",
            "float",
            1e-9,
            "Absolute tolerance, for answers near zero where a relative tolerance "
            "means nothing. 0.5 accepts anything that rounds to the expected integer.",
            minimum=0.0,
        ),
        ParamInfo(
            "percent",
            "choice",
            "ignore",
            "How to read '50%': as 50 ('ignore' the sign), as 0.5 ('fraction'), or "
            "accept 'either' reading.",
            choices=("ignore", "fraction", "either"),
        ),
    ]

    @classmethod
    def check_params(cls, params):
        if not params["expected"]:
            params["expected"] = None  # empty field: use the reference
        elif parse_reference(params["expected"]) is None:
            raise RuleParamError("expected", f"no number in {params['expected']!r}")
        return params

    def _readings(self, number: Number) -> list[Fraction]:
        mode = self.params["percent"]
        if not number.percent or mode == "ignore":
            return [number.value]
        if mode == "fraction":
            return [number.value / 100]
        return [number.value, number.value / 100]

    def _find(self, completion: str) -> tuple[Number | None, str]:
        how = self.params["extract"]
        if how == "last_number":
            numbers = find_numbers(completion)
            return (numbers[-1], "") if numbers else (None, "no number found")
        if how == "hash":
            if "####" not in completion:
                return None, "no '####' found"
            numbers = find_numbers(completion.rsplit("####", 1)[1])
            return (numbers[0], "") if numbers else (None, "no number after '####'")
        part = boxed(completion) if how == "boxed" else answer_tag(completion)
        if part is None:
            return None, "no \\boxed{} found" if how == "boxed" else "tag <answer> missing"
        numbers = find_numbers(part)
        where = "\\boxed{}" if how == "boxed" else "<answer>"
        return (numbers[-1], "") if numbers else (None, f"no number in {where}")

    def _close(self, got: Fraction, want: Fraction) -> bool:
        if got == want:
            return True
        p = self.params
        try:
            return math.isclose(float(got), float(want), rel_tol=p["rel_tol"], abs_tol=p["abs_tol"])
        except OverflowError:  # a number too large for a float, and not equal
            return False

    def score(self, completion, reference=None, prompt=None) -> RuleScore:
        source = self.params["expected"] if self.params["expected"] is not None else reference
        if source is None:
            return fail("no reference answer")
        want = parse_reference(source)
        if want is None:
            return fail("no number in the reference")
        got, why = self._find(completion)
        if got is None:
            return fail(why)
        if any(self._close(g, w) for g in self._readings(got) for w in self._readings(want)):
            return ok(f"{got.text} matches {want.text}")
        return fail(f"expected {want.text}, got {got.text}")
