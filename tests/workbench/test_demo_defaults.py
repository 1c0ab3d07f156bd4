"""The demo project's per-algorithm defaults: each algorithm gets its own tuned values over
the demo's offline or online ones, and a user's own project gets none of them.

``test_simpo_does_not_get_dpos_beta`` is the test that would have caught the demo's SimPO
regression: the demo's offline beta (1.0, tuned for DPO) was applied to SimPO, whose
length-normalised margin wants its own (2.0-2.5, Meng et al. 2024), and SimPO lowered the
right answers along with the wrong ones (39% -> 18% on the eval split)."""

from __future__ import annotations

from engine.training.offline.kto import BALANCE_RANGE
from workbench.demo_project import DEMO_TRAIN_DEFAULTS, DEMO_TUNED
from workbench.training.config import RunConfig, with_defaults


def demo_config(algorithm: str, **given) -> RunConfig:
    return RunConfig.from_dict(
        with_defaults({"algorithm": algorithm, **given}, DEMO_TRAIN_DEFAULTS)
    )


def test_simpo_does_not_get_dpos_beta():
    dpo, simpo = demo_config("dpo").train, demo_config("simpo").train
    assert simpo.resolved_beta() >= 2.0 > dpo.resolved_beta()
    assert simpo.method.rpo_alpha > 0  # CPO-SimPO: the chosen NLL keeps right answers up


def test_kto_weights_the_demo_labels_into_balance():
    kto = demo_config("kto").train
    # Unpaired rule labels of the demo: about 2.25 undesirable examples per desirable one.
    ratio = kto.method.desirable_weight * 1 / (kto.method.undesirable_weight * 2.25)
    assert BALANCE_RANGE[0] <= ratio <= BALANCE_RANGE[1]


def test_every_tuned_value_reaches_its_algorithm_and_a_given_value_wins():
    for algorithm, values in DEMO_TUNED.items():
        config = demo_config(algorithm).to_dict()
        assert all(config[key] == value for key, value in values.items()), algorithm
    assert demo_config("simpo", beta=0.7).train.resolved_beta() == 0.7


def test_a_users_project_keeps_the_trl_defaults():
    simpo = RunConfig.from_dict(with_defaults({"algorithm": "simpo"}, {})).train
    assert simpo.resolved_beta() == 2.0 and simpo.method.rpo_alpha == 0.0
    kto = RunConfig.from_dict(with_defaults({"algorithm": "kto"}, {})).train
    assert kto.method.desirable_weight == 1.0
