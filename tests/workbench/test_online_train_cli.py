"""Online RL through `workbench train`: rewards from the project's rules, from a reward
model trained in the project (the RLHF path: labels -> reward model -> PPO), stop and
resume from the control table, and the errors a user can make in the reward config."""

from __future__ import annotations

import json

import pytest

from tests.workbench.train_helpers import labelled_demo, metric_names, summary
from workbench.cli import main
from workbench.demo_project import build_demo_project
from workbench.jobs.control import request
from workbench.project import Project
from workbench.training.runs import get_run

ONLINE_FAST = [
    "max_steps=2",
    "batch_size=2",
    "num_generations=4",
    "max_completion_length=20",
    "eval_every=0",
    "eval_prompts=8",
    "checkpoint_every=0",
    "samples_per_step=1",
    "samples_per_eval=2",
]


def train_json(capsys, project_dir, *settings):
    argv = ["train", str(project_dir), "--json"]
    for item in [*ONLINE_FAST, *settings]:
        argv += ["--set", item]
    code = main(argv)
    return code, json.loads(capsys.readouterr().out)


def test_grpo_run_records_rollout_metrics_samples_and_eval(tmp_path, capsys):
    build_demo_project(tmp_path / "p").close()
    code, out = train_json(capsys, tmp_path / "p", "algorithm=grpo")
    assert code == 0 and out["status"] == "done" and out["step"] == 2, out
    project = Project.open(tmp_path / "p")
    run = get_run(project, out["run_id"])
    assert run.algorithm == "grpo" and run.dataset["counts"]["train"]["prompts"] == 500
    names = metric_names(project, run.id)
    assert {
        "reward",
        "reward_std",
        "frac_reward_zero_std",
        "rewards/answer/mean",
        "rewards/format/mean",
        "completions/mean_length",
        "train/generation_seconds",
        "train/training_seconds",
        "eval_rewards/answer/mean",
    } <= names
    rows = project.db.execute(
        "SELECT step, rewards, advantage FROM samples WHERE run_id = ? AND advantage IS NOT NULL",
        [run.id],
    ).fetchall()
    assert {step for step, _, _ in rows} == {1, 2} and len(rows) == 8  # 1 prompt x 4 per step
    assert all({"answer", "format", "total"} <= set(json.loads(r)) for _, r, _ in rows)
    logs = [
        r[0] for r in project.db.execute("SELECT message FROM run_logs WHERE run_id = ?", [run.id])
    ]
    assert any(line.startswith("reward rules: format") for line in logs)
    assert any(line.startswith("CPU threads: ") for line in logs)  # how many, and why
    assert out["eval"]["eval_rewards/answer/mean"] >= 0


@pytest.mark.slow
def test_rlhf_path_labels_to_reward_model_to_ppo(tmp_path, capsys):
    labelled_demo(tmp_path / "p", prompts=24).close()
    code, reward_run = train_json(
        capsys,
        tmp_path / "p",
        "algorithm=reward",
        "max_steps=6",
        "batch_size=4",
        "checkpoint_every=0",
    )
    assert code == 0 and reward_run["status"] == "done", reward_run
    code, out = train_json(
        capsys,
        tmp_path / "p",
        "algorithm=ppo",
        "reward_rules=false",
        f"reward_model={reward_run['checkpoint_id']}",
        "reward_model_weight=0.5",
    )
    assert code == 0 and out["status"] == "done", out
    project = Project.open(tmp_path / "p")
    names = metric_names(project, out["run_id"])
    assert {
        "rewards/reward_model/mean",
        "policy/approxkl",
        "policy/clipfrac",
        "loss/value",
        "val/explained_variance",
        "objective/kl_coef",
    } <= names
    # The rules are off the reward but watched: their curves are there, the reward is
    # the reward model's score alone, at its weight.
    assert {"rewards/answer/mean", "rewards/format/mean"} <= names

    def curve(name):
        return project.db.execute(
            "SELECT step, value FROM metrics WHERE run_id = ? AND name = ? ORDER BY step",
            [out["run_id"], name],
        ).fetchall()

    reward, scored = curve("reward"), curve("rewards/reward_model/mean")
    assert len(reward) == 2 and [s for s, _ in reward] == [s for s, _ in scored]
    assert [v for _, v in reward] == pytest.approx([0.5 * v for _, v in scored])
    logs = [
        r[0]
        for r in project.db.execute(
            "SELECT message FROM run_logs WHERE run_id = ?", [out["run_id"]]
        )
    ]
    assert "reward watched, not rewarded: format, answer" in logs
    assert summary(project, out["run_id"])["status"] == "done"


