"""``length``: the completion's length is within bounds, as a hard limit or a soft penalty.

Soft mode: 1 inside [min, max], then falling linearly to 0 over ``soft_margin`` units
beyond either bound (so a completion ``soft_margin / 2`` over the maximum scores 0.5),
and 0 further out; ``passed`` is true only inside the bounds. Tokens are counted with
the ``count_tokens`` callable of the rule's ``RuleContext`` (the policy's tokenizer,
wrapped by the caller); without one, characters are counted and the reason says so.
"""

from __future__ import annotations

from engine.rules.base import ParamInfo, Rule, RuleParamError, RuleScore


class LengthRule(Rule):
    kind = "length"
    title = "Length bounds"
    description = (
        "Rewards completions whose length (in characters or tokens) lies between a "
        "minimum and a maximum. 'hard': 1 inside, 0 outside. 'soft': 1 inside, then a "
        "penalty growing linearly over 'soft_margin' beyond the bounds, so a slightly "
        "long answer loses a little instead of everything."
    )
    PARAMS = [
        ParamInfo(
            "unit",
            "choice",
            "chars",
            "What to count: 'chars' (characters) or 'tokens' (with the model's "
            "tokenizer; characters are counted when no tokenizer is available).",
            choices=("chars", "tokens"),
        ),
        ParamInfo(
            "min",
            "int",
            None,
            "The shortest length that earns full score; empty for no minimum.",
            minimum=0,
        ),
        ParamInfo(
            "max",
            "int",
            None,
            "The longest length that earns full score; empty for no maximum.",
            minimum=0,
        ),
        ParamInfo(
            "mode",
            "choice",
            "hard",
            "'hard': 0 outside the bounds; 'soft': a linear penalty over 'soft_margin'.",
            choices=("hard", "soft"),
        ),
        ParamInfo(
            "soft_margin",
            "int",
            100,
            "Soft mode: how far beyond a bound the score reaches 0, in the same unit. "
            "Larger is gentler.",
            minimum=1,
        ),
    ]

    @classmethod
    def check_params(cls, params):
        low, high = params["min"], params["max"]
        if low is None and high is None:
            raise RuleParamError("max", "set a minimum, a maximum or both")
        if low is not None and high is not None and low > high:
            raise RuleParamError("max", f"must be at least min ({high} < {low})")
        return params

    def score(self, completion, reference=None, prompt=None) -> RuleScore:
        p = self.params
        unit, note = p["unit"], ""
        if unit == "tokens" and self.context.count_tokens is not None:
            length = int(self.context.count_tokens(completion))
        else:
            length = len(completion)
            if unit == "tokens":
                unit, note = "chars", " (no tokenizer: counted characters)"
        low, high = p["min"], p["max"]
        if low is not None and length < low:
            distance, bound = low - length, f"under min {low}"
        elif high is not None and length > high:
            distance, bound = length - high, f"over max {high}"
        else:
            return RuleScore(1.0, True, f"{length} {unit} within bounds{note}")
        if p["mode"] == "hard":
            return RuleScore(0.0, False, f"{length} {unit}, {bound}{note}")
        value = max(0.0, 1.0 - distance / p["soft_margin"])
        return RuleScore(
            value, False, f"{length} {unit}, {distance} {bound} (score {value:.2f}){note}"
        )
