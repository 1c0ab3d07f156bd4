"""`workbench compare --reward-model`: a reward model trained in the project scores every
answer of the comparison, as it scores them when called directly; the scores are stored
with the comparison and never computed twice; a checkpoint that is not a reward model,
or whose base model is gone, is refused by name with nothing stored."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import shutil

import pytest

import workbench.comparing.reward_scores as reward_scores
from tests.workbench.train_helpers import FAST, labelled_demo
from workbench.cli import main
from workbench.comparing.choices import Decoding, EntrantChoice, PromptSet
from workbench.comparing.store import find_or_create, load
from workbench.data.models import add_model, checkpoint_adapter, default_model
from workbench.data.prompts import get_prompt
from workbench.jobs import queue as jobs
from workbench.project import Project
from workbench.training.runs import add_checkpoint, create_run


def _compare(capsys, project_dir, *extra):
    code = main(["compare", str(project_dir), "--quiet", "--json", *extra])
    return code, json.loads(capsys.readouterr().out)


def _count(project, table):
    return project.db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


def _direct_scores(project, checkpoint_id, prompt_ids, texts):
    """The reward model called directly, as PPO builds it, on the same texts."""
    from engine.loading import load_tokenizer, model_folder
    from engine.model_source import ModelSpec
    from engine.training.online.reward_model import reward_model_source

    spec = ModelSpec(**default_model(project).load_spec())
    folder, _ = model_folder(spec)
    scorer = reward_model_source(
        folder,
        checkpoint_adapter(project, checkpoint_id),
        load_tokenizer(folder),
        dtype="float32",
        device="cpu",
    )
    prompts = [get_prompt(project, p).engine_input for p in prompt_ids]
    return scorer.score(prompts, texts, [None] * len(texts)).values


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """The labelled demo with a reward model trained for two steps (once per module)."""
    folder = tmp_path_factory.mktemp("rewarded") / "p"
    labelled_demo(folder, prompts=12).close()
    argv = ["train", str(folder), "--json"]
    for item in [*FAST, "algorithm=reward", "max_steps=2", "checkpoint_every=0"]:
        argv += ["--set", item]
    said = io.StringIO()
    with contextlib.redirect_stdout(said):
        code = main(argv)
    out = json.loads(said.getvalue())
    assert code == 0 and out["checkpoint_id"] is not None, out
    return folder, out["checkpoint_id"]


@pytest.fixture
def rewarded_project(trained, tmp_path):
    """A copy of the trained project with a second base model on the same weights
    (another entrant that writes the same answers)."""
    source, reward_model = trained
    folder = tmp_path / "p"
    shutil.copytree(source, folder)
    project = Project.open(folder)
    twin = add_model(project, "twin", "local", default_model(project).load_spec()["path"])
    project.close()
    return folder, reward_model, twin


def test_reward_model_scores_equal_direct_scores_and_are_stored_once(rewarded_project, capsys):
    folder, reward_model, twin = rewarded_project
    args = ("--models", f"base,base:{twin}", "--limit", "3", "--rows")
    code, first = _compare(capsys, folder, *args, "--reward-model", str(reward_model))
    assert code == 0 and first["ok"], first
    reward = first["reward"]
    assert reward["source"] == "reward_model" and reward["checkpoint_id"] == reward_model
    assert reward["scored"] == 6 and reward["reused"] == 0  # 3 prompts x 2 entrants

    project = Project.open(folder)
    comparison = load(project, first["comparison_id"])
    assert comparison.reward_model_id == reward_model
    for position, model in enumerate(first["models"]):
        answers = [row["entrants"][position]["answers"][0] for row in first["rows"]]
        direct = _direct_scores(
            project, reward_model, comparison.prompt_ids, [a["text"] for a in answers]
        )
        assert [a["reward"] for a in answers] == pytest.approx(direct, abs=1e-5)
        assert model["mean_reward"] == pytest.approx(sum(direct) / len(direct), abs=1e-5)
        # The rules' total is still there, and is what eval's summary keeps.
        assert model["mean_rule_reward"] is not None
    for row in first["rows"]:
        base, other = row["entrants"]
        assert base["reward_delta"] is None
        assert other["reward_delta"] == pytest.approx(other["reward"] - base["reward"])
    assert _count(project, "reward_model_scores") == 6

    # Again, without naming it: the comparison keeps its reward model and scores nothing.
    code, again = _compare(capsys, folder, *args)
    assert code == 0 and again["reward"]["scored"] == 0 and again["reward"]["reused"] == 6
    assert again["generated"] == 0 and again["models"] == first["models"]
    assert _count(project, "reward_model_scores") == 6

    # "none" goes back to the rules' reward.
    code, rules = _compare(capsys, folder, *args, "--reward-model", "none")
    assert code == 0 and rules["reward"]["source"] == "rules"
    assert [m["mean_reward"] for m in rules["models"]] == [
        m["mean_rule_reward"] for m in first["models"]
    ]
    project.close()


def test_a_cancelled_scoring_keeps_its_finished_batches(rewarded_project, run_queue):
    folder, reward_model, twin = rewarded_project
    project = Project.open(folder)
    comparison, _ = find_or_create(
        project,
        [EntrantChoice(), EntrantChoice(model_id=twin)],
        PromptSet(split="eval", limit=3),
        Decoding(),
    )
    params = {"comparison_id": comparison.id, "reward_model": reward_model, "batch_size": 2}
    job_id = jobs.submit(project, "compare", params)
    real = reward_scores._load_scorer

    def cancelled_after_a_batch(*args, **kwargs):
        scorer = real(*args, **kwargs)
        score = scorer.score

        def score_then_cancel(*batch):
            values = score(*batch)
            jobs.cancel(project, job_id)  # Cancel pressed while the first batch is scored
            return values

        return dataclasses.replace(scorer, score=score_then_cancel)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(reward_scores, "_load_scorer", cancelled_after_a_batch)
        assert run_queue(project) == 1
    job = jobs.get(project, job_id)
    assert job.status == "cancelled", job.error
    assert job.result["reward"]["scored"] == 2
    assert _count(project, "reward_model_scores") == 2

    again = jobs.submit(project, "compare", params)
    assert run_queue(project) == 1
    done = jobs.get(project, again).result
    assert done["reward"]["scored"] == 4 and done["reward"]["reused"] == 2
    assert done["generated"] == 0 and _count(project, "reward_model_scores") == 6
    assert all(m["mean_reward"] is not None for m in done["models"])
    project.close()


def _refused(capsys, folder, *extra):
    code, out = _compare(capsys, folder, "--models", "base", "--limit", "2", *extra)
    assert code == 1 and not out["ok"]
    project = Project.open(folder)
    assert _count(project, "comparison_sets") == 0 and _count(project, "jobs") == 0
    assert _count(project, "reward_model_scores") == 0
    project.close()
    return out["error"]


def _checkpoint(project, algorithm, model_id, name):
    run_id = create_run(
        project,
        algorithm=algorithm,
        config={},
        dataset={},
        dataset_hash="x",
        model_id=model_id,
        parent_checkpoint_id=None,
        job_id=None,
        name=name,
        max_steps=1,
    )
    adapter = project.path / "runs" / name / "checkpoint-1"
    adapter.mkdir(parents=True)
    return add_checkpoint(project, run_id, 1, adapter, {})


def test_a_checkpoint_that_cannot_score_is_refused_by_name(demo_project, capsys, tmp_path):
    policy = _checkpoint(demo_project, "dpo", 1, "policy")
    gone_model = add_model(demo_project, "gone", "local", tmp_path / "gone-model")
    orphan = _checkpoint(demo_project, "reward", gone_model, "orphan")
    folder = demo_project.path

    error = _refused(capsys, folder, "--reward-model", str(policy))
    assert f"Checkpoint {policy}" in error and "dpo run, not a reward model" in error
    error = _refused(capsys, folder, "--reward-model", str(orphan))
    assert f"checkpoint {orphan}" in error and "'gone'" in error
    assert str(tmp_path / "gone-model") in error
    assert "checkpoint 999" in _refused(capsys, folder, "--reward-model", "999")
    assert "'latest'" in _refused(capsys, folder, "--reward-model", "latest")
