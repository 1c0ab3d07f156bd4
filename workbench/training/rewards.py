"""The reward sources of an online run, from its config: the project's rules, a reward
model trained in the project (a checkpoint of a ``reward`` run), and a stored AI judge.
Built in every process of a run (each scores its own rollouts)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.algorithms import registry
from workbench.data.models import checkpoint_adapter
from workbench.rules.store import rule_specs
from workbench.training import runs


def reward_sources(project, config, loaded) -> tuple[list, Any, list[str]]:
    """(sources, pairwise preference or None, a line per source for the run's log)."""
    from engine.training.online.rewards import rules_source

    sources, described = [], []
    specs = _rules(project, config.reward_rules)
    count = lambda text: len(loaded.tokenizer(text, add_special_tokens=False)["input_ids"])  # noqa: E731
    if specs:
        sources.append(rules_source(specs, count_tokens=count))
        described.append(
            "rules: "
            + ", ".join(
                f"{s.name} (weight {s.weight:g}{', gate' if s.gate else ''})" for s in specs
            )
        )
    watched = _watched_rules(project, specs)
    if watched:
        sources.append(rules_source(watched, count_tokens=count, weight=0.0, name="watched_rules"))
        described.append("watched, not rewarded: " + ", ".join(s.name for s in watched))
    if config.reward_model is not None:
        sources.append(_reward_model(project, config, loaded))
        described.append(
            f"reward model: checkpoint {config.reward_model} "
            f"(weight {config.reward_model_weight:g})"
        )
    preference = None
    if config.judge is not None:
        source, preference = _judge(project, config)
        if source is not None:
            sources.append(source)
        described.append(f"judge: {config.judge} (weight {config.judge_weight:g})")
    return sources, preference, described


def _watched_rules(project, rewarded: list) -> list:
    """The project's enabled rules outside the reward: scored at weight 0, so a run
    rewarded by a reward model or a judge still shows each rule's pass rate in training
    and evaluation (the curve that tells reward hacking from learning)."""
    names = {s.name for s in rewarded}
    return [s for s in rule_specs(project) if s.enabled and s.name not in names]


def _rules(project, selection) -> list:
    if selection is False:
        return []
    enabled = [s for s in rule_specs(project) if s.enabled]
    if selection is True:
        if not enabled:
            raise ValueError(
                "reward_rules is true but the project has no enabled rule; add one in "
                "the Rules view, or set reward_rules = false and use a reward model or judge."
            )
        return enabled
    by_name = {s.name: s for s in rule_specs(project)}
    missing = [name for name in selection if name not in by_name]
    if missing:
        raise ValueError(
            f"reward_rules names rules the project does not have: {', '.join(missing)}. "
            f"Its rules: {', '.join(by_name) or 'none'}."
        )
    return [by_name[name] for name in selection]


def _reward_model(project, config, loaded):
    from engine.training.online.reward_model import reward_model_source

    folder = checkpoint_adapter(project, config.reward_model)
    run_id = project.db.execute(
        "SELECT run_id FROM checkpoints WHERE id = ?", [config.reward_model]
    ).fetchone()[0]
    run = runs.get_run(project, run_id) if run_id is not None else None
    if run is None or not _scores_sequences(run.algorithm):
        raise ValueError(
            f"Checkpoint {config.reward_model} is from a "
            f"{run.algorithm if run else 'non-training'} run, not a reward model; "
            'train one with algorithm = "reward" and give its checkpoint id.'
        )
    base_dir, tokenizer = _reward_base(project, run.model_id, loaded)
    return reward_model_source(
        base_dir,
        folder,
        tokenizer,
        dtype=loaded.dtype,
        device=loaded.device,
        weight=config.reward_model_weight,
    )


def _scores_sequences(algorithm: str) -> bool:
    """Whether a run of ``algorithm`` trained a sequence scorer (a reward model)."""
    return algorithm in registry.names() and registry.spec(algorithm).policy == "sequence_scorer"


def _reward_base(project, model_id: int | None, loaded):
    """The folder and tokenizer of the model the reward run trained on, which may be
    another model than the policy (a verifier, a bigger model): its adapter only fits
    its own base, and it reads text through its own tokenizer."""
    if model_id is None:
        return loaded.source_dir, loaded.tokenizer
    from engine.loading import load_tokenizer, model_folder
    from engine.model_source import ModelSpec
    from workbench.data.models import get_model

    record = get_model(project, model_id)
    spec = ModelSpec(**record.load_spec())
    folder, _ = model_folder(spec)
    if folder.resolve() == Path(loaded.source_dir).resolve():
        return loaded.source_dir, loaded.tokenizer
    return folder, load_tokenizer(folder, spec.trust_remote_code)


def _judge(project, config):
    """A pairwise judge ranks Online DPO's two samples; otherwise its pointwise score is
    a reward source."""
    from engine.judge.reward import pair_preference
    from engine.training.online.rewards import judge_source
    from workbench.judging.runtime import build_judge_for_reward

    judge, mode = build_judge_for_reward(project, config.judge, device=config.train.device)
    if config.train.spec.ranks_pairs and mode == "pairwise":
        return None, pair_preference(judge)
    return judge_source(judge, config.judge_weight), None
