"""Finding the completions a comparison needs among those the project already holds, so
that nothing is generated twice: by prompt, model, checkpoint, decoding and seed."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache

from engine.generation import SamplingSettings
from workbench.project import Project

# The settings that decide what a model writes; a completion stored without them (added
# by hand or imported) never stands in for a generated one.
_REQUIRED_KEYS = ("max_new_tokens", "do_sample")


def decoding_identity(settings: dict) -> tuple | None:
    """What makes two completions of one model and prompt the same draw. Greedy decoding
    ignores temperature, top-p, top-k and seed, so any greedy completion of the same
    length limit serves; a sampled one must match them all. None: not comparable."""
    if not all(key in settings for key in _REQUIRED_KEYS):
        return None
    try:
        s = SamplingSettings.from_dict(settings)
    except ValueError:
        return None
    if s.greedy:
        return ("greedy", s.max_new_tokens)
    return ("sampled", s.max_new_tokens, s.temperature, s.top_p, s.top_k, s.seed)


@lru_cache(maxsize=4096)
def _stored_identity(settings_json: str) -> tuple | None:
    """decoding_identity of a completion's stored settings: most completions of a project
    share a few settings texts, so each text is parsed and checked once."""
    return decoding_identity(json.loads(settings_json))


def seed_settings(sampling: dict, seed: int) -> dict:
    """The settings of seed `seed` of a comparison whose seed-0 settings are `sampling`."""
    return {**sampling, "seed": seed}


@dataclass
class Found:
    """A stored completion a comparison uses."""

    id: int
    text: str
    num_tokens: int | None


def find_completions(
    project: Project,
    model_id: int,
    checkpoint_id: int | None,
    prompt_ids: list[int],
    sampling: dict,
    seeds: int,
) -> dict[tuple[int, int], Found]:
    """{(prompt id, seed index): the earliest matching completion} of one entrant."""
    wanted = {decoding_identity(seed_settings(sampling, seed)): seed for seed in range(seeds)}
    rows = project.db.execute(
        "SELECT id, prompt_id, text, settings, num_tokens FROM completions "
        "WHERE model_id = ? AND checkpoint_id IS ? "
        "AND prompt_id IN (SELECT value FROM json_each(?)) ORDER BY id",
        [model_id, checkpoint_id, json.dumps(prompt_ids)],
    ).fetchall()
    found: dict[tuple[int, int], Found] = {}
    for id_, prompt_id, text, settings, num_tokens in rows:
        seed = wanted.get(_stored_identity(settings))
        if seed is not None:
            found.setdefault((prompt_id, seed), Found(id_, text, num_tokens))
    return found


def scored_completions(project: Project, evaluation_id: int) -> dict[int, dict[str, tuple]]:
    """{completion id: {rule: (score, passed)}} of the scores stored under an evaluation."""
    scores: dict[int, dict[str, tuple]] = {}
    for completion_id, rule, score, passed in project.db.execute(
        "SELECT completion_id, rule, score, passed FROM completion_scores "
        "WHERE evaluation_id = ? ORDER BY id",
        [evaluation_id],
    ):
        scores.setdefault(completion_id, {})[rule] = (score, bool(passed))
    return scores
