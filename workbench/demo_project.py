"""The demo project: the embedded arithmetic model with train and eval prompts and answers,
so the whole loop works on a fresh machine with no download and no GPU."""

from __future__ import annotations

from pathlib import Path

import platformdirs

import engine.demo as demo
from engine.algorithms.registry import specs
from engine.demo import DEMO_JUDGE_NAME, DEMO_MODEL_NAME
from engine.demo.task import demo_splits
from engine.rules.spec import RuleSpec
from engine.training.config import applies
from workbench.data.models import add_model
from workbench.data.prompts import PromptRecord, add_prompts
from workbench.judging.store import JudgeConfig, save_judge
from workbench.project import Project
from workbench.rules.store import add_rule
from workbench.training.config import TRAIN_DEFAULTS_KEY

# The demo is about measuring accuracy, so its default sampling is greedy: a plain
# `workbench generate` then shows the figure the README states.
DEMO_SAMPLING = {"max_new_tokens": 24, "do_sample": False, "temperature": 1.0, "seed": 0}

# The demo's verifiable reward: the right number, counted only in the trained answer
# format (the format rule is a gate), plus a small bonus for the format itself.
DEMO_RULES = [
    RuleSpec(
        name="format",
        kind="regex",
        weight=0.1,
        gate=True,
        params={"pattern": r"The answer is -?\d+\.", "mode": "fullmatch"},
    ),
    RuleSpec(name="answer", kind="numeric", weight=1.0, params={"extract": "last_number"}),
]


# Training defaults tuned on the demo (workbench train with no config): the tiny model
# takes a larger learning rate than a real one, and a stronger beta plus the RPO term
# keep DPO from lowering the likelihood of the right answers along with the wrong ones.
# SFT imitates the references in the format the demo model answers in (and the rules check).
_OFFLINE_DEMO = {
    "beta": 1.0,
    "rpo_alpha": 1.0,
    "completion_template": "The answer is {reference}.",
}
# Online RL samples 8 answers to each of 8 prompts per step (the answer is 18 tokens, so
# 20 new tokens suffice), two updates per batch of samples, and is judged greedily on all
# 200 eval prompts every 25 steps; measured on 2 CPU cores (see the README). Best-of-N
# keeps only verified answers (reward 1.1 = format and answer right).
_ONLINE_DEMO = {
    "best_of_n_min_reward": 1.0,
    "max_steps": 100,
    "learning_rate": 2e-3,
    "batch_size": 8,
    "num_generations": 8,
    "max_completion_length": 20,
    "num_iterations": 2,
    "eval_every": 25,
    "eval_prompts": 200,
    "checkpoint_every": 50,
    "samples_per_step": 2,
}
# Each algorithm's own values on the demo, over the offline or online ones above: the one
# place the demo's per-algorithm tuning lives (chosen by the sweeps in README's "Demo
# defaults"). A user's own project has none of these; it starts from TRL's defaults.
DEMO_TUNED: dict[str, dict[str, object]] = {
    # SimPO is not DPO: its own beta (Meng et al. 2024 use 2.0-2.5), not the demo DPO's 1.0.
    # Reference-free, its margin alone lowers the right answers with the wrong ones here;
    # CPO-SimPO's NLL on the chosen answers (rpo_alpha, TRL's cpo_alpha) holds them, and a
    # small target margin suits answers that differ in a digit or two of ~18 characters.
    # Eval split, 300 steps: rpo_alpha 2.0 56.0%, 4.0 61.5% (heldout 69.4%); 1000 steps 50.5%.
    "simpo": {"beta": 2.5, "rpo_alpha": 4.0, "simpo_gamma_beta_ratio": 0.1},
    # IPO's target margin 1/(2 beta) is on length-normalised log-ratios: at beta 0.5 it pushes
    # the right answers down too (43.0%), at DPO's 1.0 55.0% (55.0% at 1000 steps), 2.0 62.5%.
    "ipo": {"beta": 2.0},
    # Unpaired rule labels hold about 2.25 undesirable examples per desirable one (a right
    # answer beats up to four wrong ones); weighted 2.5 the ratio is in KTO's [1, 4/3].
    # Measured (300 steps): beta 0.5 42.5%, 1.0 56.5%, 2.0 58.5% on the eval split; 600
    # steps 61.0% (heldout 66.0%).
    "kto": {"beta": 2.0, "desirable_weight": 2.5, "max_steps": 600},
    # Online DPO at TRL's beta 0.1 barely moves (two samples a prompt, three pairs in four a
    # tie): 45.5% at step 25, 40.0% at 100. Beta 1.0, as the demo's offline DPO, learns:
    # 46.5% at 100, 53.5% at 150, 53.0% at 200 (heldout 60.9%). At 16 prompts a step beta 1.0
    # 58.0% at 300; 2.0 53.5%; 0.5 62.0% at step 200 of 300, a 200-step run 55.0%. At 32 prompts
    # a step (more pairs that are not a tie) beta 0.5: 59.5% at 100, 64.5% at 200 (heldout 69.0%).
    "online_dpo": {"beta": 0.5, "batch_size": 32, "max_steps": 200, "eval_every": 50},
    # The online curves still rise at the shared 100 steps (eval split): GRPO 56.5% at 100,
    # 59.0% at 200; RLOO 55.5% at 100, 62.5% at step 150 of 200 (a 150-step run 57.0%), 63.5%
    # at 200; PPO 58.0% at 100, 62.5% at 200, and from the RLHF reward model 54.0% at 100,
    # 59.5% at 200.
    "grpo": {"max_steps": 200},
    "rloo": {"max_steps": 200},
    "ppo": {"max_steps": 200},
}
DEMO_TRAIN_DEFAULTS = {
    "max_steps": 300,
    "learning_rate": 5e-4,
    "eval_every": 50,
    "checkpoint_every": 100,
    # A reward model trained on the demo judge scores about -4 to +4.6 where the rules give
    # 0 to 1.1; scaled to about the rules' range it keeps the KL penalty's and value head's
    # proportions (PPO's 200 steps from it: 62.0% at weight 0.1, 57.5% at 0.15, 56.5% at
    # 0.25; README's RLHF path).
    "reward_model_weight": 0.1,
    "by_algorithm": {
        s.name: {
            key: value
            for key, value in {
                **(_ONLINE_DEMO if s.online else _OFFLINE_DEMO),
                **DEMO_TUNED.get(s.name, {}),
            }.items()
            if applies(key, s.name)  # no rpo_alpha for ORPO, no beta for a reward model
        }
        for s in specs()
    },
}


