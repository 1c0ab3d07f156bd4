"""SimPO and KTO learn on the demo with the demo's defaults: from the README's rule
labels, the greedy pass rate on 100 eval prompts rises by at least GAIN points, and the
answer format holds. A loss that pushes the right answers down with the wrong ones
(SimPO with DPO's beta, KTO unweighted on unpaired labels with a z0 from matched pairs)
ends below the base model and fails here (checked against the old behaviour)."""

from __future__ import annotations

import pytest

from tests.learning.conftest import FORMAT_FLOOR, GAIN, copy_project, pass_rates, train


@pytest.mark.slow
@pytest.mark.parametrize("algorithm", ["simpo", "kto"])
def test_offline_algorithm_learns_from_rule_labels(algorithm, rule_labelled, base_rates, tmp_path):
    project = copy_project(rule_labelled, tmp_path / "demo")
    out = train(project, f"algorithm={algorithm}")
    rates = pass_rates(project, out["checkpoint_id"])
    assert rates["format"] >= FORMAT_FLOOR, rates
    assert rates["answer"] >= base_rates["answer"] + GAIN, (base_rates, rates)
