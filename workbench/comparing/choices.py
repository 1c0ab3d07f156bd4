"""What a comparison is made of, as a user picks it (entrants, prompts, decoding), and how
each choice is checked and resolved against the project before anything is stored."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from engine.generation import SamplingSettings
from workbench.data.models import ModelRecord, default_model, get_model
from workbench.data.prompts import prompt_ids
from workbench.project import Project

MAX_OTHER_ENTRANTS = 8
MAX_SEEDS = 64


class ComparisonError(ValueError):
    """A comparison that cannot be made; the message names the item at fault."""


@dataclass(frozen=True)
class EntrantChoice:
    """A checkpoint of any run, or a base model (None: the project's default model)."""

    checkpoint_id: int | None = None
    model_id: int | None = None

    @property
    def name(self) -> str:
        if self.checkpoint_id is not None:
            return f"checkpoint {self.checkpoint_id}"
        return "base" if self.model_id is None else f"base model {self.model_id}"


@dataclass(frozen=True)
class Entrant:
    """A resolved entrant: the base model it runs on, and its adapter's checkpoint if any."""

    model_id: int
    checkpoint_id: int | None = None


@dataclass(frozen=True)
class PromptSet:
    """The prompts: a split (with an optional limit, or a seeded random sample of
    `sample` prompts), or an explicit list of prompt ids."""

    split: str | None = "eval"
    limit: int | None = None
    sample: int | None = None
    sample_seed: int = 0
    prompt_ids: tuple[int, ...] | None = None

    def to_dict(self) -> dict:
        if self.prompt_ids is not None:
            return {"prompt_ids": list(self.prompt_ids)}
        if self.sample is not None:
            return {"split": self.split, "sample": self.sample, "sample_seed": self.sample_seed}
        return {"split": self.split, "limit": self.limit}


@dataclass(frozen=True)
class Decoding:
    """Greedy, or sampled with seeds 0..seeds-1 at `temperature` (None: the project's)."""

    greedy: bool = True
    seeds: int = 1
    temperature: float | None = None


def _model_folder_problem(model: ModelRecord) -> str | None:
    """Why the base model cannot load from its folder, or None; hub ids download."""
    if model.source == "hub":
        return None
    folder = Path(model.load_spec()["path"])
    if not folder.is_dir():
        return f"its base model {model.name!r} is gone from {folder}"
    return None


def _base_model(project: Project, model_id: int | None) -> ModelRecord:
    try:
        return default_model(project) if model_id is None else get_model(project, model_id)
    except KeyError as exc:
        raise ComparisonError(exc.args[0]) from None


def resolve_entrant(project: Project, choice: EntrantChoice) -> Entrant:
    """The entrant of `choice`; ComparisonError naming it when it cannot run."""
    if choice.checkpoint_id is None:
        model = _base_model(project, choice.model_id)
        problem = _model_folder_problem(model)
        if problem:
            raise ComparisonError(f"The base model cannot be compared: {problem}.")
        return Entrant(model.id)
    row = project.db.execute(
        "SELECT c.path, r.model_id FROM checkpoints c LEFT JOIN runs r ON r.id = c.run_id "
        "WHERE c.id = ?",
        [choice.checkpoint_id],
    ).fetchone()
    if row is None:
        raise ComparisonError(f"The project has no checkpoint {choice.checkpoint_id}.")
    path, run_model_id = row
    # A checkpoint runs on its own run's base model; the default one for a run that has none.
    model = _base_model(project, run_model_id)
    problem = _model_folder_problem(model)
    adapter = Path(path) if Path(path).is_absolute() else project.path / path
    if problem is None and not adapter.is_dir():
        problem = f"its adapter folder {adapter} is gone"
    if problem:
        raise ComparisonError(f"Checkpoint {choice.checkpoint_id} cannot be compared: {problem}.")
    return Entrant(model.id, choice.checkpoint_id)


def resolve_entrants(project: Project, choices: list[EntrantChoice]) -> list[Entrant]:
    """The baseline first, then the others; each checked, none twice, at most 8 others."""
    if not choices:
        raise ComparisonError("A comparison needs a baseline model or checkpoint.")
    if len(choices) - 1 > MAX_OTHER_ENTRANTS:
        raise ComparisonError(
            f"A comparison takes at most {MAX_OTHER_ENTRANTS} models besides the baseline, "
            f"not {len(choices) - 1}; leave out {', '.join(c.name for c in choices[9:])}."
        )
    entrants: list[Entrant] = []
    for choice in choices:
        entrant = resolve_entrant(project, choice)
        if entrant in entrants:
            raise ComparisonError(f"{choice.name} is listed twice; name each model once.")
        entrants.append(entrant)
    return entrants


def resolve_prompts(project: Project, prompt_set: PromptSet) -> list[int]:
    """The prompt ids of `prompt_set`, in id order (an explicit list: in its own order)."""
    if prompt_set.prompt_ids is not None:
        wanted = list(dict.fromkeys(int(i) for i in prompt_set.prompt_ids))
        found = {r[0] for r in project.db.execute("SELECT id FROM prompts")}
        missing = [i for i in wanted if i not in found]
        if missing:
            raise ComparisonError(f"The project has no prompt(s) {missing}.")
        if not wanted:
            raise ComparisonError("The list of prompts to compare on is empty.")
        return wanted
    ids = prompt_ids(project, prompt_set.split)
    where = f"split {prompt_set.split!r}" if prompt_set.split is not None else "the project"
    if not ids:
        raise ComparisonError(f"There are no prompts in {where} to compare on.")
    if prompt_set.sample is not None:
        if prompt_set.sample < 1:
            raise ComparisonError(f"A sample needs at least 1 prompt, not {prompt_set.sample}.")
        count = min(prompt_set.sample, len(ids))
        return sorted(random.Random(prompt_set.sample_seed).sample(ids, count))
    if prompt_set.limit is not None:
        if prompt_set.limit < 1:
            raise ComparisonError(f"The limit must be at least 1, not {prompt_set.limit}.")
        ids = ids[: prompt_set.limit]
    return ids


def resolve_sampling(project: Project, decoding: Decoding) -> dict:
    """The full sampling settings (seed 0) from the project's defaults and `decoding`."""
    if decoding.greedy and decoding.seeds != 1:
        raise ComparisonError("Greedy decoding gives one completion per prompt: use 1 seed.")
    if not 1 <= decoding.seeds <= MAX_SEEDS:
        raise ComparisonError(f"seeds must be between 1 and {MAX_SEEDS}, not {decoding.seeds}.")
    if not decoding.greedy and decoding.temperature is not None and decoding.temperature <= 0:
        raise ComparisonError(
            f"Sampling needs a temperature above 0, not {decoding.temperature}; "
            "leave out --seeds and --temperature for greedy decoding."
        )
    merged = {
        **(project.setting("default_sampling", {}) or {}),
        "do_sample": not decoding.greedy,
        "seed": 0,
    }
    if decoding.temperature is not None:
        merged["temperature"] = decoding.temperature
    try:
        settings = SamplingSettings.from_dict(merged)
    except ValueError as exc:
        raise ComparisonError(f"The sampling settings are invalid: {exc}") from None
    if settings.greedy != decoding.greedy:
        raise ComparisonError(
            "The project's default temperature is 0 (greedy); give --temperature to sample."
        )
    return settings.to_dict()