def small_verifier_dir(folder):
    """A random model narrower than the demo model, with the demo tokenizer copied: an
    adapter trained on it does not fit the policy's base."""
    import shutil

    from transformers import AutoConfig, AutoModelForCausalLM

    from engine.demo import DEMO_MODEL_DIR

    folder.mkdir(parents=True)
    for item in DEMO_MODEL_DIR.iterdir():
        if "token" in item.name or item.name == "chat_template.jinja":
            shutil.copy(item, folder / item.name)
    config = AutoConfig.from_pretrained(DEMO_MODEL_DIR)
    config.hidden_size, config.intermediate_size, config.num_hidden_layers = 64, 128, 2
    config.head_dim = 16
    AutoModelForCausalLM.from_config(config).save_pretrained(folder)
    return folder


@pytest.mark.slow
def test_reward_model_on_another_base_scores_with_its_own_base(tmp_path, capsys):
    from workbench.data.models import add_model

    project = labelled_demo(tmp_path / "p", prompts=24)
    verifier = add_model(project, "verifier", "local", small_verifier_dir(tmp_path / "verifier"))
    project.close()
    code, reward_run = train_json(
        capsys,
        tmp_path / "p",
        "algorithm=reward",
        "max_steps=2",
        "batch_size=4",
        "checkpoint_every=0",
        f"model_id={verifier}",
    )
    assert code == 0 and reward_run["status"] == "done", reward_run
    code, out = train_json(
        capsys,
        tmp_path / "p",
        "algorithm=rloo",
        "reward_rules=false",
        f"reward_model={reward_run['checkpoint_id']}",
    )
    assert code == 0 and out["status"] == "done", out
    project = Project.open(tmp_path / "p")
    assert get_run(project, out["run_id"]).model_id != verifier
    assert "rewards/reward_model/mean" in metric_names(project, out["run_id"])
    from workbench.training.reward_choices import reward_model_checkpoints

    checkpoint_id, label = reward_model_checkpoints(project)[0]
    assert checkpoint_id == reward_run["checkpoint_id"]
    assert label.startswith(f"#{checkpoint_id}: run {reward_run['run_id']} ")
    assert label.endswith(", step 2 (on verifier)")


def test_reward_config_mistakes_are_explained(tmp_path, capsys):
    build_demo_project(tmp_path / "p").close()
    code, out = train_json(capsys, tmp_path / "p", "algorithm=grpo", "reward_rules=false")
    assert code != 0 and "needs a reward" in out["error"]
    code, out = train_json(capsys, tmp_path / "p", "algorithm=grpo", 'reward_rules=["answr"]')
    assert code != 0 and "answr" in out["error"] and "answer" in out["error"]
    code, out = train_json(capsys, tmp_path / "p", "algorithm=grpo", "reward_model=1")
    assert code != 0 and "checkpoint 1" in out["error"].lower()


def test_stop_request_saves_and_resume_continues_the_steps(tmp_path, capsys, monkeypatch):
    build_demo_project(tmp_path / "p").close()
    from workbench.training import recorder as train_recorder

    real_poll = train_recorder.RunRecorder._poll
    asked = []

    def stop_after_first_step(self):
        # What the Train view's Stop button does: a control row for the run's job.
        if get_run(self.project, self.run_id).step >= 1 and not asked:
            asked.append(request(self.project, self.ctx.job.id, "stop"))
        return real_poll(self)

    monkeypatch.setattr(train_recorder.RunRecorder, "_poll", stop_after_first_step)
    code, out = train_json(capsys, tmp_path / "p", "algorithm=grpo", "max_steps=3")
    assert code == 0 and out["status"] == "stopped" and out["step"] == 1, out
    monkeypatch.setattr(train_recorder.RunRecorder, "_poll", real_poll)
    assert main(["train", str(tmp_path / "p"), "--resume", str(out["run_id"]), "--json"]) == 0
    resumed = json.loads(capsys.readouterr().out)
    assert resumed["status"] == "done" and resumed["step"] == 3
    project = Project.open(tmp_path / "p")
    steps = [
        r[0]
        for r in project.db.execute(
            "SELECT step FROM metrics WHERE run_id = ? AND name = 'reward' ORDER BY step",
            [out["run_id"]],
        )
    ]
    assert steps == [1, 2, 3] and asked
    checkpoints = [
        r[0]
        for r in project.db.execute(
            "SELECT step FROM checkpoints WHERE run_id = ? ORDER BY step", [out["run_id"]]
        )
    ]
    assert checkpoints == [1, 3]
