"""`workbench compare --judge`: the demo judge compares each model's answers with the
baseline's (both orders), the win rate against the baseline is reported and kept as AI
labels, so asking again judges nothing; a judge that cannot run is refused by name before
anything is stored."""

from __future__ import annotations

import pytest

from tests.workbench.arena_helpers import arena_comparison
from tests.workbench.test_compare import _compare, _count, _refused
from workbench.demo_project import DEMO_JUDGE


@pytest.mark.slow
def test_the_judge_gives_a_win_rate_against_the_baseline_and_is_not_asked_twice(
    demo_project, capsys
):
    # Base and two checkpoints with their answers stored: the command generates nothing,
    # and the first checkpoint's answer to the first prompt is the baseline's own.
    comparison, checkpoints = arena_comparison(demo_project, prompts=6)
    models = ",".join(["base", *map(str, checkpoints)])
    args = ("--models", models, "--limit", "6", "--judge", DEMO_JUDGE)
    code, out = _compare(capsys, demo_project.path, *args)
    assert code == 0 and out["ok"], out
    assert out["comparison_id"] == comparison.id and out["generated"] == 0
    baseline, first, second = out["models"]
    assert "win_rate_vs_baseline" not in baseline
    assert first["judged_vs_baseline"] == second["judged_vs_baseline"] == 6
    for model in (first, second):
        assert 0.0 <= model["win_rate_vs_baseline"] <= 1.0
    judged = out["judge"]
    assert judged["errors"] == 0 and judged["reused"] == 0 and judged["judged"] == 11
    assert _count(demo_project, "comparisons") == 11  # the identical pair is a tie unasked

    code, again = _compare(capsys, demo_project.path, *args)
    assert code == 0 and again["judge"]["judged"] == 0 and again["judge"]["reused"] == 11
    assert [m.get("win_rate_vs_baseline") for m in again["models"]] == [
        None,
        first["win_rate_vs_baseline"],
        second["win_rate_vs_baseline"],
    ]
    assert _count(demo_project, "comparisons") == 11


def test_an_unknown_judge_is_refused_before_anything_is_stored(demo_project, capsys):
    error = _refused(capsys, demo_project, "base", "--judge", "nosuch")
    assert "'nosuch'" in error and DEMO_JUDGE in error
