"""Setting a judge up and seeing how it does: the project's judges, the models and
splits a judge can use, the template a judge uses when it sets none, a real pair to
preview the judge prompt with, and the agreement figures of the AI labels.

No torch: ``engine.judge.local`` imports torch only when a judge runs, and reading a judge
model's ``judge.json`` is plain file reading.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.judge.templates import DEFAULT_CRITERIA, DEFAULT_PAIR_TEMPLATE
from workbench.data.models import list_models
from workbench.data.prompts import get_prompt, split_counts
from workbench.judging.agreement import agreement
from workbench.judging.review import review_tally
from workbench.judging.store import DEFAULT_KEY, JudgeConfig, list_judges
from workbench.project import Project


def judge_choices(project: Project) -> dict[str, Any]:
    """The judges (the default one named), models, splits, and the judge identities that
    labelled pairs, most labels first."""
    judges = list_judges(project)
    default = project.setting(DEFAULT_KEY) or (judges[0].name if judges else None)
    identities = project.db.execute(
        "SELECT judge, count(*) FROM comparisons WHERE source = 'ai' AND judge IS NOT NULL "
        "GROUP BY judge ORDER BY count(*) DESC, judge"
    ).fetchall()
    return {
        "judges": judges,
        "default": default,
        "models": list_models(project),
        "default_model_id": project.setting("default_model_id"),
        "splits": split_counts(project),
        "identities": identities,
    }


def own_template(project: Project, config: JudgeConfig) -> tuple[str, str]:
    """(template, criteria) the judge is asked with when it sets none of its own: a local
    judge model's judge.json, else the defaults."""
    own = _own_settings(project, config)
    if own is None:
        return DEFAULT_PAIR_TEMPLATE, DEFAULT_CRITERIA
    template = own.template if own.mode == "pairwise" else DEFAULT_PAIR_TEMPLATE
    return template, own.criteria


def suggested_tie_margin(project: Project, config: JudgeConfig) -> float:
    """The tie margin a local judge model's judge.json suggests (0 otherwise): a judge
    trained to answer near 1/2 when it cannot tell needs it, or those verdicts become
    confident-looking labels."""
    own = _own_settings(project, config)
    return own.tie_margin if own is not None else 0.0


def _own_settings(project: Project, config: JudgeConfig):
    """The judge.json of a local judge's model folder; None for an endpoint or a model
    with no local folder."""
    if config.kind != "local":
        return None
    from engine.judge.local import load_judge_config

    folder = _model_folder(project, config)
    return load_judge_config(folder) if folder is not None else None


def _model_folder(project: Project, config: JudgeConfig) -> Path | None:
    if config.model_id is not None:
        from workbench.data.models import get_model

        path = get_model(project, config.model_id).load_spec()["path"]
    else:
        path = config.path or ""
    folder = Path(path).expanduser()
    return folder if path and folder.is_dir() else None  # a Hub id: nothing local to read


@dataclass
class PreviewPair:
    prompt: Any  # text or messages, as the judge reads it
    first: str
    second: str


def preview_pair(project: Project) -> PreviewPair | None:
    """The first two different completions of the first prompt that has two, or None."""
    row = project.db.execute(
        "SELECT prompt_id FROM completions GROUP BY prompt_id "
        "HAVING count(DISTINCT text) >= 2 ORDER BY prompt_id LIMIT 1"
    ).fetchone()
    if row is None:
        return None
    texts = [
        t
        for (t,) in project.db.execute(
            "SELECT text FROM completions WHERE prompt_id = ? ORDER BY id", [row[0]]
        )
    ]
    second = next(t for t in texts if t != texts[0])
    record = get_prompt(project, row[0])
    return PreviewPair(record.messages or record.text or "", texts[0], second)


def agreement_figures(project: Project, judge: str | None = None) -> dict[str, Any]:
    """Agreement of the AI labels (only ``judge``'s, if given) with human and rule labels,
    how reviews went, and how many active AI labels there are."""
    count = "SELECT count(*) FROM comparisons WHERE source = 'ai' AND superseded_by IS NULL"
    args: list = []
    if judge is not None:
        count, args = count + " AND judge = ?", [judge]
    return {
        "human": agreement(project, "ai", "human", judge_a=judge),
        "rule": agreement(project, "ai", "rule", judge_a=judge),
        "review": review_tally(project, judge),
        "ai_labels": project.db.execute(count, args).fetchone()[0],
    }
