"""Run health: pure checks over a run's metric history that say when a run is going wrong,
and what to try. They never stop a run; the recorder writes each new warning to the run's
log once (prefixed ``WARNING_PREFIX``), where the run's header and the Runs table find it.

The checks (each names the failure mode it catches):

- ``chosen_logps_falling``: the chosen completions' log-probability falls by more than half
  its starting size. DPO and SimPO can lower the right answers along with the wrong ones
  while ``rewards/accuracies`` still climbs to 1 (Pal et al. 2024, arXiv 2402.13228).
- ``eval_falling``: the eval reward (or the eval samples' reward) fell at two evaluations in
  a row.
- ``kl_stuck_at_zero``: a KL term that should move stays 0 (KTO's reference point clamped at
  0, or a policy that never leaves the reference).
- ``rewards_without_variance``: ``frac_reward_zero_std`` above 0.8: most groups' rewards are
  all equal, so GRPO/RLOO advantages are 0 and those prompts teach nothing.
- ``rule_collapse``: a rule that nearly always passed (the answer format) passes at less
  than half its first rate.
- ``flat_loss``: the loss does not move at all over the first steps.

Torch-free: the UI and the recorder import it.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from engine.algorithms import registry

WARNING_PREFIX = "warning: "
# The recorder's series of the rules' scores on an offline run's greedy eval samples.
SAMPLE_REWARD = "eval_samples/reward"
SAMPLE_RULE = "eval_samples/{rule}"

Series = Sequence[tuple[int, float]]  # (step, value), in step order
History = Mapping[str, Series]

MIN_TRAIN_POINTS = 20  # steps before a train-curve check may speak
WINDOW = 5  # points averaged at each end of a curve
ZERO_STD_LIMIT = 0.8
# KTO's z0 is 0 on 86% of the demo's steps when its mismatched pairs are matched ones, and on
# about 60% with true mismatches: more than this share of zeros means the term does nothing.
KL_ZERO_SHARE = 0.8
_RULE_SERIES = re.compile(r"^(?:eval_rewards/(?P<a>.+)/mean|eval_samples/(?P<b>(?!reward$).+))$")


@dataclass(frozen=True)
class HealthContext:
    """What the checks need to know about the run besides its metrics."""

    algorithm: str
    kl_expected: bool = False  # a KL / reference-point term with beta > 0


# The algorithms that log a "kl" metric that should move when beta > 0.
KL_ALGORITHMS = ("kto", "grpo", "rloo", "ppo")
MIN_SAMPLES = 8  # fewer greedy eval samples than this are too few to judge a trend by


def context_for(algorithm: str, config: Mapping[str, object]) -> HealthContext:
    """The context of a run from its stored config (beta empty: the algorithm's default)."""
    beta = config.get("beta")
    if beta is None and algorithm in registry.names():
        beta = registry.spec(algorithm).default_beta
    kl_expected = algorithm in KL_ALGORITHMS and isinstance(beta, int | float) and beta > 0
    return HealthContext(algorithm, kl_expected=kl_expected)


@dataclass(frozen=True)
class HealthWarning:
    code: str
    step: int
    message: str
    advice: str

    def line(self) -> str:
        """The run-log line: prefix, what happened, what to try."""
        return f"{WARNING_PREFIX}{self.message} Try: {self.advice}"


def _values(series: Series) -> list[float]:
    return [v for _, v in series if v is not None and v == v]  # NaN != NaN


def chosen_logps_falling(history: History, ctx: HealthContext) -> HealthWarning | None:
    series = history.get("logps/chosen", [])
    values = _values(series)
    if len(values) < MIN_TRAIN_POINTS:
        return None
    first = statistics.fmean(values[:WINDOW])
    last = statistics.fmean(values[-WINDOW:])
    if first >= 0 or last >= 1.5 * first or first - last < 0.05:
        return None
    return HealthWarning(
        "chosen_logps_falling",
        series[-1][0],
        f"The chosen completions' log-probability fell from {first:.3g} to {last:.3g}: the "
        "model is lowering the preferred answers too, only less than the rejected ones.",
        "a lower learning_rate, a larger beta, or rpo_alpha = 1.0 (an NLL term on the chosen "
        "answers) for DPO/IPO; for SimPO its own beta (2.0-2.5) and gamma.",
    )


def eval_falling(history: History, ctx: HealthContext) -> HealthWarning | None:
    for name in ("eval_reward", SAMPLE_REWARD):
        series = [(s, v) for s, v in history.get(name, []) if v is not None and v == v]
        if len(series) < 3:
            continue
        (_, a), (_, b), (step, c) = series[-3:]
        if a > b > c and a - c > 0.02:
            return HealthWarning(
                "eval_falling",
                step,
                f"The eval reward fell at two evaluations in a row ({a:.3g}, {b:.3g}, {c:.3g}).",
                "keep an earlier checkpoint (evaluate it from the Runs view), lower "
                "learning_rate, or raise beta to stay nearer the reference.",
            )
    return None


def kl_stuck_at_zero(history: History, ctx: HealthContext) -> HealthWarning | None:
    if not ctx.kl_expected:
        return None
    series = history.get("kl", [])
    values = _values(series)[WINDOW:]  # the policy is the reference at the start
    if len(values) < MIN_TRAIN_POINTS:
        return None
    zero = sum(abs(v) < 1e-9 for v in values) / len(values)
    if zero < KL_ZERO_SHARE:
        return None
    if ctx.algorithm == "kto":
        advice = (
            "a larger batch_size (z0 is a batch mean over mismatched prompt/answer pairs, "
            "clamped at 0) or a lower learning_rate."
        )
        what = "KTO's reference point z0"
    else:
        advice = "a larger learning_rate, or check that LoRA targets the model's layers."
        what = "The KL to the reference"
    return HealthWarning(
        "kl_stuck_at_zero",
        series[-1][0],
        f"{what} was 0 on {zero:.0%} of the steps: that term does nothing.",
        advice,
    )


def rewards_without_variance(history: History, ctx: HealthContext) -> HealthWarning | None:
    series = history.get("frac_reward_zero_std", [])
    values = _values(series)[-10:]
    if len(values) < 10 or statistics.fmean(values) <= ZERO_STD_LIMIT:
        return None
    return HealthWarning(
        "rewards_without_variance",
        series[-1][0],
        f"In {statistics.fmean(values):.0%} of the groups every sample got the same reward: "
        "their advantages are 0 and they teach nothing.",
        "more num_generations or a higher temperature, a reward with partial credit, or "
        "prompts nearer the model's level.",
    )


def rule_collapse(history: History, ctx: HealthContext) -> HealthWarning | None:
    for name, series in history.items():
        match = _RULE_SERIES.match(name)
        values = _values(series)
        if not match or len(values) < 2:
            continue
        rule = match.group("a") or match.group("b")
        first, last = values[0], values[-1]
        if first >= 0.8 and last < 0.5 * first:
            return HealthWarning(
                "rule_collapse",
                series[-1][0],
                f"The rule {rule!r} passed on {first:.0%} of the eval answers at first and on "
                f"{last:.0%} now: the answers are losing the form it checks.",
                f"a lower learning_rate, a larger beta, or more weight on {rule!r} (or make it "
                "a gate) in the reward.",
            )
    return None


def flat_loss(history: History, ctx: HealthContext) -> HealthWarning | None:
    series = history.get("loss", [])
    values = _values(series)[:MIN_TRAIN_POINTS]
    if len(values) < MIN_TRAIN_POINTS:
        return None
    if max(values) - min(values) > 1e-6 * max(1.0, abs(statistics.fmean(values))):
        return None
    return HealthWarning(
        "flat_loss",
        series[MIN_TRAIN_POINTS - 1][0],
        f"The loss stayed at {values[0]:.4g} for the first {MIN_TRAIN_POINTS} steps: nothing "
        "is being learned.",
        "a larger learning_rate (is it 0?), and check that the labels differ (a chosen and "
        "rejected answer that are the same teach nothing).",
    )


CHECKS = (
    chosen_logps_falling,
    eval_falling,
    kl_stuck_at_zero,
    rewards_without_variance,
    rule_collapse,
    flat_loss,
)


def check_run(history: History, ctx: HealthContext) -> list[HealthWarning]:
    """Every check that speaks on this history, in ``CHECKS`` order."""
    return [w for check in CHECKS if (w := check(history, ctx)) is not None]


@dataclass
class HealthMonitor:
    """Keeps a run's metric history as the recorder sees it and answers the warnings that are
    new (each check speaks once per run)."""

    ctx: HealthContext
    history: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    said: set[str] = field(default_factory=set)

    def add(self, step: int, metrics: Mapping[str, float]) -> None:
        for name, value in metrics.items():
            if isinstance(value, int | float):
                self.history.setdefault(name, []).append((step, float(value)))

    def add_samples(self, step: int, per_rule: Mapping[str, list[float]], totals: list[float]):
        """An offline run's greedy eval samples scored by the rules, when there are enough
        of them to show a trend."""
        if len(totals) < MIN_SAMPLES:
            return
        points = {SAMPLE_REWARD: statistics.fmean(totals)}
        for rule, values in per_rule.items():
            points[SAMPLE_RULE.format(rule=rule)] = statistics.fmean(values)
        self.add(step, points)

    def new_warnings(self) -> list[HealthWarning]:
        fresh = [w for w in check_run(self.history, self.ctx) if w.code not in self.said]
        self.said.update(w.code for w in fresh)
        return fresh


def warnings_in_log(lines: Sequence[str]) -> list[str]:
    """The run-log lines that are warnings, without the prefix (the header and the Runs
    table show these)."""
    return [line[len(WARNING_PREFIX) :] for line in lines if line.startswith(WARNING_PREFIX)]
