"""What the Compare view asks of the database, each one call on the session's database
thread: the entrants it offers, the stored comparisons, preparing a comparison (found
again or created, and how many completions it still lacks) and its table. Plain data in
and out, composed of the torch-free functions of workbench/comparing; no Qt here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from workbench.comparing.choices import Decoding, EntrantChoice, PromptSet
from workbench.comparing.figures import figures, rows_of
from workbench.comparing.fill import plan
from workbench.comparing.reward_scores import check_reward_model, unscored_count
from workbench.comparing.store import find_or_create, list_comparisons, load, set_reward_model
from workbench.data.models import default_model, list_models
from workbench.data.prompts import split_counts
from workbench.judging.store import list_judges
from workbench.project import Project
from workbench.training.reward_choices import reward_model_checkpoints
from workbench.training.sweeps import best_of_sweeps, describe

CHECKPOINTS_OFFERED = 500


@dataclass(frozen=True)
class EntrantOption:
    """One model or checkpoint the user can pick, with the name the view shows."""

    label: str
    choice: EntrantChoice
    detail: str = ""


def entrant_options(project: Project) -> list[EntrantOption]:
    """The base models (the project's default first), then every checkpoint of every run,
    newest run first, each named "run name · step N"."""
    models = list_models(project)
    default_id = default_model(project).id if models else None
    options = [
        EntrantOption(
            f"base: {m.name}",
            EntrantChoice() if m.id == default_id else EntrantChoice(model_id=m.id),
            f"base model {m.id} ({m.source})",
        )
        for m in sorted(models, key=lambda m: m.id != default_id)
    ]
    options += [  # each sweep's best run, one click from its checkpoint (training/sweeps.py)
        EntrantOption(
            f"best of sweep {b.sweep_id}: {describe(b.point)}",
            EntrantChoice(checkpoint_id=b.checkpoint_id),
            f"checkpoint {b.checkpoint_id} of run {b.run_id}, the best of sweep "
            f"{b.sweep_id} ({b.sweep_name}) on {b.rule!r}: {b.pass_rate:.1%}",
        )
        for b in best_of_sweeps(project)
    ]
    rows = project.db.execute(
        "SELECT c.id, c.step, r.id, r.name, r.algorithm FROM checkpoints c "
        "JOIN runs r ON r.id = c.run_id ORDER BY r.id DESC, c.step DESC LIMIT ?",
        [CHECKPOINTS_OFFERED],
    ).fetchall()
    options += [
        EntrantOption(
            f"{name or f'run {run_id}'} · step {step}",
            EntrantChoice(checkpoint_id=checkpoint_id),
            f"checkpoint {checkpoint_id} of run {run_id} ({algorithm})",
        )
        for checkpoint_id, step, run_id, name, algorithm in rows
    ]
    return options


def compare_choices(project: Project) -> dict[str, Any]:
    """What the setup panel offers: entrants, splits with their prompt counts, the
    project's sampling temperature (the default of sampled decoding), its pairwise
    judges and its reward models (checkpoints of reward runs)."""
    sampling = project.setting("default_sampling", {}) or {}
    return {
        "entrants": entrant_options(project),
        "splits": split_counts(project),
        "temperature": sampling.get("temperature"),
        "judges": [j.name for j in list_judges(project) if j.mode != "pointwise"],
        "reward_models": reward_model_checkpoints(project),
    }


def stored_comparisons(project: Project) -> list[dict[str, Any]]:
    """Every stored comparison, newest first, as the list shows it."""
    return [
        {
            "id": c.id,
            "name": c.name,
            "created_at": c.created_at,
            "prompts": len(c.prompt_ids),
            "decoding": "greedy" if c.greedy else f"{c.seeds} seed(s), sampled",
            "entrants": [e.label for e in c.entries],
        }
        for c in list_comparisons(project)
    ]


def prepare_comparison(
    project: Project,
    choices: list[EntrantChoice],
    prompt_set: PromptSet,
    decoding: Decoding,
    name: str,
    reward_model: int | None = None,
) -> dict[str, Any]:
    """The comparison of these choices, found again or created (ComparisonError when a
    choice or the reward model cannot run), showing `reward_model`'s scores (None: the
    rules'), and how many completions it still lacks (to generate or score)."""
    if reward_model is not None:
        check_reward_model(project, reward_model)
    comparison, created = find_or_create(project, choices, prompt_set, decoding, name=name)
    set_reward_model(project, comparison.id, reward_model)
    missing = sum(work.size for work in plan(project, comparison))
    if reward_model is not None:
        missing += unscored_count(project, comparison, reward_model)
    return {"comparison_id": comparison.id, "created": created, "missing": missing}


def comparison_head(project: Project, comparison_id: int) -> dict[str, Any]:
    """The comparison's figures per entrant, without its rows (`rows` is empty): what the
    column headers show, read before the rows arrive a slice at a time."""
    return {**figures(project, load(project, comparison_id)), "rows": []}


def comparison_rows(project: Project, comparison_id: int, start: int, stop: int) -> list[dict]:
    """The rows of the comparison's prompts start..stop-1."""
    return rows_of(project, load(project, comparison_id), start, stop)
