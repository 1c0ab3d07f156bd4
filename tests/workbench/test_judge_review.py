"""What the Judge view reads and writes: review rows in the judge's order, confirming and
correcting an AI label, the review tally, the preview pair, a judge model's own template,
and the label_judge job's only_unlabelled option."""

import json

import pytest

from engine.judge.templates import DEFAULT_CRITERIA, DEFAULT_PAIR_TEMPLATE
from tests.engine.judge.fake_openai import FakeEndpoint, chat_reply
from tests.workbench.label_helpers import Tiny
from workbench.data.models import add_model
from workbench.jobs.worker import run_inline
from workbench.judging.review import confirm, correct, review_rows, review_tally
from workbench.judging.setup import (
    agreement_figures,
    own_template,
    preview_pair,
    suggested_tie_margin,
)
from workbench.judging.store import JudgeConfig
from workbench.labels.comparisons import active_comparisons, get_comparison


@pytest.fixture
def tiny(tmp_path):
    t = Tiny(tmp_path / "p")
    yield t
    t.project.close()


def test_review_rows_show_texts_in_the_judges_order_and_others_in_that_order(tiny):
    prompt = tiny.prompt("What is 2 + 2?")
    four, five, six = tiny.completions(prompt, "four", "five", "six")
    unsure = tiny.compare(prompt, [five, four], "b", "ai", judge="j", confidence=0.6)
    sure = tiny.compare(prompt, [four, six], "a", "ai", judge="j", confidence=0.9)
    tiny.compare(prompt, [four, five], "b", "human")  # five over four: against the judge
    tiny.compare(prompt, [six, four], "b", "rule")  # four over six: with the judge
    rows = review_rows(tiny.project, "confidence")
    assert [r.comparison_id for r in rows] == [unsure, sure]
    first = rows[0]
    assert (first.prompt, first.first, first.second) == ("What is 2 + 2?", "five", "four")
    assert (first.outcome, first.human, first.rule) == ("b", "a", None)
    assert first.disagrees_with == ["human"]
    assert (rows[1].human, rows[1].rule, rows[1].disagrees_with) == (None, "a", [])
    assert [r.comparison_id for r in review_rows(tiny.project, "disagreement", "j", 1)] == [unsure]
    assert review_rows(tiny.project, "confidence", judge="someone else") == []


def test_confirm_and_correct_supersede_the_ai_label_with_a_human_one(tiny):
    prompt = tiny.prompt("q")
    ids = tiny.completions(prompt, "w", "x", "y", "z")
    kept = tiny.compare(prompt, ids[:2], "a", "ai", judge="j", confidence=0.7)
    wrong = tiny.compare(prompt, ids[2:], "a", "ai", judge="j", confidence=0.8)
    human = confirm(tiny.project, kept, seconds=2.5)
    assert get_comparison(tiny.project, kept).superseded_by == human
    label = get_comparison(tiny.project, human)
    assert (label.source, label.outcome, label.completion_ids) == ("human", "a", ids[:2])
    fixed = correct(tiny.project, wrong, "both_bad")
    assert get_comparison(tiny.project, fixed).outcome == "both_bad"
    assert active_comparisons(tiny.project, "ai") == []
    assert review_rows(tiny.project) == []
    tally = review_tally(tiny.project, "j")
    assert (tally.reviewed, tally.confirmed, tally.percent) == (2, 1, 50.0)
    assert review_tally(tiny.project, "k").percent is None
    with pytest.raises(ValueError, match="already reviewed"):
        confirm(tiny.project, kept)
    with pytest.raises(ValueError, match="a person's"):
        correct(tiny.project, human, "b")
    with pytest.raises(ValueError, match="not 'left'"):
        correct(tiny.project, tiny.compare(prompt, ids[1:3], "a", "ai"), "left")


