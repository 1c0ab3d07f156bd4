"""Tidying the checkpoint folders a killed process left, at the next start of training.

A process killed mid-checkpoint leaves a ``.tmp-step-N-*`` folder (engine/checkpoints.py
writes there and renames at the end); one killed between the rename and the database
insert leaves a complete ``step-N`` folder with no row, which a resume would use but no
view would show. Runs that are live (their process may be writing right now) are left
alone.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from workbench.project import Project
from workbench.training import runs

TMP_PREFIX = ".tmp-"


@dataclass
class SweepReport:
    removed_tmp: list[Path] = field(default_factory=list)
    registered: list[Path] = field(default_factory=list)
    removed_damaged: list[Path] = field(default_factory=list)


def sweep_checkpoints(project: Project, run_id: int | None = None) -> SweepReport:
    """Remove leftover temporary checkpoint folders and register (or, when damaged,
    remove) complete step folders that have no database row, for one run or for every
    run that is not live."""
    report = SweepReport()
    for rid in [run_id] if run_id is not None else _quiet_runs(project):
        folder = project.runs_dir / str(rid) / "checkpoints"
        if folder.is_dir():
            _sweep_run(project, rid, folder, report)
    for path in report.removed_tmp + report.registered + report.removed_damaged:
        what = "registered" if path in report.registered else "removed"
        runs.log(project, int(path.parent.parent.name), f"checkpoint folder {path.name} {what}")
    return report


def _quiet_runs(project: Project) -> list[int]:
    placeholders = ", ".join("?" for _ in runs.LIVE)
    rows = project.db.execute(
        f"SELECT id FROM runs WHERE status NOT IN ({placeholders})", list(runs.LIVE)
    )
    return [row[0] for row in rows]


def _sweep_run(project: Project, run_id: int, folder: Path, report: SweepReport) -> None:
    from engine.checkpoints import read_manifest, verify_checkpoint

    known = {Path(row["path"]).name for row in runs.checkpoint_rows(project, run_id)}
    for path in sorted(folder.iterdir()):
        if not path.is_dir():
            continue
        if path.name.startswith(TMP_PREFIX):
            shutil.rmtree(path, ignore_errors=True)
            report.removed_tmp.append(path)
            continue
        step = _step(path.name)
        if step is None or path.name in known:
            continue
        if verify_checkpoint(path):
            shutil.rmtree(path, ignore_errors=True)
            report.removed_damaged.append(path)
            continue
        runs.add_checkpoint(project, run_id, step, path, read_manifest(path))
        report.registered.append(path)


def _step(name: str) -> int | None:
    prefix, _, number = name.partition("-")
    return int(number) if prefix == "step" and number.isdigit() else None
