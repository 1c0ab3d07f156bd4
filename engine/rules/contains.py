"""``contains``: the completion contains (or must not contain) given substrings."""

from __future__ import annotations

from engine.rules.base import ParamInfo, Rule, RuleParamError, RuleScore, fail, ok, quote


class ContainsRule(Rule):
    kind = "contains"
    title = "Contains text"
    description = (
        "Passes when the completion contains any (or all) of the given pieces of text. "
        "With 'negate' it passes when that condition does NOT hold, e.g. to forbid "
        "phrases such as 'As an AI'. Plain text, no patterns: use 'Regular expression' "
        "for those."
    )
    PARAMS = [
        ParamInfo(
            "substrings",
            "json",
            [],
            "The pieces of text to look for: a list of strings (one string is accepted too).",
        ),
        ParamInfo(
            "mode",
            "choice",
            "any",
            "'any': one of them is enough; 'all': every one must appear.",
            choices=("any", "all"),
        ),
        ParamInfo(
            "case_sensitive",
            "bool",
            False,
            "Match letter case exactly. Off: 'Paris' also finds 'paris'.",
        ),
        ParamInfo(
            "negate",
            "bool",
            False,
            "Invert the rule: pass when the completion does NOT satisfy the any/all "
            "condition. With 'any' this means none of the texts may appear.",
        ),
    ]

    @classmethod
    def check_params(cls, params):
        subs = params["substrings"]
        if isinstance(subs, str):
            subs = [subs]
        if not isinstance(subs, list) or not all(isinstance(s, str) for s in subs):
            raise RuleParamError("substrings", "must be a list of strings")
        if not subs or not all(subs):
            raise RuleParamError("substrings", "give at least one non-empty string")
        params["substrings"] = subs
        return params

    def score(self, completion, reference=None, prompt=None) -> RuleScore:
        p = self.params
        fold = (lambda s: s) if p["case_sensitive"] else str.casefold
        text = fold(completion)
        found = [s for s in p["substrings"] if fold(s) in text]
        missing = [s for s in p["substrings"] if fold(s) not in text]
        holds = bool(found) if p["mode"] == "any" else not missing
        if p["negate"]:
            if not holds:
                return ok(
                    "none found" if not found else f"not all found (missing {quote(missing[0])})"
                )
            if p["mode"] == "any":
                return fail(f"contains forbidden {quote(found[0])}")
            return fail(f"contains all {len(found)} forbidden texts")
        if holds:
            return ok(
                f"found {quote(found[0])}" if p["mode"] == "any" else f"found all {len(found)}"
            )
        return fail("none found" if not found else f"missing {quote(missing[0])}")
