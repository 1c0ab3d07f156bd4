"""``regex``: the completion matches a user's regular expression, under a time limit.

A user pattern such as ``(a+)+$`` can backtrack for hours on the wrong text (ReDoS).
Instead of a sandbox child per match, this rule uses the third-party ``regex`` module,
whose matcher takes a ``timeout=`` argument and checks it inside its C matching loop:
a runaway match raises ``TimeoutError`` after about ``timeout_s`` seconds, and the rule
scores 0 with the reason "pattern timed out". ``concurrent=True`` releases the GIL while
matching, so other threads keep running meanwhile. Patterns use the ``regex`` module's
default (VERSION0) syntax, which is that of Python's ``re``.
"""

from __future__ import annotations

import regex

from engine.rules.base import ParamInfo, Rule, RuleParamError, RuleScore, fail, ok, quote


class RegexRule(Rule):
    kind = "regex"
    title = "Regular expression"
    description = (
        "Passes when the completion matches a regular expression (Python syntax), found "
        "anywhere in it ('search') or covering all of it ('fullmatch'). Each match is "
        "limited in time, so a pattern that backtracks badly fails with 'pattern timed "
        "out' instead of freezing the run."
    )
    PARAMS = [
        ParamInfo(
            "pattern",
            "str",
            "",
            "The regular expression, in Python syntax, e.g. '^The answer is -?\\d+\\.$'.",
        ),
        ParamInfo(
            "mode",
            "choice",
            "search",
            "'search': the pattern may match anywhere; 'fullmatch': it must match the "
            "whole completion (leading and trailing whitespace included).",
            choices=("search", "fullmatch"),
        ),
        ParamInfo("ignore_case", "bool", False, "Match letters regardless of case."),
        ParamInfo(
            "multiline",
            "bool",
            False,
            "'^' and '$' match at every line start and end, not only the text's.",
        ),
        ParamInfo("dotall", "bool", False, "'.' matches newlines too."),
        ParamInfo(
            "negate",
            "bool",
            False,
            "Invert the rule: pass when the pattern does NOT match (a timeout still fails).",
        ),
        ParamInfo(
            "timeout_s",
            "float",
            0.5,
            "Seconds one match may take before it fails. Normal patterns take "
            "microseconds; raise this only for huge completions.",
            minimum=0.01,
            maximum=10.0,
        ),
    ]

    @classmethod
    def _compile(cls, params) -> regex.Pattern:
        flags = 0
        if params["ignore_case"]:
            flags |= regex.IGNORECASE
        if params["multiline"]:
            flags |= regex.MULTILINE
        if params["dotall"]:
            flags |= regex.DOTALL
        return regex.compile(params["pattern"], flags)

    @classmethod
    def check_params(cls, params):
        if not params["pattern"]:
            raise RuleParamError("pattern", "must not be empty")
        try:
            cls._compile(params)
        except regex.error as error:
            raise RuleParamError("pattern", f"invalid regular expression: {error}") from None
        return params

    def prepare(self) -> None:
        self._pattern = self._compile(self.params)

    def score(self, completion, reference=None, prompt=None) -> RuleScore:
        p = self.params
        match = self._pattern.fullmatch if p["mode"] == "fullmatch" else self._pattern.search
        try:
            found = match(completion, timeout=p["timeout_s"], concurrent=True)
        except TimeoutError:
            return fail("pattern timed out")
        if p["negate"]:
            return fail(f"matched {quote(found.group(0))}") if found else ok("no match")
        return ok(f"matched {quote(found.group(0))}") if found else fail("no match")
