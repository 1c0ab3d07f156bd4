"""`workbench arena PROJECT import FILE | judge | ratings`: battles in FastChat's format,
an AI judge playing the blind arena of a stored comparison, and the Bradley-Terry ratings
with bootstrap intervals the battles give (of people, the judge or both, with how often
the judge agreed with people on the battles both voted on)."""

from __future__ import annotations

import sys
import time
from dataclasses import asdict

from workbench.arena.battles import SOURCES
from workbench.arena.ratings import RatingTable
from workbench.cli.output import ProgressBar, emit_json
from workbench.project import Project

PROGRESS_AFTER_S = 0.5  # a bootstrap done sooner shows no bar
PROGRESS_EVERY_S = 0.2  # the bootstrap reports every chunk of rounds; redraw less often


class _LateBar:
    """A progress bar that appears only once the work has run for a moment."""

    def __init__(self, bar: ProgressBar):
        self.bar = bar
        self.start = time.monotonic()
        self.last = self.start

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.start < PROGRESS_AFTER_S:
            return
        if now - self.last >= PROGRESS_EVERY_S or done == total:
            self.bar(done, total)
            self.last = now


def cmd_import(args) -> int:
    from workbench.arena.battle_import import import_battles
    from workbench.data.prompt_io.errors import ImportFailed

    project = Project.open(args.project)
    try:
        report = import_battles(project, args.file)
    except ImportFailed as exc:
        if args.json:
            emit_json(
                {
                    "ok": False,
                    "imported": 0,
                    "errors": [{"line": e.line, "message": e.message} for e in exc.errors],
                }
            )
        print(str(exc), file=sys.stderr)
        return 1
    if args.json:
        emit_json({"ok": True, **asdict(report)})
    else:
        outcomes = ", ".join(f"{n} {winner}" for winner, n in report.winners.items())
        print(
            f"Imported {report.imported} battle(s) among {len(report.models)} model(s), "
            f"{len(report.external)} of them external: {outcomes}"
        )
    return 0


def _number(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _print_table(table: RatingTable) -> None:
    if not table.ratings:
        print("No battles yet: import some with `workbench arena PROJECT import FILE`.")
        return
    width = max(len("model"), *(len(r.model) for r in table.ratings))
    print(f"{'#':>3}  {'model':<{width}}  {'rating':>7}  {'95% interval':>17}  battles  wins  ties")
    for rank, r in enumerate(table.ratings, 1):
        interval = "" if r.ci_low is None else f"{r.ci_low:.1f} to {r.ci_high:.1f}"
        print(
            f"{rank:>3}  {r.model:<{width}}  {r.rating:>7.1f}  {interval:>17}  "
            f"{r.battles:>7}  {r.wins:>4}  {r.ties:>4}"
        )
    how = f"{table.bootstrap_rounds} bootstrap rounds, seed {table.seed}"
    print(f"{table.baseline} is the baseline at 1000; intervals from {how}.")


def _print_agreement(agreement) -> None:
    if not agreement.shared:
        print("The AI judge and people have voted on no battle in common yet.")
        return
    print(
        f"The AI judge agreed with people on {agreement.agreed} of {agreement.shared} "
        f"shared battle(s) ({agreement.rate:.0%})."
    )


def cmd_ratings(args) -> int:
    from workbench.arena.board import judge_agreement
    from workbench.arena.leaderboard import project_ratings

    if args.bootstrap < 0:
        raise ValueError("--bootstrap must be 0 (no intervals) or more rounds")
    project = Project.open(args.project)
    sources = None if args.source == "all" else [args.source]
    bar = ProgressBar("bootstrap", enabled=not args.json)
    try:
        table = project_ratings(
            project,
            sources,
            bootstrap_rounds=args.bootstrap,
            seed=args.seed,
            progress=_LateBar(bar),
        )
    finally:
        bar.close()
    agreement = judge_agreement(project)
    if args.json:
        rows = [
            {
                "model": r.model,
                "rating": _number(r.rating),
                "ci_low": _number(r.ci_low),
                "ci_high": _number(r.ci_high),
                "battles": r.battles,
                "wins": r.wins,
                "ties": r.ties,
            }
            for r in table.ratings
        ]
        emit_json(
            {
                "ok": True,
                "ratings": rows,
                "baseline": table.baseline,
                "bootstrap": table.bootstrap_rounds,
                "seed": table.seed,
                "source": args.source,
                "agreement": {
                    "shared": agreement.shared,
                    "agreed": agreement.agreed,
                    "rate": agreement.rate,
                },
            }
        )
    else:
        _print_table(table)
        _print_agreement(agreement)
    return 0


def _print_judged(result: dict) -> None:
    errors = result["errors"]
    print(
        f"The judge {result['judge']} played {result['battles']} battle(s)"
        + (f"; {errors} judgement(s) failed, e.g. {result['error_examples'][0]}" if errors else "")
        + ("; stopped before the end" if result.get("stopped") else "")
        + "."
    )
    shared = result["agreement_with_people"]
    if shared["shared"]:
        print(
            f"It agrees with people on {shared['agreed']} of {shared['shared']} shared "
            f"battle(s) ({shared['rate']:.0%})."
        )


def cmd_judge(args) -> int:
    from workbench.cli.job_commands import report_job
    from workbench.comparing.store import load
    from workbench.jobs.worker import run_inline

    if args.battles < 1:
        raise ValueError(f"--battles must be at least 1, not {args.battles}.")
    project = Project.open(args.project)
    load(project, args.comparison)  # an unknown comparison is named before any job is made
    params: dict = {"comparison_id": args.comparison, "battles": args.battles, "seed": args.seed}
    if args.judge:
        params["judge"] = args.judge
    bar = ProgressBar(f"judging comparison {args.comparison}", enabled=not args.quiet)
    try:
        job = run_inline(project, "arena_judge", params, on_progress=bar, interruptible=True)
    finally:
        bar.close()
    return report_job(job, args.json, _print_judged)


def add_commands(sub) -> None:
    p = sub.add_parser("arena", help="arena battles between models and their ratings")
    p.add_argument("project")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    a = actions.add_parser(
        "import", help="add battles from a FastChat JSONL file (model_a, model_b, winner)"
    )
    a.add_argument("file")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func=cmd_import)

    a = actions.add_parser(
        "judge",
        help="an AI judge plays the blind arena of a stored comparison (both orders; its "
        "votes are kept apart from people's); Ctrl+C stops and keeps the battles played",
    )
    a.add_argument("--comparison", type=int, required=True, metavar="ID", help="comparison id")
    a.add_argument("--judge", metavar="NAME", help="a stored judge (the project's default)")
    a.add_argument("--battles", type=int, default=20, metavar="N", help="battles to play (20)")
    a.add_argument("--seed", type=int, default=0, help="seed of the pairing (0)")
    a.add_argument("--quiet", action="store_true", help="no progress bar on stderr")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func=cmd_judge)

    a = actions.add_parser("ratings", help="Bradley-Terry ratings with 95%% bootstrap intervals")
    a.add_argument(
        "--bootstrap",
        type=int,
        default=1000,
        metavar="N",
        help="bootstrap rounds for the intervals (1000; 0: none)",
    )
    a.add_argument("--seed", type=int, default=0, help="seed of the bootstrap (0)")
    a.add_argument(
        "--source",
        choices=[*SOURCES, "all"],
        default="all",
        help="only battles of this source (all)",
    )
    a.add_argument("--json", action="store_true")
    a.set_defaults(func=cmd_ratings)
