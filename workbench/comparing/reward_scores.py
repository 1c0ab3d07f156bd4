"""A reward model's scores of a comparison's completions: the checkpoint of a ``reward``
run (Bradley-Terry on a sequence-classification head, the one PPO is rewarded by) scores
every completion through the same engine code as online RL
(engine/training/online/reward_model.py), a batch at a time. Each score is stored once
per completion and reward checkpoint, so a comparison reopened, filled again or sharing
completions with another one never scores a completion twice; a stopped scoring keeps
its finished batches."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from engine.algorithms import registry
from workbench.comparing.choices import ComparisonError, _base_model, _model_folder_problem
from workbench.comparing.matching import find_completions
from workbench.comparing.store import Comparison
from workbench.data.models import ModelRecord, checkpoint_adapter
from workbench.data.prompts import get_prompt
from workbench.project import Project

BATCH_SIZE = 16
ProgressFn = Callable[[int, int, str], None]


@dataclass(frozen=True)
class RewardModel:
    """A checked reward checkpoint: its run and the base model its head sits on."""

    checkpoint_id: int
    run_id: int
    label: str
    model: ModelRecord

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": "reward_model",
            "checkpoint_id": self.checkpoint_id,
            "run_id": self.run_id,
            "label": self.label,
            "base_model": self.model.name,
        }


@dataclass
class RewardTally:
    scored: int = 0
    reused: int = 0
    stopped: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _scores_sequences(algorithm: str | None) -> bool:
    """Whether a run of `algorithm` trained a sequence scorer (a reward model)."""
    return algorithm in registry.names() and registry.spec(algorithm).policy == "sequence_scorer"


def check_reward_model(project: Project, checkpoint_id: int) -> RewardModel:
    """The reward model of `checkpoint_id`; ComparisonError naming it when it is not one
    or cannot load (its base model or adapter gone). Reads only."""
    row = project.db.execute(
        "SELECT c.path, c.step, r.id, r.name, r.algorithm, r.model_id FROM checkpoints c "
        "LEFT JOIN runs r ON r.id = c.run_id WHERE c.id = ?",
        [checkpoint_id],
    ).fetchone()
    if row is None:
        raise ComparisonError(f"The project has no checkpoint {checkpoint_id} to score with.")
    path, step, run_id, run_name, algorithm, model_id = row
    if run_id is None or not _scores_sequences(algorithm):
        raise ComparisonError(
            f"Checkpoint {checkpoint_id} is from a {algorithm or 'non-training'} run, not a "
            'reward model; train one with algorithm = "reward" and give its checkpoint id.'
        )
    prefix = f"The reward model (checkpoint {checkpoint_id}) cannot score"
    try:
        model = _base_model(project, model_id)
    except ComparisonError as exc:
        raise ComparisonError(f"{prefix}: {exc}") from None
    problem = _model_folder_problem(model)
    adapter = Path(path) if Path(path).is_absolute() else project.path / path
    if problem is None and not adapter.is_dir():
        problem = f"its adapter folder {adapter} is gone"
    if problem:
        raise ComparisonError(f"{prefix}: {problem}.")
    label = f"{run_name or f'run {run_id}'} · step {step}"
    return RewardModel(checkpoint_id, run_id, label, model)


def stored_scores(
    project: Project, checkpoint_id: int, completion_ids: list[int]
) -> dict[int, float]:
    """{completion id: score} the reward model of `checkpoint_id` gave, for those it scored."""
    rows = project.db.execute(
        "SELECT completion_id, score FROM reward_model_scores WHERE checkpoint_id = ? "
        "AND completion_id IN (SELECT value FROM json_each(?))",
        [checkpoint_id, json.dumps(completion_ids)],
    )
    return dict(rows.fetchall())


def comparison_completions(project: Project, comparison: Comparison) -> list[tuple[int, int, str]]:
    """(completion id, prompt id, text) of every stored answer of the comparison."""
    found: dict[int, tuple[int, int, str]] = {}
    for entry in comparison.entries:
        answers = find_completions(
            project,
            entry.model_id,
            entry.checkpoint_id,
            comparison.prompt_ids,
            comparison.sampling,
            comparison.seeds,
        )
        for (prompt_id, _seed), completion in sorted(answers.items()):
            found.setdefault(completion.id, (completion.id, prompt_id, completion.text))
    return list(found.values())


def _load_scorer(project: Project, reward: RewardModel, offline: bool, batch_size: int) -> Any:
    """The reward model loaded as online RL loads it: its own base and tokenizer."""
    from engine.device import pick_device, pick_dtype
    from engine.loading import load_tokenizer, model_folder
    from engine.model_source import ModelSpec
    from engine.training.online.reward_model import reward_model_source

    spec = ModelSpec(**reward.model.load_spec())
    folder, _ = model_folder(spec, offline=offline)
    device = pick_device("auto")
    return reward_model_source(
        folder,
        checkpoint_adapter(project, reward.checkpoint_id),
        load_tokenizer(folder, spec.trust_remote_code),
        dtype=pick_dtype(device, "auto"),
        device=device,
        batch_size=batch_size,
    )


def score_comparison(
    project: Project,
    comparison: Comparison,
    checkpoint_id: int,
    progress: ProgressFn | None = None,
    should_stop: Callable[[], bool] | None = None,
    *,
    offline: bool = True,
    batch_size: int = BATCH_SIZE,
) -> RewardTally:
    """Score every answer of the comparison the reward model has not scored yet; each
    batch's scores are stored together. The model loads only when something is left."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, not {batch_size}.")
    reward = check_reward_model(project, checkpoint_id)
    answers = comparison_completions(project, comparison)
    done = stored_scores(project, checkpoint_id, [a[0] for a in answers])
    todo = [a for a in answers if a[0] not in done]
    tally = RewardTally(reused=len(answers) - len(todo))
    report = progress or (lambda done, total, message: None)
    if not todo:
        return tally
    report(0, len(todo), f"loading the reward model {reward.label}")
    scorer = _load_scorer(project, reward, offline, batch_size)
    prompts = {p: get_prompt(project, p).engine_input for p in {a[1] for a in todo}}
    for start in range(0, len(todo), batch_size):
        if should_stop is not None and should_stop():
            tally.stopped = True
            break
        batch = todo[start : start + batch_size]
        values = scorer.score(
            [prompts[p] for _, p, _ in batch], [t for _, _, t in batch], [None] * len(batch)
        ).values
        now = time.time()
        with project.transaction() as conn:
            conn.executemany(
                "INSERT OR IGNORE INTO reward_model_scores (completion_id, checkpoint_id, "
                "score, created_at) VALUES (?, ?, ?, ?)",
                [
                    (c, checkpoint_id, float(v), now)
                    for (c, _, _), v in zip(batch, values, strict=True)
                ],
            )
        tally.scored += len(batch)
        report(tally.scored, len(todo), f"scoring with the reward model {reward.label}")
    return tally


def reward_source(project: Project, comparison: Comparison) -> dict[str, Any]:
    """Which reward a comparison's figures show: its reward model's score, or else the
    weighted total of its rules (engine.rules.combine)."""
    if comparison.reward_model_id is None:
        return {"source": "rules", "rules": [s.name for s in comparison.rules if s.enabled]}
    row = project.db.execute(
        "SELECT c.step, r.id, r.name FROM checkpoints c LEFT JOIN runs r ON r.id = c.run_id "
        "WHERE c.id = ?",
        [comparison.reward_model_id],
    ).fetchone()
    step, run_id, name = row if row else (None, None, None)
    return {
        "source": "reward_model",
        "checkpoint_id": comparison.reward_model_id,
        "run_id": run_id,
        "label": f"{name or f'run {run_id}'} · step {step}",
    }


def unscored_count(project: Project, comparison: Comparison, checkpoint_id: int) -> int:
    """How many stored answers of the comparison the reward model has not scored yet."""
    answers = comparison_completions(project, comparison)
    return len(answers) - len(stored_scores(project, checkpoint_id, [a[0] for a in answers]))
