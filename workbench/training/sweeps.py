"""Sweeps: a grid over one or two settings (beta x learning rate, seeds...) queued as
ordinary train jobs, one per point, grouped by a sweep row that each run points back to.

Every point's config is built and validated before anything is stored, so a grid with one
bad value stores nothing. A sweep's results are its runs' final eval figures: the pass rate
of each rule on the run's last evaluation (an online run's ``eval_rewards/<rule>/mean``, an
offline run's greedy eval samples scored by the rules), or a full ``evaluate`` of its final
checkpoint when there is one.
"""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from engine.errors import SettingsError
from workbench.jobs import queue as jobs
from workbench.project import Project
from workbench.training.config import apply_override, parse_value, with_defaults

MAX_SETTINGS = 2  # a grid over one or two settings: a table and a chart can show it
MAX_POINTS = 64  # more runs than this are a typo more often than a plan


@dataclass(frozen=True)
class SweepPoint:
    point: dict[str, Any]  # {setting: value}
    config: dict[str, Any]  # the full, validated run config


def parse_grid(items: list[str]) -> dict[str, list[Any]]:
    """``["beta=0.1,0.5", "learning_rate=5e-4,1e-3"]`` -> ``{"beta": [0.1, 0.5], ...}``;
    each value is read as ``--set`` reads one (numbers, booleans, quoted strings)."""
    grid: dict[str, list[Any]] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        values = [parse_value(v.strip()) for v in raw.split(",") if v.strip()]
        if not sep or not key or not values:
            raise SettingsError(
                f"--grid needs setting=value,value,..., not {item!r}.",
                "For example: --grid beta=0.1,0.5,1.0 --grid learning_rate=5e-4,1e-3",
            )
        if key in grid:
            raise SettingsError(f"--grid {key} is given twice; list all its values once.")
        if len(set(map(repr, values))) != len(values):
            raise SettingsError(f"--grid {key} lists a value twice: {raw}.")
        grid[key] = values
    if not grid:
        raise SettingsError("A sweep needs at least one --grid setting=values.")
    if len(grid) > MAX_SETTINGS:
        raise SettingsError(
            f"A sweep varies at most {MAX_SETTINGS} settings, not {len(grid)}: {', '.join(grid)}.",
            "Fix the others in the config file or with --set.",
        )
    return grid


def plan_points(
    given: dict[str, Any], grid: dict[str, list[Any]], base: dict[str, Any]
) -> list[SweepPoint]:
    """Each point of ``grid`` over the run config ``given`` (file and --set keys) and the
    project's defaults ``base``; a point's values win over both. Raises SettingsError
    naming the point when one does not validate."""
    from workbench.training.config import RunConfig

    combos = list(itertools.product(*grid.values()))
    if len(combos) > MAX_POINTS:
        raise SettingsError(
            f"The grid has {len(combos)} points; a sweep runs at most {MAX_POINTS}.",
            "Use fewer values per setting.",
        )
    points = []
    for combo in combos:
        point = dict(zip(grid, combo, strict=True))
        data = json.loads(json.dumps(given))
        for key, value in point.items():
            apply_override(data, f"{key}={json.dumps(value)}")
        try:
            config = RunConfig.from_dict(with_defaults(data, base))
        except SettingsError as exc:
            raise SettingsError(f"Sweep point {describe(point)}: {exc.message}", exc.hint) from exc
        points.append(SweepPoint(point, config.to_dict()))
    return points


def describe(point: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in point.items())


