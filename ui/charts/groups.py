"""Which chart a metric goes in, and the order the charts appear in.

The ``eval_`` prefix is ignored for grouping (eval_loss shares the loss chart, drawn with
markers); metrics of no known group get an "other" chart per name prefix (the part before
the first "/"), placed after the known ones in alphabetical order.
"""

from __future__ import annotations

EVAL_PREFIX = "eval_"

GROUPS = (
    "loss",
    "reward",
    "reward spread",
    "margins & accuracies",
    "log-probs",
    "KL",
    "clip ratio",
    "entropy",
    "completion length",
    "gradient norm",
    "learning rate",
    "throughput",
    "memory",
    "system",
    "value head",
    "rule failures",
)
_ORDER = {title: i for i, title in enumerate(GROUPS)}

_MARGINS = {
    "rewards/margins",
    "rewards/accuracies",
    "accuracy",
    "accuracies",
    "mean_token_accuracy",  # SFT's (TRL's name)
    "online_dpo/tie_fraction",
}
# How much the rewards of a group differ: GRPO learns nothing from a group whose
# completions all score the same (frac_reward_zero_std), so these share a chart.
_SPREAD = {"reward_std", "frac_reward_zero_std"}
# TRL's PPO names: the KL penalty and its coefficient, and the score the policy maximises.
_KL = {"kl", "approxkl", "objective/kl", "objective/kl_coef", "objective/non_score_reward"}
_REWARD = {"reward", "objective/scores", "objective/rlhf_reward"}


def is_eval(metric: str) -> bool:
    return metric.startswith(EVAL_PREFIX)


def base_name(metric: str) -> str:
    """The train counterpart of an eval metric (``eval_loss`` -> ``loss``)."""
    return metric[len(EVAL_PREFIX) :] if is_eval(metric) else metric


def _known_group(base: str) -> str | None:
    head, _, tail = base.partition("/")
    if base in ("loss", "nll_loss") or base.endswith("_loss") or head == "loss":
        return "loss"
    if base in _MARGINS or base.endswith("/accuracy"):
        return "margins & accuracies"
    if base in _SPREAD or (head == "rewards" and base.endswith("/std")):
        return "reward spread"
    if head == "rewards" and base.endswith("/failures"):
        return "rule failures"
    if base in _REWARD or head in ("rewards", "reward"):
        return "reward"
    if head in ("logps", "logp") or base.startswith("logps_"):
        return "log-probs"
    if base in _KL or tail in ("kl", "approxkl") or base.endswith("_kl"):
        return "KL"
    if head == "val":  # PPO's value head: explained variance, value clipping
        return "value head"
    if head == "clip_ratio" or base == "clip_ratio" or tail in ("clipfrac", "clip_ratio"):
        return "clip ratio"
    if "entropy" in base:
        return "entropy"
    if head == "completions" or base.startswith("completion_length"):
        return "completion length"
    if base in ("grad_norm", "gradient_norm"):
        return "gradient norm"
    if base in ("learning_rate", "lr"):
        return "learning rate"
    if (
        head in ("train", "time", "timing", "throughput")
        or base.endswith("_seconds")
        or "per_second" in base
        or base.startswith(("generation", "training"))
    ):
        return "throughput"
    if head == "memory":
        return "memory"
    if head == "system":
        return "system"
    return None


# The quantity and unit on each group's y axis (log-probabilities and KL are in nats:
# natural logs of probabilities).
Y_AXIS = {
    "loss": "loss",
    "reward": "reward",
    "reward spread": "std / share of groups",
    "margins & accuracies": "margin (nats) / accuracy",
    "log-probs": "log-probability (nats)",
    "KL": "KL (nats)",
    "clip ratio": "share of tokens clipped",
    "entropy": "entropy (nats/token)",
    "completion length": "tokens",
    "gradient norm": "gradient L2 norm",
    "learning rate": "learning rate",
    "throughput": "seconds / per second",
    "memory": "GiB",
    "system": "% of one core / GiB",
    "value head": "value",
    "rule failures": "failures",
}


def y_axis_label(metric_or_title: str) -> str:
    """The y-axis title for a chart: its group's quantity and unit."""
    if metric_or_title in Y_AXIS:
        return Y_AXIS[metric_or_title]
    known = _known_group(base_name(metric_or_title))
    return Y_AXIS.get(known, "value") if known is not None else "value"


def chart_title(metric: str) -> str:
    """The title of the chart ``metric`` is drawn in."""
    base = base_name(metric)
    known = _known_group(base)
    if known is not None:
        return known
    prefix = base.partition("/")[0] or base
    return f"{prefix} (other)" if prefix in _ORDER else prefix


def chart_sort_key(title: str) -> tuple[int, str]:
    """Known groups in their fixed order, then the others alphabetically."""
    return (_ORDER.get(title, len(GROUPS)), title.lower())