# The demo's AI judge: the embedded judge model, asked as its judge.json says.
DEMO_JUDGE = "demo-judge"


def build_demo_project(path: str | Path) -> Project:
    project = Project.create(path, name="Demo: arithmetic")
    model_id = add_model(project, DEMO_MODEL_NAME, "demo", DEMO_MODEL_NAME)
    records = [
        PromptRecord(
            text=problem.question,
            messages=None,
            split=split,
            reference=str(problem.answer),
            metadata={"a": problem.a, "op": problem.op, "b": problem.b},
            source="demo",
        )
        for split, problems in demo_splits().items()
        for problem in problems
    ]
    add_prompts(project, records)
    for rule in DEMO_RULES:
        add_rule(project, rule)
    project.set_setting("default_model_id", model_id)
    project.set_setting("default_sampling", DEMO_SAMPLING)
    project.set_setting(TRAIN_DEFAULTS_KEY, DEMO_TRAIN_DEFAULTS)
    project.set_setting("demo", True)
    register_demo_judge(project)
    return project


def register_demo_judge(project: Project) -> bool:
    """Add the embedded judge model and the project's default judge "demo-judge" on it,
    when this installation ships the judge; returns whether it did."""
    if not (demo.DEMO_JUDGE_DIR / "config.json").is_file():
        return False
    model_id = add_model(project, DEMO_JUDGE_NAME, "demo", DEMO_JUDGE_NAME)
    save_judge(
        project, JudgeConfig(name=DEMO_JUDGE, kind="local", model_id=model_id), make_default=True
    )
    return True


def default_demo_path() -> Path:
    return platformdirs.user_data_path("alignment-workbench") / "demo-project"


def ensure_demo_project() -> Path:
    """The demo project in the user's data folder, built the first time it is asked for."""
    path = default_demo_path()
    if not (path / "project.db").exists():
        build_demo_project(path).close()
    return path
