"""What the comparison grid writes, as plain text and HTML: a cell's elided answer with its
rule marks, reward and length; a column's figures; a word-level diff against the baseline;
and which rows a filter keeps. No Qt, so each piece is checked on its own."""

from __future__ import annotations

import difflib
import html
import re
from typing import Any

ALL = "all"
# Row filters: a row is kept when an entrant other than the baseline has this verdict.
VERDICT_FILTERS = (ALL, "improved", "regressed", "unchanged", "all-fail")
ELIDE_CHARS = 150
INSERTED = "background: #c8efd4; color: #0f5323;"
DELETED = "background: #fbd9d6; color: #8c1d14; text-decoration: line-through;"


def elide(text: str, limit: int = ELIDE_CHARS) -> str:
    """One line of at most `limit` characters: whitespace runs become one space."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def marks(answers: list[dict], rules: list[str]) -> str:
    """Per rule ✓ or ✗ for one answer; "rule k/n" passes for several (one per seed)."""
    if len(answers) == 1:
        passed = answers[0]["passed"]
        return " ".join(f"{'✓' if passed.get(r) else '✗'}{r}" for r in rules)
    return "  ".join(
        f"{r} {sum(bool(a['passed'].get(r)) for a in answers)}/{len(answers)}" for r in rules
    )


def number(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def signed(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:+.{digits}f}"


def cell_figures(cell: dict[str, Any], rules: list[str]) -> str:
    """The marks, reward (with its difference from the baseline's) and length line of a
    cell ("✓format ✗answer · 0.10 (+0.05) · 18 tok"), short enough for a narrow column;
    the header names the reward."""
    if not cell["answers"]:
        return "not generated yet"
    delta = cell.get("reward_delta")
    reward = number(cell["reward"]) + ("" if delta is None else f" ({signed(delta)})")
    return f"{marks(cell['answers'], rules)} · {reward} · {number(cell['length_tokens'], 0)} tok"


def cell_text(cell: dict[str, Any], rules: list[str]) -> str:
    """What a grid cell shows: its figures line, then its (first) answer elided."""
    first = cell["answers"][0]["text"] if cell["answers"] else ""
    return f"{cell_figures(cell, rules)}\n{elide(first)}"


def cell_tooltip(cell: dict[str, Any]) -> str:
    texts = [a["text"] for a in cell["answers"]]
    if len(texts) > 1:
        texts = [f"seed {a['seed']}: {a['text']}" for a in cell["answers"]]
    tip = "\n\n".join(texts) or "No answer yet."
    if cell.get("verdict"):
        tip += f"\n\nAgainst the baseline: {cell['verdict']}"
    return tip


def percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def reward_name(result: dict[str, Any] | None) -> str:
    """What the reward of a comparison is called: its reward model's, or the rules'."""
    source = (result or {}).get("reward") or {}
    return "reward model" if source.get("source") == "reward_model" else "reward"


def header_text(
    model: dict[str, Any], rules: list[str], baseline: bool, reward: str = "reward"
) -> str:
    """A column's header: the entrant, each rule's pass rate with its 95% Wilson interval,
    mean reward (named `reward`) and length, how many prompts it improved or regressed (or
    that it is the baseline), and the judge's win rate against the baseline when a judge
    compared them."""
    lines = [model["label"]]
    for rule in rules:
        low, high = model["pass_rate_ci"][rule]
        lines.append(f"{rule} {percent(model['pass_rate'][rule])}  [{low:.0%}–{high:.0%}]")
    lines.append(
        f"{reward} {number(model['mean_reward'])} · {number(model['mean_length_tokens'], 1)} tok"
    )
    verdicts = model.get("verdicts")
    if verdicts is None:
        lines.append("the baseline")
    else:
        lines.append(f"▲ {verdicts['improved']} improved  ▼ {verdicts['regressed']} regressed")
    if model.get("win_rate_vs_baseline") is not None:
        lines.append(f"judge: wins {percent(model['win_rate_vs_baseline'])} vs baseline")
    return "\n".join(lines)


def _words(text: str) -> list[str]:
    """Words with the whitespace after each, so the diff keeps the text's own spacing."""
    return re.findall(r"\S+\s*|\s+", text)


def word_diff_html(baseline: str, other: str) -> str:
    """`other` against `baseline`, word by word (difflib): words `other` inserts are
    highlighted green, words it drops are struck out in red; the rest as it is."""
    base_words, own_words = _words(baseline), _words(other)
    matcher = difflib.SequenceMatcher(a=base_words, b=own_words, autojunk=False)
    parts = []
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        if op in ("delete", "replace"):
            dropped = html.escape("".join(base_words[a0:a1]))
            parts.append(f'<span style="{DELETED}">{dropped}</span>')
        if op in ("insert", "replace"):
            added = html.escape("".join(own_words[b0:b1]))
            parts.append(f'<span style="{INSERTED}">{added}</span>')
        if op == "equal":
            parts.append(html.escape("".join(own_words[b0:b1])))
    return "".join(parts).replace("\n", "<br>")


def others_have(row: dict[str, Any], wanted: str) -> bool:
    return any(cell["verdict"] == wanted for cell in row["entrants"][1:])


def fails_rule(row: dict[str, Any], rule: str) -> bool:
    """Some answer of some entrant (the baseline included) fails `rule`."""
    return any(not a["passed"].get(rule, True) for cell in row["entrants"] for a in cell["answers"])


def row_matches(row: dict[str, Any], verdict: str, rule: str | None, search: str) -> bool:
    """Whether a filter keeps the row: a verdict some entrant has against the baseline
    (ALL: any), a rule some answer fails (None: any), text in the prompt, its reference
    or an answer (case-insensitive; empty: any)."""
    if verdict != ALL and not others_have(row, verdict):
        return False
    if rule is not None and not fails_rule(row, rule):
        return False
    needle = search.strip().lower()
    if not needle:
        return True
    texts = [row["prompt"], str(row["reference"] or "")]
    texts += [a["text"] for cell in row["entrants"] for a in cell["answers"]]
    return any(needle in text.lower() for text in texts)
