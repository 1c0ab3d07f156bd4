"""How far the labelling has come, in the queue's scope and in this sitting."""

from __future__ import annotations

import datetime
import time
from dataclasses import dataclass

from workbench.labels.consistency import Agreement, agreement
from workbench.labels.scope import LabelFilters, Scope
from workbench.project import Project


@dataclass(frozen=True)
class LabelProgress:
    prompts: int  # prompts in the split filter, with or without completions
    servable: int  # of those, with at least two different completions in scope
    alike: int  # prompts whose completions in scope all say the same
    labelled: int  # servable prompts with at least one human label in scope
    to_go: int  # servable prompts without a human label
    more_pairs: int  # labelled prompts that still have pairs nobody compared
    today: int  # human labels made today, anywhere in the project
    session_labels: int
    per_minute: float | None  # labels per minute since this sitting's first label was shown
    mean_seconds: float | None
    skipped: int
    agreement: Agreement


def midnight() -> float:
    today = datetime.datetime.now().replace(hour=0, minute=0, second=0, microsecond=0)
    return today.timestamp()


def measure(project: Project, scope: Scope, filters: LabelFilters, session) -> LabelProgress:
    """`session` is the rater's LabelSession (its labels, times and skips)."""
    where, params = ("WHERE split = ?", [filters.split]) if filters.split is not None else ("", [])
    prompts = project.db.execute(f"SELECT count(*) FROM prompts {where}", params).fetchone()[0]
    servable = [s for s in scope.prompts.values() if s.servable]
    labelled = [s for s in servable if s.labelled]
    today = project.db.execute(
        "SELECT count(*) FROM comparisons WHERE source = 'human' AND created_at >= ?", [midnight()]
    ).fetchone()[0]
    seconds = session.label_seconds()
    elapsed = time.time() - session.first_shown if session.first_shown else 0.0
    return LabelProgress(
        prompts=prompts,
        servable=len(servable),
        alike=len(scope.prompts) - len(servable),
        labelled=len(labelled),
        to_go=len(servable) - len(labelled),
        more_pairs=sum(1 for s in labelled if s.open_pairs()),
        today=today,
        session_labels=len(seconds),
        per_minute=60.0 * len(seconds) / max(elapsed, 1.0) if seconds else None,
        mean_seconds=sum(seconds) / len(seconds) if seconds else None,
        skipped=len(session.skipped),
        agreement=agreement(project),
    )