def test_agreement_figures_count_active_ai_labels_per_judge(tiny):
    prompt = tiny.prompt("q")
    a, b, c = tiny.completions(prompt, "a", "b", "c")
    tiny.compare(prompt, [a, b], "a", "ai", judge="j")
    tiny.compare(prompt, [a, c], "b", "ai", judge="k")
    tiny.compare(prompt, [b, a], "b", "human")  # a over b, as j said
    figures = agreement_figures(tiny.project, "j")
    assert (figures["ai_labels"], figures["human"].pairs, figures["human"].agreed) == (1, 1, 1)
    assert figures["rule"].pairs == 0 and figures["review"].reviewed == 0
    assert agreement_figures(tiny.project)["ai_labels"] == 2


def test_the_preview_pair_is_two_different_completions_of_one_prompt(tiny):
    assert preview_pair(tiny.project) is None
    lonely = tiny.prompt("one answer only")
    tiny.completions(lonely, "same", "same")
    assert preview_pair(tiny.project) is None
    chat = tiny.prompt(messages=[{"role": "user", "content": "hi"}])
    tiny.completions(chat, "hello", "hello", "hey")
    pair = preview_pair(tiny.project)
    assert (pair.prompt, pair.first, pair.second) == (
        [{"role": "user", "content": "hi"}],
        "hello",
        "hey",
    )


def test_a_local_judge_models_own_template_comes_from_its_judge_json(tiny, tmp_path):
    folder = tmp_path / "judge-model"
    folder.mkdir()
    (folder / "judge.json").write_text(
        json.dumps(
            {"mode": "pairwise", "template": "{prompt} 1:{first} 2:{second}", "criteria": ""}
        )
    )
    model_id = add_model(tiny.project, "j", "local", folder)
    local = JudgeConfig(name="j", model_id=model_id)
    assert own_template(tiny.project, local) == ("{prompt} 1:{first} 2:{second}", "")
    plain = JudgeConfig(name="hub", path="org/some-judge")  # nothing local to read
    assert own_template(tiny.project, plain) == (DEFAULT_PAIR_TEMPLATE, DEFAULT_CRITERIA)
    endpoint = JudgeConfig(name="e", kind="endpoint", base_url="http://127.0.0.1:1/v1", model="m")
    assert own_template(tiny.project, endpoint) == (DEFAULT_PAIR_TEMPLATE, DEFAULT_CRITERIA)
    assert suggested_tie_margin(tiny.project, local) == 0.0  # judge.json names none
    (folder / "judge.json").write_text(json.dumps({"mode": "pairwise", "tie_margin": 0.25}))
    assert suggested_tie_margin(tiny.project, local) == 0.25
    assert suggested_tie_margin(tiny.project, endpoint) == 0.0


def test_only_unlabelled_leaves_pairs_people_and_rules_labelled_alone(tiny):
    prompt = tiny.prompt("q", split="train")
    w, x, y, z = tiny.completions(prompt, "w", "x", "y", "z")  # six pairs
    tiny.compare(prompt, [w, x], "a", "human")
    tiny.compare(prompt, [y, z], "b", "rule")
    config = {"name": "fake", "kind": "endpoint", "base_url": "", "model": "fake"}
    with FakeEndpoint(lambda _request: chat_reply("A", {"A": 0.8, "B": 0.2})) as server:
        config["base_url"] = server.url
        params = {
            "judge_config": config,
            "split": "train",
            "max_pairs_per_prompt": 10,
            "only_unlabelled": True,
        }
        job = run_inline(tiny.project, "label_judge", params)
        assert job.status == "done", job.error
        assert (job.result["labels_added"], job.result["pairs_skipped_labelled_before"]) == (4, 2)
        judged = {frozenset(c.completion_ids) for c in active_comparisons(tiny.project, "ai")}
        assert not judged & {frozenset((w, x)), frozenset((y, z))}
        job = run_inline(tiny.project, "label_judge", {**params, "only_unlabelled": False})
    assert job.result["labels_added"] == 2  # now the two labelled pairs as well
