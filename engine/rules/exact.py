"""``exact``: the answer equals the expected text after light normalisation.

Text comparison only: ``42.0`` does not match ``42`` and ``1/2`` does not match ``0.5``
(use ``numeric`` or ``math`` for values). That keeps the rule predictable for answers
that are words, labels or multiple-choice letters.
"""

from __future__ import annotations

from engine.rules.base import ParamInfo, Rule, RuleParamError, RuleScore, fail, ok, quote
from engine.rules.extract import DEFAULT_MARKER, extract_answer

# Stripped from both ends when strip_punctuation is on. Not '-', '+', '(' or ')':
# "-7" and "(B)" must keep their meaning.
_SURROUNDING = ".,;:!?\"'`*“”‘’«»"


def normalize(text: str, *, case_sensitive: bool, strip_punctuation: bool) -> str:
    text = " ".join(text.split())  # trim and collapse runs of whitespace
    if strip_punctuation:
        text = text.strip(_SURROUNDING + " ")
    return text if case_sensitive else text.casefold()


class ExactRule(Rule):
    kind = "exact"
    title = "Exact answer"
    description = (
        "Passes when the answer in the completion equals the expected answer as text, "
        "after trimming, collapsing whitespace and (by default) ignoring case and "
        "punctuation around it. The expected answer is the row's reference unless a "
        "fixed 'expected' is set. Numbers are compared as text (42.0 is not 42): use "
        "'Numeric answer' or 'Math equivalence' for values."
    )
    PARAMS = [
        ParamInfo(
            "expected",
            "str",
            None,
            "A fixed expected answer for every row. Leave empty to use each row's "
            "reference answer (the usual case).",
        ),
        ParamInfo(
            "extract",
            "choice",
            "whole",
            "Where the answer is: 'whole' completion, its 'last_line', the text inside "
            "<answer>…</answer> ('answer_tag'), or the rest of the line after a "
            "marker ('after_marker', see 'marker').",
            choices=("whole", "last_line", "answer_tag", "after_marker"),
        ),
        ParamInfo(
            "marker",
            "str",
            DEFAULT_MARKER,
            "With extract 'after_marker': the text that introduces the answer, e.g. "
            "'The answer is' or '####'. The last occurrence counts.",
        ),
        ParamInfo(
            "case_sensitive",
            "bool",
            False,
            "Compare letter case too. Turn on when case carries meaning (code, chemical formulas).",
        ),
        ParamInfo(
            "strip_punctuation",
            "bool",
            True,
            "Ignore punctuation and quotes around the answer ('68.' matches '68'). "
            "Signs and brackets are kept.",
        ),
    ]

    @classmethod
    def check_params(cls, params):
        if not params["expected"]:
            params["expected"] = None  # an empty field in the form means "use the reference"
        if params["extract"] == "after_marker" and not params["marker"]:
            raise RuleParamError("marker", "must not be empty with extract 'after_marker'")
        return params

    def score(self, completion, reference=None, prompt=None) -> RuleScore:
        p = self.params
        expected = p["expected"] if p["expected"] is not None else reference
        if expected is None:
            return fail("no reference answer")
        answer, why = extract_answer(completion, p["extract"], p["marker"])
        if answer is None:
            return fail(why)
        norm = dict(case_sensitive=p["case_sensitive"], strip_punctuation=p["strip_punctuation"])
        got, want = normalize(answer, **norm), normalize(expected, **norm)
        if not got:
            return fail("empty answer")
        if got == want:
            return ok(f"matches {quote(expected)}")
        # Show the texts as written (not case-folded): that is what the user recognises.
        return fail(f"expected {quote(expected.strip())}, got {quote(answer.strip())}")