def create_sweep(
    project: Project,
    given: dict[str, Any],
    grid: dict[str, list[Any]],
    base: dict[str, Any],
    name: str | None = None,
) -> tuple[int, list[dict[str, Any]]]:
    """Store the sweep once every point validates; returns its id and the train-job params
    of its points in grid order (``queue_sweep`` queues them, the CLI's --now runs them)."""
    points = plan_points(given, grid, base)
    algorithm = points[0].config.get("algorithm", "dpo")
    name = name or f"sweep {algorithm} over {' x '.join(grid)} {time.strftime('%Y-%m-%d %H:%M')}"
    with project.transaction() as conn:
        cursor = conn.execute(
            "INSERT INTO sweeps (name, base_config, grid, created_at) VALUES (?, ?, ?, ?)",
            [name, json.dumps(given), json.dumps(grid), time.time()],
        )
        sweep_id = int(cursor.lastrowid or 0)
    params = []
    for p in points:
        config = {**p.config, "name": p.config.get("name") or f"{name}: {describe(p.point)}"}
        params.append({"config": config, "sweep_id": sweep_id, "sweep_point": p.point})
    return sweep_id, params


def queue_sweep(
    project: Project,
    given: dict[str, Any],
    grid: dict[str, list[Any]],
    base: dict[str, Any],
    name: str | None = None,
) -> tuple[int, list[int]]:
    """``create_sweep`` and one queued train job per point; returns the sweep and job ids."""
    sweep_id, params = create_sweep(project, given, grid, base, name)
    return sweep_id, [jobs.submit(project, "train", p) for p in params]


def link_run(project: Project, run_id: int, job_params: dict[str, Any]) -> None:
    """Mark a run that a sweep's job opened as that sweep's (called when the run starts)."""
    sweep_id = job_params.get("sweep_id")
    if sweep_id is None:
        return
    project.db.execute(
        "UPDATE runs SET sweep_id = ?, sweep_point = ? WHERE id = ?",
        [int(sweep_id), json.dumps(job_params.get("sweep_point") or {}), run_id],
    )


@dataclass
class SweepRun:
    job_id: int | None
    run_id: int | None
    point: dict[str, Any]
    status: str
    step: int
    checkpoint_id: int | None  # the run's last checkpoint
    pass_rates: dict[str, float] = field(default_factory=dict)  # rule -> final eval pass rate
    source: str = ""  # where pass_rates come from: evaluation, eval metrics, eval samples


@dataclass
class Sweep:
    id: int
    name: str
    grid: dict[str, list[Any]]
    created_at: float
    runs: list[SweepRun]

    def best(self, rule: str) -> SweepRun | None:
        """The finished run with the highest final pass rate on ``rule``."""
        done = [r for r in self.runs if r.status == "done" and rule in r.pass_rates]
        return max(done, key=lambda r: r.pass_rates[rule], default=None)

    def rules(self) -> list[str]:
        seen: dict[str, None] = {}
        for r in self.runs:
            seen.update(dict.fromkeys(r.pass_rates))
        return list(seen)


def headline_rule(project: Project, sweep: Sweep) -> str | None:
    """The rule a sweep is judged by: of the rules its runs report, the enabled one with the
    largest weight (the demo: answer), else the last reported."""
    from workbench.rules.store import rule_specs

    reported = sweep.rules()
    weights = {s.name: s.weight for s in rule_specs(project) if s.enabled}
    ranked = sorted((r for r in reported if r in weights), key=lambda r: -weights[r])
    return ranked[0] if ranked else (reported[-1] if reported else None)


def list_sweeps(project: Project) -> list[tuple[int, str]]:
    rows = project.db.execute("SELECT id, name FROM sweeps ORDER BY id DESC").fetchall()
    return [(int(r[0]), r[1]) for r in rows]


def get_sweep(project: Project, sweep_id: int) -> Sweep:
    db = project.db
    row = db.execute(
        "SELECT id, name, grid, created_at FROM sweeps WHERE id = ?", [sweep_id]
    ).fetchone()
    if row is None:
        raise KeyError(f"The project has no sweep {sweep_id}.")
    grid = json.loads(row[2])
    points = {tuple(p.items()): p for p in _grid_points(grid)}
    by_point: dict[tuple, SweepRun] = {}
    for job_id, status, params in db.execute(
        "SELECT id, status, params FROM jobs WHERE kind = 'train' ORDER BY id"
    ).fetchall():
        params = json.loads(params or "{}")
        if params.get("sweep_id") == sweep_id:
            point = params.get("sweep_point") or {}
            by_point[tuple(point.items())] = SweepRun(job_id, None, point, status, 0, None)
    for run_id, job_id, status, step, point in db.execute(
        "SELECT id, job_id, status, step, sweep_point FROM runs WHERE sweep_id = ? ORDER BY id",
        [sweep_id],
    ).fetchall():
        point = json.loads(point or "{}")
        entry = SweepRun(job_id, run_id, point, status, step or 0, None)
        entry.checkpoint_id, entry.pass_rates, entry.source = _final_figures(project, run_id)
        by_point[tuple(point.items())] = entry
    ordered = [by_point[key] for key in points if key in by_point]
    return Sweep(int(row[0]), row[1], grid, row[3], ordered)


