"""`workbench label --by judge` end to end on the demo project: a local judge (the demo
model asked with a short template), a one-off endpoint judge, and the shipped demo judge."""

import json
import re

import pytest

import engine.demo
from engine.demo.task import format_answer, parse_answer
from tests.engine.conftest import build_model_dir
from tests.engine.judge.fake_openai import FakeEndpoint, chat_reply
from workbench.cli import main
from workbench.data.completions import CompletionRecord, add_completions
from workbench.data.prompts import list_prompts
from workbench.demo_project import build_demo_project
from workbench.jobs import control
from workbench.jobs import queue as jobs
from workbench.jobs.worker import run_inline
from workbench.judging.store import JudgeConfig, save_judge
from workbench.labels.comparisons import active_comparisons, add_comparison, override

TEMPLATE = "{prompt}\nA: {first}\nB: {second}\nBetter:"  # fits the demo model's 128 positions
LONG = "The answer is " + "9" * 150 + "."  # too long for it: an error, never a label


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.setattr(engine.demo, "DEMO_JUDGE_DIR", tmp_path / "no-demo-judge")
    project = build_demo_project(tmp_path / "demo")
    save_judge(project, JudgeConfig(name="arith", model_id=1, template=TEMPLATE, criteria=""))
    yield project
    project.close()


def add_candidates(project, count=3, long_on_first=True):
    """Per prompt: the right answer, off by one, off by ten (3 pairs); the first prompt also
    gets a completion too long for the judge (3 more pairs, all errors)."""
    prompts = list_prompts(project, split="train", limit=count)
    texts = {}
    for index, prompt in enumerate(prompts):
        answer = int(prompt.reference)
        options = [format_answer(answer), format_answer(answer + 1), format_answer(answer - 10)]
        if index == 0 and long_on_first:
            options.append(LONG)
        ids = add_completions(
            project, [CompletionRecord(prompt_id=prompt.id, text=t) for t in options]
        )
        texts.update(zip(ids, options, strict=True))
    return prompts, texts


def label(project, *extra):
    return main(
        ["label", str(project.path), "--by", "judge", "--split", "train", "--limit", "3", *extra]
    )


def test_local_judge_labels_are_stored_with_source_identity_and_confidence(project, capsys):
    prompts, texts = add_candidates(project)
    assert label(project, "--judge", "arith", "--max-pairs-per-prompt", "10", "--json") == 0
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert out["ok"] and out["judge"] == "arith" and out["pairs"] == 12
    assert out["identity"].startswith("local:workbench-demo-arith#")
    assert (out["labels_added"], out["errors"], out["pairs_judged"]) == (9, 3, 12)
    assert "128" in out["error_examples"][0] and len(out["error_examples"]) == 1
    assert "labelling by judge" in captured.err  # the progress bar
    job = jobs.get(project, out["job_id"])
    assert job.progress_done == job.progress_total == 12

    labels = active_comparisons(project, "ai")
    assert len(labels) == 9
    assert all(texts[i] != LONG for c in labels for i in c.completion_ids)
    confidences = [c.confidence for c in labels]
    assert all(0.5 <= value <= 1.0 for value in confidences)
    assert out["mean_confidence"] == pytest.approx(sum(confidences) / 9)
    check_against_the_judge_itself(project, labels, texts, out["identity"])


def check_against_the_judge_itself(project, labels, texts, identity):
    """Each stored label is the verdict on its pair in the stored (shown) order."""
    from engine.judge.base import PairItem
    from engine.judge.local import LocalJudge
    from engine.loading import load_model
    from engine.model_source import ModelSpec

    loaded = load_model(ModelSpec(str(engine.demo.DEMO_MODEL_DIR)), "cpu", "float32")
    judge = LocalJudge(loaded, template=TEMPLATE, criteria="", name="workbench-demo-arith")
    assert judge.identity == identity
    questions = {p.id: p.text for p in list_prompts(project, split="train", limit=3)}
    items = [
        PairItem(questions[c.prompt_id], texts[c.completion_ids[0]], texts[c.completion_ids[1]])
        for c in labels
    ]
    for stored, verdict in zip(labels, judge.compare(items), strict=True):
        assert stored.judge == identity and stored.source == "ai"
        assert stored.outcome == ("a" if verdict.prob_first >= 0.5 else "b")
        assert stored.confidence == pytest.approx(verdict.confidence, abs=1e-5)


def test_rerunning_skips_judged_pairs_even_after_a_human_override(project, capsys):
    add_candidates(project, count=2, long_on_first=False)
    assert label(project, "--judge", "arith", "--json") == 0
    first = json.loads(capsys.readouterr().out)
    assert first["labels_added"] == 6 and first["errors"] == 0
    labels = active_comparisons(project, "ai")
    flipped = {"a": "b", "b": "a"}
    override(project, labels[0].id, flipped[labels[0].outcome])  # the person disagrees
    add_comparison(
        project, labels[1].prompt_id, labels[1].completion_ids, labels[1].outcome, "human"
    )  # ... and agrees on another pair
    assert label(project, "--judge", "arith") == 0
    summary = capsys.readouterr().out
    assert "added 0 label(s)" in summary and "6 pair(s) skipped" in summary
    assert "No new pair to judge" in summary
    # The overridden AI label is no longer active: the agreeing pair is the one shared.
    assert "Agreement with human labels: 100.0% over 1 pair(s)" in summary
    assert "Agreement with rule labels: no pair labelled by both yet." in summary


