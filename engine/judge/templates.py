"""The prompts a judge reads: default templates, rendering and checking user templates.

A template is text with ``str.format`` placeholders (write ``{{`` and ``}}`` for literal
braces). Pairwise templates take {prompt} {first} {second} and optionally {criteria};
pointwise templates take {prompt} {completion} and optionally {criteria}. Whatever the
user's texts contain (braces included) is inserted as is, never formatted again.

Pure standard library: the GUI checks a template as the user types it.
"""

from __future__ import annotations

import string
from functools import lru_cache

from engine.errors import EngineError
from engine.judge.base import Prompt

MODES = ("pairwise", "pointwise")

DEFAULT_CRITERIA = (
    "Judge correctness first: a response that is wrong, or that does not do what was asked, "
    "loses to one that is right, however well it is written. Then prefer the response that "
    "is more helpful (it answers the actual request completely), more honest (it does not "
    "invent facts or claim certainty it lacks) and more concise (no padding or repetition). "
    "Ignore the order in which the responses are shown and do not favour a response for "
    "being longer."
)

DEFAULT_PAIR_TEMPLATE = """\
You are an impartial judge. Compare two responses to the same request and decide which \
one is better.

{criteria}

[The request]
{prompt}

[Response A]
{first}

[Response B]
{second}

Which response is better? Answer with a single letter: A or B."""

DEFAULT_POINT_TEMPLATE = """\
You are an impartial judge. Decide whether the response below is a good answer to the \
request.

{criteria}

[The request]
{prompt}

[The response]
{completion}

Is this response good? Answer with a single word: yes or no."""

_REQUIRED = {"pairwise": ("prompt", "first", "second"), "pointwise": ("prompt", "completion")}
_OPTIONAL = ("criteria",)


@lru_cache(maxsize=64)
def check_template(template: str, mode: str) -> None:
    """Raise EngineError when ``template`` is not usable for ``mode`` ("pairwise" or
    "pointwise"): a placeholder it does not know, one it needs and lacks, or bad braces."""
    if mode not in MODES:
        raise EngineError(f"Unknown judge mode {mode!r}.", f"Use one of: {', '.join(MODES)}.")
    if not isinstance(template, str) or not template.strip():
        raise EngineError(
            "The judge template is empty.", "Write a template or use the default one."
        )
    allowed = _REQUIRED[mode] + _OPTIONAL
    names = ", ".join("{" + n + "}" for n in allowed)
    try:
        parsed = [
            (f, spec, conv)
            for _, f, spec, conv in string.Formatter().parse(template)
            if f is not None
        ]
    except ValueError as exc:
        raise EngineError(
            f"The judge template has unbalanced braces ({exc}).",
            "Write literal braces as {{ and }}; placeholders are " + names + ".",
        ) from None
    fields = [f for f, _, _ in parsed]
    for name, spec, conv in parsed:
        if name in allowed and (spec or conv):
            raise EngineError(
                f"The placeholder {{{name}}} in the judge template has a format spec or "
                "conversion.",
                f"Write it plainly as {{{name}}}.",
            )
        if name not in allowed:
            raise EngineError(
                f"The {mode} judge template has an unknown placeholder {{{name}}}.",
                f"Use only {names} (write a literal brace as {{{{ or }}}}).",
            )
    for name in _REQUIRED[mode]:
        if name not in fields:
            raise EngineError(
                f"The {mode} judge template lacks the placeholder {{{name}}}.",
                f"Add {{{name}}} where the judge should read it; placeholders are {names}.",
            )


def prompt_text(prompt: Prompt) -> str:
    """A prompt as the judge reads it: text as is; a conversation as a readable transcript
    (a lone user message is just its content)."""
    if isinstance(prompt, str):
        return prompt
    if len(prompt) == 1 and prompt[0].get("role") == "user":
        return prompt[0].get("content", "")
    return "\n\n".join(
        f"{str(m.get('role', 'user')).capitalize()}: {m.get('content', '')}" for m in prompt
    )


def render_pair(template: str, prompt: Prompt, first: str, second: str, criteria: str) -> str:
    check_template(template, "pairwise")
    return template.format(
        prompt=prompt_text(prompt), first=first, second=second, criteria=criteria
    )


def render_point(template: str, prompt: Prompt, completion: str, criteria: str) -> str:
    check_template(template, "pointwise")
    return template.format(prompt=prompt_text(prompt), completion=completion, criteria=criteria)