def _grid_points(grid: dict[str, list[Any]]) -> list[dict[str, Any]]:
    return [dict(zip(grid, c, strict=True)) for c in itertools.product(*grid.values())]


def _final_figures(project: Project, run_id: int) -> tuple[int | None, dict[str, float], str]:
    """(last checkpoint, rule -> pass rate, source) of a run's final evaluation."""
    db = project.db
    ck = db.execute(
        "SELECT id FROM checkpoints WHERE run_id = ? ORDER BY step DESC LIMIT 1", [run_id]
    ).fetchone()
    checkpoint_id = int(ck[0]) if ck else None
    if checkpoint_id is not None:
        ev = db.execute(
            "SELECT summary FROM evaluations WHERE checkpoint_id = ? AND split = 'eval' "
            "ORDER BY id DESC LIMIT 1",
            [checkpoint_id],
        ).fetchone()
        rates = (json.loads(ev[0] or "{}").get("pass_rate") if ev else None) or {}
        if rates:
            return checkpoint_id, {k: float(v) for k, v in rates.items()}, "evaluation"
    metrics = db.execute(
        "SELECT name, value FROM metrics WHERE run_id = ? AND name LIKE 'eval_rewards/%/mean' "
        "AND step = (SELECT MAX(step) FROM metrics WHERE run_id = ? "
        "AND name LIKE 'eval_rewards/%/mean')",
        [run_id, run_id],
    ).fetchall()
    if metrics:
        rates = {name[len("eval_rewards/") : -len("/mean")]: float(v) for name, v in metrics}
        return checkpoint_id, rates, "eval metrics"
    return checkpoint_id, _sample_pass_rates(project, run_id), "eval samples"


def _sample_pass_rates(project: Project, run_id: int) -> dict[str, float]:
    rows = project.db.execute(
        "SELECT rewards FROM samples WHERE run_id = ? AND advantage IS NULL AND step = "
        "(SELECT MAX(step) FROM samples WHERE run_id = ? AND advantage IS NULL)",
        [run_id, run_id],
    ).fetchall()
    totals: dict[str, list[float]] = {}
    for (rewards,) in rows:
        for rule, value in json.loads(rewards or "{}").items():
            if rule != "total" and isinstance(value, int | float):
                totals.setdefault(rule, []).append(float(value > 0))  # passed: scored above 0
    return {rule: sum(v) / len(v) for rule, v in totals.items()}


@dataclass(frozen=True)
class BestOfSweep:
    sweep_id: int
    sweep_name: str
    rule: str
    run_id: int
    checkpoint_id: int
    pass_rate: float
    point: dict[str, Any]


def best_of_sweeps(project: Project, limit: int = 20) -> list[BestOfSweep]:
    """The best finished run's final checkpoint of each sweep (newest sweeps first), as the
    Compare view offers them."""
    out = []
    for sweep_id, _name in list_sweeps(project)[:limit]:
        sweep = get_sweep(project, sweep_id)
        rule = headline_rule(project, sweep)
        best = sweep.best(rule) if rule else None
        if rule and best and best.run_id and best.checkpoint_id:
            rate = best.pass_rates[rule]
            out.append(
                BestOfSweep(
                    sweep_id, sweep.name, rule, best.run_id, best.checkpoint_id, rate, best.point
                )
            )
    return out