def test_tie_margin_turns_unsure_verdicts_into_ties(project, capsys):
    add_candidates(project, count=1, long_on_first=False)
    assert label(project, "--judge", "arith", "--tie-margin", "0.5", "--json") == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ties"] == out["labels_added"] == 3
    assert {c.outcome for c in active_comparisons(project, "ai")} == {"tie"}


def test_a_stop_request_keeps_the_labels_made_so_far(project):
    add_candidates(project, count=1, long_on_first=False)
    save_judge(project, JudgeConfig(name="slow", model_id=1, template=TEMPLATE, batch_size=2))

    def stop_after_first_pair(done, total, message):
        if message == "judging" and done == 1:
            control.request(project, jobs.list_jobs(project, limit=1)[0].id, "stop")

    job = run_inline(
        project,
        "label_judge",
        {"judge": "slow", "split": "train", "limit": 1},
        on_progress=stop_after_first_pair,
    )
    assert job.status == "done"
    assert (job.result["labels_added"], job.result["stopped"]) == (1, 2)
    assert len(active_comparisons(project, "ai")) == 1


def miss(text, answer):
    return abs(parse_answer(text) - answer)


def arithmetic_endpoint(references):
    """A fake endpoint judge that knows the answers: 90% sure of the closer one."""
    pattern = re.compile(r"Q: (.*)\nA: (.*)\nB: (.*)\n")

    def script(request):
        question, a, b = pattern.search(request.text).groups()
        right = "A" if miss(a, references[question]) < miss(b, references[question]) else "B"
        return chat_reply(right, {right: 0.9, "B" if right == "A" else "A": 0.1})

    return script


def test_a_one_off_endpoint_judge(project, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    prompts, texts = add_candidates(project, count=2, long_on_first=False)
    template = tmp_path / "judge.txt"
    template.write_text("Q: {prompt}\nA: {first}\nB: {second}\n{criteria}\nReply A or B.")
    references = {p.text: int(p.reference) for p in prompts}
    with FakeEndpoint(arithmetic_endpoint(references)) as server:
        code = label(
            project,
            "--endpoint",
            server.url,
            "--model",
            "fake-judge",
            "--template",
            str(template),
            "--json",
        )
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["labels_added"] == 6 and out["errors"] == 0
    assert out["identity"].startswith(f"endpoint:fake-judge@{server.url}#")
    assert out["requests_sent"] == 12  # both orders of each pair
    by_prompt = {p.id: int(p.reference) for p in prompts}
    for c in active_comparisons(project, "ai"):
        winner, loser = c.completion_ids if c.outcome == "a" else c.completion_ids[::-1]
        answer = by_prompt[c.prompt_id]
        assert miss(texts[winner], answer) < miss(texts[loser], answer)
        assert c.confidence == pytest.approx(0.9)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--by", "rules", "--judge", "arith"], "--judge only apply to --by judge"),
        (["--by", "judge", "--endpoint", "http://127.0.0.1:1/v1"], "needs both --endpoint"),
        (["--by", "judge", "--judge", "nobody"], "no judge named 'nobody'"),
        (["--by", "judge", "--template", "/no/such/file"], "Could not read the judge template"),
        (["--by", "rules", "--temperature", "1.5"], "--temperature applies to the candidates"),
        (
            ["--by", "rules", "--generate", "2", "--temperature", "0"],
            "--temperature must be above 0",
        ),
    ],
)
def test_bad_options_say_what_to_fix(project, capsys, args, message):
    assert main(["label", str(project.path), *args]) == 1
    assert message in capsys.readouterr().err
    assert active_comparisons(project, "ai") == []


def test_the_default_judge_is_the_shipped_demo_judge(tmp_path, monkeypatch, capsys):
    judge_dir = build_model_dir(tmp_path / "judge", max_position_embeddings=256)
    # A margin of 0.5 makes every verdict but a certain one a tie: the job reads it.
    (judge_dir / "judge.json").write_text(
        json.dumps(
            {
                "mode": "pairwise",
                "template": "{prompt} a:{first} b:{second}",
                "choices": ["a", "b"],
                "criteria": "",
                "tie_margin": 0.5,
            }
        )
    )
    monkeypatch.setattr(engine.demo, "DEMO_JUDGE_DIR", judge_dir)
    project = build_demo_project(tmp_path / "demo")
    add_candidates(project, count=1, long_on_first=False)
    assert label(project, "--json") == 0
    out = json.loads(capsys.readouterr().out)
    assert out["judge"] == "demo-judge" and out["labels_added"] == 3
    assert out["tie_margin"] == 0.5 and out["ties"] == 3
    assert out["identity"].startswith("local:workbench-demo-judge#")
    project.close()


@pytest.mark.skipif(
    not (engine.demo.DEMO_JUDGE_DIR / "config.json").is_file(),
    reason="this checkout does not ship the demo judge yet",
)
def test_the_real_demo_judge_labels_the_demo_project(tmp_path, capsys):
    project = build_demo_project(tmp_path / "demo")
    add_candidates(project, count=3, long_on_first=False)
    assert label(project, "--json") == 0
    out = json.loads(capsys.readouterr().out)
    assert out["judge"] == "demo-judge" and out["errors"] == 0 and out["labels_added"] == 9
    project.close()


def test_temperature_and_seed_go_to_the_candidates_sampling():
    from argparse import Namespace

    from workbench.cli.judge_commands import candidate_sampling

    assert candidate_sampling(Namespace(seed=3, temperature=1.5)) == {"seed": 3, "temperature": 1.5}
    assert candidate_sampling(Namespace(seed=None, temperature=None)) is None
