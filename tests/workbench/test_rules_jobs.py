import json

from engine.demo.task import is_correct
from engine.rules.spec import RuleSpec
from workbench.cli import main
from workbench.data.completions import CompletionRecord, add_completions
from workbench.data.prompts import PromptRecord, add_prompts
from workbench.jobs import queue as jobs
from workbench.jobs.worker import run_inline
from workbench.labels.comparisons import active_comparisons, get_comparison, override
from workbench.project import Project
from workbench.rules.store import RuleStoreError, add_rule, list_rules


def test_demo_project_stores_its_answer_rules(demo_project):
    names = {spec.name: spec for _, spec in list_rules(demo_project)}
    assert set(names) == {"format", "answer"}
    assert names["format"].gate and names["answer"].kind == "numeric"


def test_invalid_or_duplicate_rules_are_refused(demo_project):
    try:
        add_rule(demo_project, RuleSpec(name="bad", kind="regex", params={"pattern": "(unclosed"}))
    except ValueError as exc:
        assert "pattern" in str(exc)
    else:
        raise AssertionError("an invalid regex was stored")
    try:
        add_rule(
            demo_project, RuleSpec(name="answer", kind="contains", params={"substrings": ["x"]})
        )
    except RuleStoreError as exc:
        assert "exists already" in str(exc)
    else:
        raise AssertionError("a duplicate name was stored")


def test_eval_pass_rate_agrees_with_the_demo_task_check(demo_project, capsys):
    assert main(["eval", str(demo_project.path), "--limit", "60", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] and out["count"] == 60 and out["split"] == "eval"
    rows = list(
        demo_project.db.query(
            "SELECT c.text, p.reference, c.id FROM completions c JOIN prompts p ON p.id = c.prompt_id "
            "WHERE c.job_id = ?",
            [out["job_id"]],
        )
    )
    expected = sum(is_correct(r["text"], int(r["reference"])) for r in rows) / len(rows)
    # The gated total counts a right number only in the right format: the demo's own check.
    assert abs(out["mean_reward"] - (expected * 1.0 + 0.1 * out["pass_rate"]["format"])) < 1e-9
    scores = demo_project.db.execute(
        "SELECT COUNT(*) FROM completion_scores WHERE evaluation_id = ?", [out["evaluation_id"]]
    ).fetchone()[0]
    assert scores == 60 * 2


def _prompt_with_completions(project, texts, reference="5"):
    [prompt_id] = add_prompts(
        project,
        [PromptRecord(text="What is 2 + 3?", messages=None, split="train", reference=reference)],
    )
    ids = add_completions(project, [CompletionRecord(prompt_id=prompt_id, text=t) for t in texts])
    return prompt_id, dict(zip(texts, ids, strict=True))


def test_rule_labels_prefer_higher_reward_and_skip_ties(tmp_path):
    project = Project.create(tmp_path / "p")
    add_rule(project, RuleSpec(name="answer", kind="numeric", params={}))
    _, ids = _prompt_with_completions(
        project, ["The answer is 5.", "The answer is 6.", "7", "5 it is"]
    )
    job = run_inline(project, "label_rules", {"max_pairs_per_prompt": 10})
    assert job.status == "done", job.error
    labels = active_comparisons(project, "rule")
    winners = {c.completion_ids[0] for c in labels}
    losers = {c.completion_ids[1] for c in labels}
    assert winners == {ids["The answer is 5."], ids["5 it is"]}
    assert losers == {ids["The answer is 6."], ids["7"]}
    assert len(labels) == 4 and all(c.outcome == "a" and c.source == "rule" for c in labels)
    again = run_inline(project, "label_rules", {"max_pairs_per_prompt": 10})
    assert again.result["pairs_added"] == 0  # re-running adds no duplicates


def test_a_human_overrides_a_rule_label_and_both_are_kept(tmp_path):
    project = Project.create(tmp_path / "p")
    add_rule(project, RuleSpec(name="answer", kind="numeric", params={}))
    _prompt_with_completions(project, ["The answer is 5.", "The answer is 6."])
    run_inline(project, "label_rules", {})
    [rule_label] = active_comparisons(project, "rule")
    human_id = override(project, rule_label.id, "b", note="the rule is wrong here")
    assert get_comparison(project, rule_label.id).superseded_by == human_id
    assert [c.id for c in active_comparisons(project)] == [human_id]
    assert get_comparison(project, human_id).source == "human"


def test_label_with_generated_candidates_on_the_demo(demo_project, run_queue):
    job = jobs.submit(demo_project, "label_rules", {"split": "train", "limit": 12, "generate": 4})
    run_queue(demo_project)
    result = jobs.get(demo_project, job).result
    assert result["prompts"] == 12 and result["completions_scored"] >= 12
    assert result["pairs_added"] > 0
    for label in active_comparisons(demo_project, "rule"):
        texts = dict(
            demo_project.db.execute(
                "SELECT id, text FROM completions WHERE id IN (?, ?)", label.completion_ids
            ).fetchall()
        )
        reference = int(
            demo_project.db.execute(
                "SELECT reference FROM prompts WHERE id = ?", [label.prompt_id]
            ).fetchone()[0]
        )
        winner, loser = label.completion_ids
        assert is_correct(texts[winner], reference) >= is_correct(texts[loser], reference)
