"""`workbench arena PROJECT judge`: the AI judge plays the blind arena of a stored
comparison from the command line (votes kept apart from people's); Ctrl+C stops it after
the battle it is in and keeps the battles played; `ratings --source` rates people's, the
judge's or all votes and reports how often the judge agreed with people."""

from __future__ import annotations

import json
import os
import signal

import pytest

import workbench.jobs.handlers.arena_judge as handler
from tests.workbench.arena_helpers import arena_comparison
from workbench.arena.board import judge_agreement
from workbench.arena.voting import ArenaSitting, next_battle, record_vote
from workbench.cli import main
from workbench.demo_project import DEMO_JUDGE


def run_json(capsys, argv):
    code = main(argv)
    return code, json.loads(capsys.readouterr().out)


def _sources(project):
    return dict(project.db.execute("SELECT source, count(*) FROM arena_battles GROUP BY source"))


def _people_vote(project, comparison_id, votes=3):
    sitting = ArenaSitting(seed=5)
    for _ in range(votes):
        record_vote(project, sitting, next_battle(project, sitting, comparison_id), "a")


class _PreferFirst:
    """A judge that always prefers the left answer, and counts what it was asked."""

    identity = "prefer-first"

    def __init__(self, interrupt_after: int | None = None):
        self.asked = 0
        self.interrupt_after = interrupt_after

    def compare(self, items, **_kwargs):
        from engine.judge.base import Verdict

        self.asked += len(items)
        if self.asked == self.interrupt_after:  # the user presses Ctrl+C mid-battle
            os.kill(os.getpid(), signal.SIGINT)
        return [Verdict(0.9) for _ in items]


def test_the_demo_judge_plays_from_the_command_line(demo_project, capsys):
    comparison, _ = arena_comparison(demo_project)
    _people_vote(demo_project, comparison.id)
    folder = str(demo_project.path)
    argv = ["arena", folder, "judge", "--comparison", str(comparison.id), "--battles", "4"]
    code, out = run_json(capsys, [*argv, "--judge", DEMO_JUDGE, "--quiet", "--json"])
    assert code == 0 and out["ok"] and out["status"] == "done", out
    assert out["judge"] == DEMO_JUDGE and out["battles"] + out["errors"] == 4
    assert out["stopped"] is False
    assert _sources(demo_project) == {"human": 3, "ai": out["battles"]}
    assert out["agreement_with_people"]["shared"] == judge_agreement(demo_project).shared

    main([*argv, "--judge", DEMO_JUDGE])  # the text report, progress on stderr
    said = capsys.readouterr()
    assert f"The judge {DEMO_JUDGE} played" in said.out and "judging comparison" in said.err


def test_ctrl_c_stops_the_judge_and_keeps_the_battles_played(demo_project, capsys, monkeypatch):
    comparison, _ = arena_comparison(demo_project)
    judge = _PreferFirst(interrupt_after=2)
    monkeypatch.setattr(handler, "build_pair_judge", lambda *args, **kwargs: judge)
    before = signal.getsignal(signal.SIGINT)
    code, out = run_json(
        capsys,
        ["arena", str(demo_project.path), "judge", "--comparison", str(comparison.id)]
        + ["--battles", "10", "--quiet", "--json"],
    )
    assert code == 0 and out["status"] == "done" and out["stopped"] is True, out
    # The battle it was judging when Ctrl+C came is finished and stored; no other is asked.
    assert judge.asked == out["battles"] == 2
    assert _sources(demo_project) == {"ai": 2}
    assert demo_project.db.execute(
        "SELECT count(*) FROM comparisons WHERE source = 'ai' AND judge = 'prefer-first'"
    ).fetchone() == (2,)
    assert signal.getsignal(signal.SIGINT) is before  # Ctrl+C behaves as before afterwards


def test_bad_judge_arguments_are_named_and_store_nothing(demo_project, capsys):
    comparison, _ = arena_comparison(demo_project)
    folder = str(demo_project.path)
    code, out = run_json(capsys, ["arena", folder, "judge", "--comparison", "99", "--json"])
    assert code == 1 and "comparison 99" in out["error"]
    argv = ["arena", folder, "judge", "--comparison", str(comparison.id), "--json"]
    code, out = run_json(capsys, [*argv, "--judge", "nosuch"])
    assert code == 1 and out["status"] == "failed" and "nosuch" in out["error"]
    code, out = run_json(capsys, [*argv, "--battles", "0"])
    assert code == 1 and "--battles" in out["error"]
    assert _sources(demo_project) == {}


@pytest.mark.parametrize(
    ("source", "battles"), [("human", {"human"}), ("ai", {"ai"}), ("all", {"human", "ai"})]
)
def test_ratings_by_source_report_the_judge_agreement(
    demo_project, capsys, monkeypatch, source, battles
):
    comparison, _ = arena_comparison(demo_project)
    _people_vote(demo_project, comparison.id)  # people prefer the left answer, as the judge
    monkeypatch.setattr(handler, "build_pair_judge", lambda *args, **kwargs: _PreferFirst())
    folder = str(demo_project.path)
    code, played = run_json(
        capsys, ["arena", folder, "judge", "--comparison", str(comparison.id), "--json"]
    )
    assert code == 0 and played["battles"] == 17  # every differing pair of answers

    code, out = run_json(
        capsys, ["arena", folder, "ratings", "--source", source, "--bootstrap", "20", "--json"]
    )
    assert code == 0 and out["source"] == source
    counted = {"human": 3, "ai": 17}
    assert sum(r["battles"] for r in out["ratings"]) == 2 * sum(counted[s] for s in battles)
    agreement = judge_agreement(demo_project)
    assert out["agreement"] == {
        "shared": agreement.shared,
        "agreed": agreement.agreed,
        "rate": agreement.rate,
    }
    assert agreement.shared == 3

    main(["arena", folder, "ratings", "--source", source, "--bootstrap", "20"])
    assert f"on {agreement.agreed} of 3 shared battle(s)" in capsys.readouterr().out
