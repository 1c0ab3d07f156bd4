"""What the Train view's reward panel offers: rules with their state, reward-model
checkpoints only, judges, and each split's prompt count and longest prompt in bytes."""

from __future__ import annotations

from workbench.data.prompts import PromptRecord, add_prompts
from workbench.project import Project
from workbench.training import runs
from workbench.training.reward_choices import reward_choices


def add_run_with_checkpoint(project, algorithm: str) -> int:
    run_id = runs.create_run(
        project,
        algorithm=algorithm,
        config={},
        dataset={},
        dataset_hash="",
        model_id=None,
        parent_checkpoint_id=None,
        job_id=None,
        name=None,
        max_steps=1,
    )
    return runs.add_checkpoint(project, run_id, 1, project.path / f"ckpt-{run_id}", {})


def test_reward_choices(tmp_path):
    project = Project.create(tmp_path / "p", name="p")
    add_prompts(
        project,
        [
            PromptRecord(text="Wie groß ist 2 + 2?", split="train"),  # ß is two bytes
            PromptRecord(text="short", split="train"),
            PromptRecord(messages=[{"role": "user", "content": "x" * 40}], split="eval"),
        ],
    )
    add_run_with_checkpoint(project, "dpo")
    reward = add_run_with_checkpoint(project, "reward")
    choices = reward_choices(project)
    assert choices["splits"] == {"eval": 1, "train": 2}
    assert choices["longest_prompt"]["train"] == len("Wie groß ist 2 + 2?") + 1
    assert choices["longest_prompt"]["eval"] > 40  # the chat's JSON bounds its text
    assert [cid for cid, _ in choices["reward_models"]] == [reward]
    assert choices["rules"] == [] and choices["judges"] == []
    project.close()
