"""Labelling by rules or by an AI judge: the request the Label view's dialog and
`workbench label --by rules|judge` both build (one source of the job's parameters), the
choices the dialog offers, and the one-line summary of the finished job."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from workbench.data.prompts import split_counts
from workbench.judging.store import list_judges
from workbench.project import Project
from workbench.rules.store import list_rules

BY = ("rules", "judge")
JOB_KINDS = {"rules": "label_rules", "judge": "label_judge"}


@dataclass(frozen=True)
class AutoLabelRequest:
    by: str  # "rules" or "judge"
    split: str | None = None  # None: every split
    limit: int | None = None  # at most this many prompts
    generate: int = 0  # first sample this many new candidates per prompt
    temperature: float | None = None  # of those candidates (the job's default when None)
    seed: int | None = None
    max_pairs_per_prompt: int = 4
    rule_ids: tuple[int, ...] | None = None  # rules: None = every enabled rule
    judge: str | None = None  # judge: None = the project's default judge
    tie_margin: float | None = None  # judge: None = the judge's own suggestion

    def __post_init__(self) -> None:
        if self.by not in BY:
            raise ValueError(f"label by {self.by!r}? Expected one of {BY}.")
        if self.generate < 0 or self.max_pairs_per_prompt < 1:
            raise ValueError("Candidates must be 0 or more and pairs per prompt at least 1.")
        if self.temperature is not None and (self.temperature <= 0 or not self.generate):
            raise ValueError("A temperature above 0 applies to generated candidates only.")
        if self.by == "rules" and (self.judge is not None or self.tie_margin is not None):
            raise ValueError("A judge and its tie margin apply to labelling by a judge only.")
        if self.by == "judge" and self.rule_ids is not None:
            raise ValueError("A choice of rules applies to labelling by rules only.")

    @property
    def job_kind(self) -> str:
        return JOB_KINDS[self.by]

    def params(self) -> dict[str, Any]:
        """The job's parameters, as `workbench label` builds them from its options."""
        params: dict[str, Any] = {
            "max_pairs_per_prompt": self.max_pairs_per_prompt,
            "generate": self.generate,
        }
        optional = {
            "split": self.split,
            "limit": self.limit,
            "sampling": candidate_sampling(self.seed, self.temperature),
            "rule_ids": list(self.rule_ids) if self.rule_ids is not None else None,
            "judge": self.judge,
            "tie_margin": self.tie_margin,
            # A judge draws the order it is shown each pair in from this seed too.
            "seed": self.seed if self.by == "judge" else None,
        }
        params.update({k: v for k, v in optional.items() if v is not None})
        return params


def candidate_sampling(seed: int | None, temperature: float | None) -> dict[str, Any] | None:
    """The sampling settings of the candidates a labelling job generates, None when default."""
    sampling = {"seed": seed, "temperature": temperature}
    return {k: v for k, v in sampling.items() if v is not None} or None


def auto_label_choices(project: Project) -> dict[str, Any]:
    """Splits with their prompt counts, the rules (id, name, enabled) and the judges."""
    return {
        "splits": split_counts(project),
        "rules": [(rule_id, spec.name, spec.enabled) for rule_id, spec in list_rules(project)],
        "judges": [judge.name for judge in list_judges(project)],
    }


def summary(by: str, result: dict[str, Any]) -> str:
    """What a finished labelling job did, in one line."""
    if by == "rules":
        text = (
            f"Added {result.get('pairs_added', 0):,} pairs from "
            f"{result.get('completions_scored', 0):,} completions of "
            f"{result.get('prompts', 0):,} prompts ({', '.join(result.get('rules', []))})."
        )
        if result.get("prompts_single_completion"):
            text += (
                f" {result['prompts_single_completion']:,} prompts had a single distinct "
                "completion: generate candidates to label them."
            )
        return text
    text = (
        f"{result.get('judge', 'The judge')} added {result.get('labels_added', 0):,} labels "
        f"({result.get('ties', 0):,} ties) over {result.get('pairs', 0):,} pairs."
    )
    if result.get("errors"):
        text += f" {result['errors']:,} judgements failed."
    return text
