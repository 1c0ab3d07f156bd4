"""``format_tags``: the completion is exactly a sequence of tagged sections.

With ``tags=["think", "answer"]`` the whole completion must be
``<think>…</think> <answer>…</answer>`` with only whitespace between the sections and
nothing after the last one: a model that appends text after ``</answer>`` fails, which
is what keeps a format reward from being gamed by rambling on. A hand-written scanner
rather than one regex, so the reason says where the layout breaks.
"""

from __future__ import annotations

import re

from engine.rules.base import ParamInfo, Rule, RuleParamError, RuleScore, fail, ok

_TAG_NAME = re.compile(r"[A-Za-z_][\w.-]*")
_SPACE = re.compile(r"\s*")


class FormatTagsRule(Rule):
    kind = "format_tags"
    title = "Format tags"
    description = (
        "Passes when the whole completion is the given tags in order, e.g. "
        "<think>…</think><answer>…</answer>, with only whitespace between them and "
        "nothing after the last closing tag. Often used as a gate: correctness only "
        "counts when the format is right."
    )
    PARAMS = [
        ParamInfo(
            "tags",
            "json",
            ["think", "answer"],
            'The tag names, in the order they must appear, e.g. ["think", "answer"].',
        ),
        ParamInfo(
            "allow_leading_whitespace",
            "bool",
            True,
            "Allow spaces and newlines before the first tag. Trailing whitespace "
            "after the last tag is always allowed.",
        ),
        ParamInfo(
            "require_nonempty",
            "bool",
            True,
            "Each section must contain something besides whitespace.",
        ),
    ]

    @classmethod
    def check_params(cls, params):
        tags = params["tags"]
        if isinstance(tags, str):
            tags = [tags]
        if not isinstance(tags, list) or not tags or not all(isinstance(t, str) for t in tags):
            raise RuleParamError("tags", "must be a non-empty list of tag names")
        for tag in tags:
            if not _TAG_NAME.fullmatch(tag):
                raise RuleParamError(
                    "tags", f"{tag!r} is not a tag name (write think, not <think>)"
                )
        params["tags"] = tags
        return params

    def score(self, completion, reference=None, prompt=None) -> RuleScore:
        p = self.params
        text = completion.rstrip()
        pos = 0
        previous = None
        for tag in p["tags"]:
            opening, closing = f"<{tag}>", f"</{tag}>"
            if previous is not None or p["allow_leading_whitespace"]:
                space = _SPACE.match(text, pos)
                assert space is not None  # \s* also matches the empty string
                pos = space.end()
            if not text.startswith(opening, pos):
                if opening not in text[pos:]:
                    return fail(f"tag {opening} missing")
                if previous is None:
                    return fail(f"text before {opening}")
                return fail(f"text between </{previous}> and {opening}")
            end = text.find(closing, pos + len(opening))
            if end < 0:
                return fail(f"tag {opening} not closed")
            if p["require_nonempty"] and not text[pos + len(opening) : end].strip():
                return fail(f"tag {opening} is empty")
            pos = end + len(closing)
            previous = tag
        if pos < len(text):
            return fail(f"text after </{previous}>")
        return ok("format matches")
