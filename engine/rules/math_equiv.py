"""``math``: the completion's answer is mathematically equivalent to the gold answer.

Uses math-verify (gold first, as its ``verify`` expects), which parses LaTeX and plain
expressions with sympy: ``1/2``, ``0.5`` and ``\\frac{1}{2}`` are all equal. Sympy can
take unbounded time on adversarial input and math-verify's own timeout only works in a
main thread (docs/architecture.md, "Pitfalls"), so the check runs in the sandbox
(``engine.sandbox.math_equivalent``), imported only when a rule actually scores: the
GUI imports this module to build its form without loading sympy or the sandbox.
"""

from __future__ import annotations

from engine.rules.base import ParamInfo, Rule, RuleParamError, RuleScore, as_item, fail, ok, quote
from engine.rules.extract import DEFAULT_MARKER, extract_answer

_DELIMITERS = ("$", "\\boxed", "\\(", "\\[", "\\fbox")


def _as_latex(text: str) -> str:
    """Wrap bare text in ``$…$``: math-verify reads bare ``x^2+1`` as nothing and bare
    ``(1, 2)`` as 2, but both correctly between dollars."""
    text = text.strip()
    if any(d in text for d in _DELIMITERS):
        return text
    return f"${text.rstrip('.')}$" if text else text


def gold_text(reference: str) -> str:
    """The gold answer as math-verify should see it: the part after '####' when there is
    one (GSM8K references hold the worked solution before it), in math mode."""
    if "####" in reference:
        reference = reference.rsplit("####", 1)[1]
    return _as_latex(reference)


class MathRule(Rule):
    kind = "math"
    title = "Math equivalence"
    description = (
        "Passes when the completion's final answer is mathematically equal to the gold "
        "answer, checked with math-verify: 1/2, 0.5 and \\frac{1}{2} are the same, and so "
        "are x^2+1 and 1+x^2. By default math-verify finds the answer itself (the last "
        "\\boxed{} or the last expression). Runs in a sandbox with a time limit, so a "
        "pathological expression fails the check instead of stalling training."
    )
    PARAMS = [
        ParamInfo(
            "extract",
            "choice",
            "auto",
            "Where the answer is: 'auto' lets math-verify find it (last \\boxed{}, "
            "else the last expression); 'answer_tag' uses the text inside "
            "<answer>…</answer>; 'after_marker' the rest of the line after 'marker'.",
            choices=("auto", "answer_tag", "after_marker"),
        ),
        ParamInfo(
            "marker",
            "str",
            DEFAULT_MARKER,
            "With extract 'after_marker': the text that introduces the answer.",
        ),
        ParamInfo(
            "expected",
            "str",
            None,
            "A fixed gold answer for every row. Leave empty to use each row's reference answer.",
        ),
        ParamInfo(
            "timeout_s",
            "float",
            5.0,
            "Seconds allowed per check; a check that takes longer fails. Raise it "
            "only for very large expressions.",
            minimum=0.1,
            maximum=60.0,
        ),
    ]

    @classmethod
    def check_params(cls, params):
        if not params["expected"]:
            params["expected"] = None
        if params["extract"] == "after_marker" and not params["marker"]:
            raise RuleParamError("marker", "must not be empty with extract 'after_marker'")
        return params

    def score(self, completion, reference=None, prompt=None) -> RuleScore:
        return self.score_batch([(completion, reference, prompt)])[0]

    def score_batch(self, items) -> list[RuleScore]:
        p = self.params
        results: list[RuleScore | None] = []
        pairs: list[tuple[str, str]] = []
        golds: list[str] = []
        for item in map(as_item, items):
            gold = p["expected"] if p["expected"] is not None else item.reference
            if gold is None:
                results.append(fail("no reference answer"))
                continue
            if p["extract"] == "auto":
                answer = item.completion
            else:
                extracted, why = extract_answer(item.completion, p["extract"], p["marker"])
                if extracted is None:
                    results.append(fail(why))
                    continue
                answer = _as_latex(extracted)
            pairs.append((gold_text(gold), answer))
            golds.append(gold.rsplit("####", 1)[-1].strip())
            results.append(None)
        if pairs:
            from engine.sandbox import math_equivalent  # sympy and processes: only when scoring

            verdicts = iter(math_equivalent(pairs, timeout_s=p["timeout_s"]))
            gold_iter = iter(golds)
            for i, result in enumerate(results):
                if result is None:
                    results[i] = _verdict(*next(verdicts), next(gold_iter))
        return results  # type: ignore[return-value]


def _verdict(equal: bool | None, reason: str, gold: str) -> RuleScore:
    if equal is True:
        return ok(f"equivalent to {quote(gold)}")
    if equal is False:
        return fail(f"not equivalent to {quote(gold)}")
    # None: unparsable, timed out or the verifier failed; the sandbox says which.
    return fail(reason or "could not be checked")
