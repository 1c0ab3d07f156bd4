import json

import pytest

import engine.generation
import engine.session
from tests.workbench.test_train_cli import train_json
from tests.workbench.train_helpers import labelled_demo
from workbench.cli import main
from workbench.comparing.choices import Decoding, EntrantChoice, PromptSet
from workbench.comparing.figures import figures, wilson_interval
from workbench.comparing.fill import fill
from workbench.comparing.store import find_or_create, list_comparisons, load
from workbench.data.completions import count_completions
from workbench.data.models import add_model
from workbench.jobs import queue as jobs
from workbench.project import Project
from workbench.training.runs import add_checkpoint, create_run


def _count(project, table):
    return project.db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


def _compare(capsys, project_dir, *extra):
    code = main(["compare", str(project_dir), "--quiet", "--json", *extra])
    return code, json.loads(capsys.readouterr().out)


def _eval(capsys, project_dir, *extra):
    assert main(["eval", str(project_dir), "--limit", "5", "--json", *extra]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def counted_generate(monkeypatch):
    """Counts generate calls and base-model loads."""
    calls = {"generate": 0, "load": 0}
    generate, load_model = engine.generation.generate, engine.session.load_model

    def counting_generate(*args, **kwargs):
        calls["generate"] += 1
        return generate(*args, **kwargs)

    def counting_load(*args, **kwargs):
        calls["load"] += 1
        return load_model(*args, **kwargs)

    monkeypatch.setattr(engine.generation, "generate", counting_generate)
    monkeypatch.setattr(engine.session, "load_model", counting_load)
    return calls


@pytest.mark.parametrize(
    ("passed", "n", "low", "high"),
    [
        # Worked by hand from p, z = 1.96: center (p + z²/2n) / (1 + z²/n),
        # half-width z·sqrt(p(1-p)/n + z²/4n²) / (1 + z²/n).
        (5, 10, 0.2366, 0.7634),
        (0, 10, 0.0, 0.2775),
        (10, 10, 0.7225, 1.0),
        (8, 10, 0.4902, 0.9433),
        (1, 5, 0.0362, 0.6245),
        (0, 0, 0.0, 1.0),
    ],
)
def test_wilson_interval_matches_hand_worked_values(passed, n, low, high):
    got = wilson_interval(passed, n)
    assert got == pytest.approx((low, high), abs=5e-5)


def test_compare_agrees_with_eval_and_is_reused(tmp_path, capsys, counted_generate):
    labelled_demo(tmp_path / "p").close()
    code, trained = train_json(capsys, tmp_path / "p")
    assert code == 0
    checkpoint = trained["checkpoint_id"]
    counted_generate.update(generate=0, load=0)

    code, out = _compare(capsys, tmp_path / "p", "--models", f"base,{checkpoint}", "--limit", "5")
    assert code == 0 and out["ok"] and out["created"] and out["generated"] == 10
    # One batch of 5 prompts per entrant; the checkpoint runs on the base model loaded once.
    assert counted_generate == {"generate": 2, "load": 1}
    base, trained_model = out["models"]
    assert base["id"] == "base" and trained_model["id"] == checkpoint
    assert trained_model["label"].endswith("step 4")
    assert base["n"] == trained_model["n"] == 5

    for model, extra in ((base, ()), (trained_model, ("--checkpoint", str(checkpoint)))):
        evaluation = _eval(capsys, tmp_path / "p", *extra)
        assert model["pass_rate"] == evaluation["pass_rate"]
        assert model["mean_reward"] == pytest.approx(evaluation["mean_reward"])
        assert model["mean_length_tokens"] == pytest.approx(evaluation["mean_length_tokens"])
        for rule, rate in model["pass_rate"].items():
            low, high = model["pass_rate_ci"][rule]
            assert (low, high) == pytest.approx(wilson_interval(round(rate * 5), 5))
            assert low <= rate <= high

    project = Project.open(tmp_path / "p")
    stored = count_completions(project)
    counted_generate.update(generate=0, load=0)
    code, again = _compare(
        capsys, tmp_path / "p", "--models", f"base,{checkpoint}", "--limit", "5", "--rows"
    )
    assert code == 0 and not again["created"] and again["generated"] == again["scored"] == 0
    assert again["comparison_id"] == out["comparison_id"]
    assert counted_generate == {"generate": 0, "load": 0}
    assert count_completions(project) == stored
    assert [m["pass_rate"] for m in again["models"]] == [m["pass_rate"] for m in out["models"]]
    assert len(again["rows"]) == 5
    verdicts = [row["entrants"][1]["verdict"] for row in again["rows"]]
    assert all(v in ("improved", "regressed", "unchanged", "all-fail") for v in verdicts)
    assert sum(again["models"][1]["verdicts"].values()) == 5
    for row in again["rows"]:
        base_cell, other = row["entrants"]
        assert base_cell["verdict"] is None and len(other["answers"]) == 1
        if other["verdict"] == "improved":
            assert other["reward"] > base_cell["reward"]
        elif other["verdict"] == "regressed":
            assert other["reward"] < base_cell["reward"]


def test_compare_reuses_the_completions_of_an_earlier_eval(demo_project, capsys):
    evaluation = _eval(capsys, demo_project.path)
    before = count_completions(demo_project)
    code, out = _compare(capsys, demo_project.path, "--models", "base", "--limit", "5")
    assert code == 0 and out["generated"] == 0 and out["scored"] == 5
    assert count_completions(demo_project) == before
    assert out["models"][0]["pass_rate"] == evaluation["pass_rate"]
    summary = json.loads(
        demo_project.db.execute(
            "SELECT summary FROM evaluations WHERE id = ?", [out["models"][0]["evaluation_id"]]
        ).fetchone()[0]
    )
    assert summary["count"] == 5 and summary["pass_rate"] == evaluation["pass_rate"]


def _base_comparison(project, limit, decoding=None):
    comparison, created = find_or_create(
        project, [EntrantChoice()], PromptSet(split="eval", limit=limit), decoding or Decoding()
    )
    assert created
    return comparison


def test_a_stopped_fill_keeps_finished_batches_and_the_next_fill_completes(demo_project):
    comparison = _base_comparison(demo_project, 6)
    asked = []

    def stop_after_one_batch():
        asked.append(1)
        return len(asked) > 1

    reports = []
    result = fill(
        demo_project,
        comparison.id,
        lambda done, total, message: reports.append((done, total)),
        stop_after_one_batch,
        batch_size=2,
    )
    assert result.stopped and result.generated == 2
    assert count_completions(demo_project) == 2
    assert _count(demo_project, "completion_scores") == 2 * 2
    assert reports[-1] == (2, 6)
    assert figures(demo_project, load(demo_project, comparison.id))["models"][0]["n"] == 2

    result = fill(demo_project, comparison.id, batch_size=2)
    assert not result.stopped and result.generated == 4
    assert count_completions(demo_project) == 6
    assert figures(demo_project, load(demo_project, comparison.id))["models"][0]["n"] == 6


def test_a_batch_that_fails_to_store_leaves_nothing_of_itself(demo_project, monkeypatch):
    import workbench.comparing.fill as fill_module

    comparison = _base_comparison(demo_project, 4)
    store_scores, calls = fill_module.store_scores, []

    def failing_second(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return store_scores(*args, **kwargs)

    monkeypatch.setattr(fill_module, "store_scores", failing_second)
    with pytest.raises(RuntimeError, match="disk full"):
        fill(demo_project, comparison.id, batch_size=2)
    assert count_completions(demo_project) == 2
    assert _count(demo_project, "completion_scores") == 2 * 2


def test_sampled_comparison_draws_each_seed_once(demo_project):
    decoding = Decoding(greedy=False, seeds=2, temperature=1.0)
    comparison = _base_comparison(demo_project, 2, decoding)
    assert fill(demo_project, comparison.id).generated == 4
    seeds = demo_project.db.execute(
        "SELECT prompt_id, seed, settings FROM completions ORDER BY prompt_id, seed"
    ).fetchall()
    assert [(s[1], json.loads(s[2])["temperature"]) for s in seeds] == [(0, 1.0), (1, 1.0)] * 2
    assert fill(demo_project, comparison.id).generated == 0
    shown = figures(demo_project, load(demo_project, comparison.id), rows=True)
    assert shown["models"][0]["n"] == 4 and not shown["greedy"]
    assert [len(row["entrants"][0]["answers"]) for row in shown["rows"]] == [2, 2]
    again, created = find_or_create(
        demo_project, [EntrantChoice()], PromptSet(split="eval", limit=2), decoding
    )
    assert not created and again.id == comparison.id


def test_prompt_sets_resolve_to_stored_prompt_ids(demo_project):
    eval_ids = [
        r[0] for r in demo_project.db.execute("SELECT id FROM prompts WHERE split = 'eval'")
    ]
    sample = PromptSet(split="eval", sample=5, sample_seed=3)
    first, _ = find_or_create(demo_project, [EntrantChoice()], sample, Decoding())
    assert len(first.prompt_ids) == 5 and set(first.prompt_ids) <= set(eval_ids)
    explicit = PromptSet(split=None, prompt_ids=(eval_ids[7], eval_ids[2]))
    second, _ = find_or_create(demo_project, [EntrantChoice()], explicit, Decoding())
    assert second.prompt_ids == [eval_ids[7], eval_ids[2]]
    assert [c.id for c in list_comparisons(demo_project)] == [second.id, first.id]


def _refused(capsys, project, models, *extra):
    code, out = _compare(capsys, project.path, "--models", models, *extra)
    assert code == 1 and not out["ok"]
    assert _count(project, "comparison_sets") == 0
    assert _count(project, "comparison_set_entries") == _count(project, "evaluations") == 0
    return out["error"]


def test_bad_input_is_refused_by_name_and_nothing_is_stored(demo_project, capsys, tmp_path):
    assert "checkpoint 99" in _refused(capsys, demo_project, "base,99")
    assert "split 'nosuch'" in _refused(capsys, demo_project, "base", "--split", "nosuch")
    too_many = _refused(capsys, demo_project, "base," + ",".join(str(i) for i in range(1, 10)))
    assert "at most 8" in too_many and "checkpoint 9" in too_many
    assert "listed twice" in _refused(capsys, demo_project, "base,base")
    assert "'latest'" in _refused(capsys, demo_project, "base,latest")

    gone = tmp_path / "gone-model"
    model_id = add_model(demo_project, "gone", "local", gone)
    run_id = create_run(
        demo_project,
        algorithm="dpo",
        config={},
        dataset={},
        dataset_hash="x",
        model_id=model_id,
        parent_checkpoint_id=None,
        job_id=None,
        name="old run",
        max_steps=1,
    )
    adapter = demo_project.path / "runs" / "old" / "checkpoint-1"
    adapter.mkdir(parents=True)
    checkpoint = add_checkpoint(demo_project, run_id, 1, adapter, {})
    error = _refused(capsys, demo_project, f"base,{checkpoint}")
    assert f"Checkpoint {checkpoint}" in error and "'gone'" in error and str(gone) in error


def test_the_compare_job_runs_from_the_queue(demo_project, run_queue):
    comparison = _base_comparison(demo_project, 3)
    job_id = jobs.submit(demo_project, "compare", {"comparison_id": comparison.id})
    assert run_queue(demo_project) == 1
    job = jobs.get(demo_project, job_id)
    assert job.status == "done" and job.result["generated"] == 3
    assert job.result["models"][0]["n"] == 3
    assert count_completions(demo_project, job_id=job_id) == 3
