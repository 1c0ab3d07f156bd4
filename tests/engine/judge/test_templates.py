import pytest

from engine.errors import EngineError
from engine.judge.templates import (
    DEFAULT_CRITERIA,
    DEFAULT_PAIR_TEMPLATE,
    DEFAULT_POINT_TEMPLATE,
    check_template,
    render_pair,
    render_point,
)


def test_default_pair_template_shows_criteria_request_both_responses_and_the_question():
    text = render_pair(
        DEFAULT_PAIR_TEMPLATE, "What is 2 + 3?", "It is 5.", "It is 6.", DEFAULT_CRITERIA
    )
    assert "correctness first" in text
    order = [
        text.index(part)
        for part in (
            DEFAULT_CRITERIA,
            "What is 2 + 3?",
            "[Response A]\nIt is 5.",
            "[Response B]\nIt is 6.",
        )
    ]
    assert order == sorted(order)
    assert text.endswith("Answer with a single letter: A or B.")


def test_default_point_template_asks_yes_or_no():
    text = render_point(DEFAULT_POINT_TEMPLATE, "Name a prime.", "7", "Be strict.")
    assert "Be strict." in text and "Name a prime." in text and "[The response]\n7" in text
    assert text.endswith("yes or no.")


def test_braces_in_user_text_are_kept_verbatim():
    text = render_pair("{prompt}|{first}|{second}", "format {x}", "{first}", "}{", "")
    assert text == "format {x}|{first}|}{"


def test_a_conversation_is_rendered_as_a_readable_transcript():
    chat = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello"},
        {"role": "user", "content": "2+3?"},
    ]
    text = render_point("{prompt} => {completion}", chat, "5", "")
    assert text == "System: Be brief.\n\nUser: Hi\n\nAssistant: Hello\n\nUser: 2+3? => 5"
    # A lone user message is just its text.
    lone = [{"role": "user", "content": "Hi"}]
    assert render_point("{prompt}:{completion}", lone, "x", "") == "Hi:x"


@pytest.mark.parametrize(
    "template, mode, message",
    [
        ("{prompt} {first} {second} {answer}", "pairwise", r"unknown placeholder \{answer\}"),
        ("{prompt} {first}", "pairwise", r"lacks the placeholder \{second\}"),
        ("{prompt} {first} {second}", "pointwise", r"unknown placeholder \{first\}"),
        ("{prompt}", "pointwise", r"lacks the placeholder \{completion\}"),
        ("{prompt} {completion", "pointwise", "unbalanced braces"),
        ("{prompt!r} {completion}", "pointwise", "format spec"),
        ("{} {prompt} {completion}", "pointwise", r"unknown placeholder \{\}"),
        ("  ", "pointwise", "empty"),
        ("{prompt} {completion}", "ranking", "Unknown judge mode"),
    ],
)
def test_bad_templates_name_the_placeholder(template, mode, message):
    with pytest.raises(EngineError, match=message):
        check_template(template, mode)


def test_good_templates_pass_with_or_without_criteria_and_with_literal_braces():
    check_template('{{"verdict": ...}} {prompt} {first} {second}', "pairwise")
    check_template(DEFAULT_PAIR_TEMPLATE, "pairwise")
    check_template(DEFAULT_POINT_TEMPLATE, "pointwise")
    assert render_pair("{{x}} {prompt}{first}{second}", "p", "1", "2", "c") == "{x} p12"


def test_judge_modules_the_gui_imports_do_not_import_torch():
    import subprocess
    import sys

    modules = [
        "engine.judge.templates",
        "engine.judge.local",
        "engine.judge.reward",
        "workbench.judging.store",
        "workbench.judging.agreement",
        "workbench.judging.runtime",
        "workbench.jobs.handlers.label_judge",
        "workbench.cli",
    ]
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in modules)
        + "heavy = [m for m in ('torch', 'transformers') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
