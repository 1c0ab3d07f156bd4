"""The settings of a training run, as plain data (no torch): what the config file, the
command line and the Train view set, validated before anything loads.

Each field carries a ``help`` text (what it does and when to change it) that the README
table and the GUI tooltips show. Defaults suit the demo project on a CPU.
"""

from __future__ import annotations

import math
from dataclasses import MISSING, asdict, dataclass, field, fields
from typing import Any

from engine.errors import SettingsError
from engine.lora import LoraSettings

OFFLINE_ALGORITHMS = ("dpo", "ipo", "simpo", "orpo", "kto", "reward")
# Online: the policy samples completions of prompts and learns from their rewards.
ONLINE_ALGORITHMS = ("grpo", "rloo", "ppo", "online_dpo")
ALGORITHMS = OFFLINE_ALGORITHMS + ONLINE_ALGORITHMS
PAIRED_ALGORITHMS = ("dpo", "ipo", "simpo", "orpo", "reward")
# Methods that compare the policy with a frozen reference (and so need its log-probs).
REFERENCE_ALGORITHMS = ("dpo", "ipo", "kto")
DPO_LOSS_TYPES = ("sigmoid", "robust", "hinge", "ipo")
GRPO_LOSS_TYPES = ("grpo", "bnpo", "dr_grpo", "dapo")
REWARD_SCALINGS = ("group", "batch", "none")
IMPORTANCE_LEVELS = ("token", "sequence")
SCHEDULERS = ("cosine", "linear", "constant")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")

# The paper / TRL default of beta for each algorithm, used when beta is not set.
# Online: GRPO 0 (no KL, as TRL since 0.19 and DAPO), RLOO 0.05, PPO's initial KL
# coefficient 0.05, Online DPO 0.1.
DEFAULT_BETA = {
    "dpo": 0.1,
    "ipo": 0.1,
    "simpo": 2.0,
    "orpo": 0.1,
    "kto": 0.1,
    "reward": 0.0,
    "grpo": 0.0,
    "rloo": 0.05,
    "ppo": 0.05,
    "online_dpo": 0.1,
}
# Where beta = 0 is meaningful (no KL term) rather than a division by zero.
ZERO_BETA_OK = ("grpo", "rloo", "ppo")
_ON = ONLINE_ALGORITHMS
_CLIPPED = ("grpo", "rloo", "ppo")


def _f(default: Any, help: str, **kw) -> Any:
    if isinstance(default, (list, dict)):
        value = default
        return field(default_factory=lambda: type(value)(value), metadata={"help": help, **kw})
    return field(default=default, metadata={"help": help, **kw})


@dataclass
class TrainSettings:
    algorithm: str = _f(
        "dpo",
        "Offline from labels: dpo, ipo, simpo, orpo, kto or reward (a "
        "Bradley-Terry reward model). Online, sampling from the policy: grpo, "
        "rloo, ppo or online_dpo.",
        group="method",
    )
    max_steps: int = _f(
        200,
        "Optimizer steps to run. Raise it for more data or a lower learning rate.",
        group="optimization",
    )
    learning_rate: float = _f(
        5e-5,
        "Peak learning rate of AdamW for the LoRA weights. "
        "Typical: 5e-6 to 1e-4 for 1B+ models, higher for tiny ones.",
        group="optimization",
    )
    batch_size: int = _f(
        8,
        "Per micro-batch on each process: pairs or examples (offline), or "
        "prompts, each sampled num_generations times (online).",
        group="optimization",
    )
    gradient_accumulation_steps: int = _f(
        1,
        "Micro-batches summed into one optimizer step; "
        "raises the effective batch without more memory.",
        group="optimization",
    )
    lr_scheduler: str = _f(
        "cosine",
        "Learning-rate schedule after warmup: cosine, linear or constant.",
        group="optimization",
    )
    warmup_ratio: float = _f(
        0.1, "Share of max_steps spent warming the learning rate up from 0.", group="optimization"
    )
    weight_decay: float = _f(0.0, "AdamW weight decay on the LoRA weights.", group="optimization")
    max_grad_norm: float = _f(
        1.0, "Clip the gradient norm to this; 0 turns clipping off.", group="optimization"
    )
    beta: float | None = _f(
        None,
        "Strength of the preference or KL term. Empty: the method's "
        "default (DPO/IPO/KTO/Online DPO 0.1, SimPO 2.0, ORPO lambda 0.1; "
        "online: the KL weight, GRPO 0 = no reference, RLOO 0.05, PPO's "
        "initial KL coefficient 0.05). Lower lets the policy move further "
        "from the reference.",
        group="method",
        only=("dpo", "ipo", "simpo", "orpo", "kto", *ONLINE_ALGORITHMS),
    )
    loss_type: str = _f(
        "sigmoid",
        "DPO loss: sigmoid (DPO), robust (with label_smoothing), hinge "
        "(SLiC) or ipo. The ipo algorithm sets ipo.",
        group="method",
        only=("dpo",),
    )
    label_smoothing: float = _f(
        0.0,
        "Assumed share of wrong labels (cDPO / robust DPO), 0 to 0.5.",
        group="method",
        only=("dpo", "simpo"),
    )
    rpo_alpha: float = _f(
        0.0,
        "DPO/IPO: weight of an NLL term on the chosen completions (RPO, Pang "
        "et al. 2024) that stops the chosen likelihood from falling; try 1.0.",
        group="method",
        only=("dpo", "ipo"),
    )
    simpo_gamma_beta_ratio: float = _f(
        0.5, "SimPO's target margin gamma as a share of beta.", group="method", only=("simpo",)
    )
    desirable_weight: float = _f(
        1.0,
        "KTO weight of desirable examples; raise it when they are fewer than the undesirable ones.",
        group="method",
        only=("kto",),
    )
    undesirable_weight: float = _f(
        1.0, "KTO weight of undesirable examples.", group="method", only=("kto",)
    )
    center_rewards_coefficient: float | None = _f(
        None,
        "Reward model: weight of the term that keeps rewards centred on 0 (TRL suggests 0.01).",
        group="method",
        only=("reward",),
    )
    use_margin: bool = _f(
        False,
        "Reward model: require the labelled margin between chosen and rejected.",
        group="method",
        only=("reward",),
    )
    num_generations: int = _f(
        8,
        "Online: completions sampled per prompt (the group GRPO and "
        "RLOO compare within). Online DPO always samples 2.",
        group="rollout",
        only=("grpo", "rloo", "ppo"),
    )
    max_completion_length: int = _f(
        64,
        "Online: longest sampled completion, in tokens. A "
        "completion cut at this length has no end token.",
        group="rollout",
        only=_ON,
    )
    temperature: float = _f(
        1.0,
        "Online: sampling temperature of the rollouts; higher "
        "explores more (and gives GRPO groups that differ).",
        group="rollout",
        only=_ON,
    )
    top_p: float = _f(
        1.0, "Online: nucleus sampling of the rollouts (1 = off).", group="rollout", only=_ON
    )
    top_k: int = _f(
        0, "Online: sample only among the k likeliest tokens (0 = off).", group="rollout", only=_ON
    )
    num_iterations: int = _f(
        1,
        "Online: optimizer updates on each batch of rollouts (GRPO's "
        "mu, PPO's epochs); above 1 the importance ratio and clipping act.",
        group="method",
        only=_CLIPPED,
    )
    epsilon: float = _f(
        0.2,
        "Online: clip range of the importance ratio (lower bound 1 - epsilon).",
        group="method",
        only=_CLIPPED,
    )
    epsilon_high: float | None = _f(
        None,
        "GRPO: upper clip 1 + epsilon_high (DAPO's clip-higher, e.g. 0.28); empty: epsilon.",
        group="method",
        only=("grpo",),
    )
    grpo_loss_type: str = _f(
        "dapo",
        "GRPO loss aggregation: grpo (mean per sequence), bnpo "
        "(tokens of the micro-batch), dr_grpo (batch x max length, no length "
        "bias) or dapo (tokens of the whole step; TRL's default).",
        group="method",
        only=("grpo",),
    )
    scale_rewards: str = _f(
        "group",
        "GRPO: divide advantages by the reward std of the group, of the batch, or none (Dr. GRPO).",
        group="method",
        only=("grpo",),
    )
    importance_sampling_level: str = _f(
        "token",
        "GRPO: importance ratio per token, or per sequence (GSPO, Zheng et al. 2025).",
        group="method",
        only=("grpo",),
    )
    mask_truncated_completions: bool = _f(
        False,
        "GRPO/RLOO: completions cut at max_completion_length get no loss (DAPO).",
        group="method",
        only=("grpo", "rloo"),
    )
    normalize_advantages: bool = _f(
        False, "RLOO: normalise the advantages over the batch.", group="method", only=("rloo",)
    )
    gamma: float = _f(
        1.0, "PPO: discount of future rewards within a completion.", group="method", only=("ppo",)
    )
    lam: float = _f(
        0.95,
        "PPO: GAE lambda, the bias-variance trade-off of the advantages.",
        group="method",
        only=("ppo",),
    )
    vf_coef: float = _f(0.1, "PPO: weight of the value loss.", group="method", only=("ppo",))
    cliprange_value: float = _f(
        0.2, "PPO: clip range of the value updates.", group="method", only=("ppo",)
    )
    entropy_coef: float = _f(
        0.0,
        "PPO: weight of an entropy bonus that keeps sampling diverse.",
        group="method",
        only=("ppo",),
    )
    whiten_advantages: bool = _f(
        True, "PPO: normalise advantages to mean 0, std 1 per batch.", group="method", only=("ppo",)
    )
    kl_target: float | None = _f(
        None,
        "PPO: adaptive KL coefficient aiming at this KL (Ziegler "
        "et al. 2019, e.g. 6.0); empty: fixed coefficient beta.",
        group="method",
        only=("ppo",),
    )
    kl_horizon: int = _f(
        10000, "PPO: horizon of the adaptive KL controller.", group="method", only=("ppo",)
    )
    samples_per_step: int = _f(
        2,
        "Online: prompts whose completions, rewards and advantages "
        "are stored every step for the sample browser.",
        group="evaluation",
        only=_ON,
    )
    eval_prompts: int = _f(
        64,
        "Online: eval-split prompts answered greedily and scored by the "
        "reward at each evaluation (0: all of them).",
        group="evaluation",
        only=_ON,
    )
    max_length: int = _f(
        256,
        "Longest prompt + completion in tokens; longer examples are left out "
        "and reported, never cut.",
        group="data",
    )
    precision: str = _f(
        "auto",
        "auto (bf16 on a GPU that has it, else fp32), fp32, bf16 or fp16 autocast.",
        group="hardware",
    )
    gradient_checkpointing: bool = _f(
        False,
        "Recompute activations in the backward pass: less memory, about 30% slower.",
        group="hardware",
    )
    seed: int = _f(0, "Seed for data order, LoRA initialisation and dropout.", group="optimization")
    eval_every: int = _f(
        50,
        "Evaluate on the eval split every this many steps (0: only at the end).",
        group="evaluation",
    )
    eval_batches: int = _f(
        0, "Eval micro-batches per evaluation (0: the whole eval split).", group="evaluation"
    )
    checkpoint_every: int = _f(
        100, "Save a checkpoint every this many steps (0: only at the end).", group="evaluation"
    )
    samples_per_eval: int = _f(
        4,
        "Eval prompts whose greedy completions are stored at each evaluation.",
        group="evaluation",
        only=("dpo", "ipo", "simpo", "orpo", "kto", *ONLINE_ALGORITHMS),
    )
    sample_max_new_tokens: int = _f(
        48,
        "Longest sample completion, in tokens.",
        group="evaluation",
        only=("dpo", "ipo", "simpo", "orpo", "kto", *ONLINE_ALGORITHMS),
    )
    logging_every: int = _f(1, "Record metrics every this many steps.", group="evaluation")
    device: str = _f("auto", "auto, cpu, cuda, cuda:N or mps.", group="hardware")
    lora: LoraSettings = field(
        default_factory=LoraSettings, metadata={"help": "LoRA adapter settings."}
    )

    def resolved_beta(self) -> float:
        return DEFAULT_BETA[self.algorithm] if self.beta is None else float(self.beta)

    def resolved_loss_type(self) -> str:
        return "ipo" if self.algorithm == "ipo" else self.loss_type

    def needs_reference(self) -> bool:
        """Offline methods whose reference log-probs are computed once before training
        (online methods compute theirs on each batch of rollouts)."""
        return self.algorithm in REFERENCE_ALGORITHMS

    @property
    def online(self) -> bool:
        return self.algorithm in ONLINE_ALGORITHMS

    def group_size(self) -> int:
        return 2 if self.algorithm == "online_dpo" else self.num_generations

    def resolved_epsilon_high(self) -> float:
        return self.epsilon if self.epsilon_high is None else float(self.epsilon_high)

    def validate(self) -> None:
        """Raise SettingsError naming the first bad value and its allowed range."""
        _choice("algorithm", self.algorithm, ALGORITHMS)
        _choice("grpo_loss_type", self.grpo_loss_type, GRPO_LOSS_TYPES)
        _choice("scale_rewards", self.scale_rewards, REWARD_SCALINGS)
        _choice("importance_sampling_level", self.importance_sampling_level, IMPORTANCE_LEVELS)
        self._validate_online()
        _choice("lr_scheduler", self.lr_scheduler, SCHEDULERS)
        _choice("loss_type", self.loss_type, DPO_LOSS_TYPES)
        _choice("precision", self.precision, PRECISIONS)
        for name in (
            "max_steps",
            "batch_size",
            "gradient_accumulation_steps",
            "max_length",
            "logging_every",
        ):
            _whole(name, getattr(self, name), minimum=1)
        for name in ("eval_every", "eval_batches", "checkpoint_every", "samples_per_eval", "seed"):
            _whole(name, getattr(self, name), minimum=0)
        _whole("sample_max_new_tokens", self.sample_max_new_tokens, minimum=1)
        _number("learning_rate", self.learning_rate, low=0, low_open=True)
        _number("warmup_ratio", self.warmup_ratio, low=0, high=1)
        _number("weight_decay", self.weight_decay, low=0)
        _number("max_grad_norm", self.max_grad_norm, low=0)
        _number("label_smoothing", self.label_smoothing, low=0, high=0.5, high_open=True)
        _number("rpo_alpha", self.rpo_alpha, low=0)
        _number("simpo_gamma_beta_ratio", self.simpo_gamma_beta_ratio, low=0)
        _number("desirable_weight", self.desirable_weight, low=0, low_open=True)
        _number("undesirable_weight", self.undesirable_weight, low=0, low_open=True)
        if self.beta is not None:
            _number("beta", self.beta, low=0, low_open=self.algorithm not in ZERO_BETA_OK)
        if self.center_rewards_coefficient is not None:
            _number("center_rewards_coefficient", self.center_rewards_coefficient, low=0)
        for name in (
            "use_margin",
            "gradient_checkpointing",
            "mask_truncated_completions",
            "normalize_advantages",
            "whiten_advantages",
        ):
            if not isinstance(getattr(self, name), bool):  # "false" from --set is truthy
                raise SettingsError(f"{name} must be true or false, not {getattr(self, name)!r}.")
        self.lora.validate()

    def _validate_online(self) -> None:
        for name in ("num_iterations", "max_completion_length", "kl_horizon"):
            _whole(name, getattr(self, name), minimum=1)
        for name in ("top_k", "samples_per_step", "eval_prompts"):
            _whole(name, getattr(self, name), minimum=0)
        _whole("num_generations", self.num_generations, minimum=2)
        _number("temperature", self.temperature, low=0, low_open=True)
        _number("top_p", self.top_p, low=0, high=1, low_open=True)
        _number("epsilon", self.epsilon, low=0, high=1, low_open=True)
        if self.epsilon_high is not None:
            _number("epsilon_high", self.epsilon_high, low=0, low_open=True)
        _number("gamma", self.gamma, low=0, high=1)
        _number("lam", self.lam, low=0, high=1)
        for name in ("vf_coef", "cliprange_value", "entropy_coef"):
            _number(name, getattr(self, name), low=0)
        if self.kl_target is not None:
            _number("kl_target", self.kl_target, low=0, low_open=True)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["lora"] = self.lora.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainSettings:
        """Build and validate; an unknown key raises SettingsError (a typo must not pass)."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise SettingsError(
                f"Unknown training setting(s): {', '.join(unknown)}.",
                f"Known settings: {', '.join(sorted(known))}.",
            )
        values = dict(data)
        lora = values.pop("lora", None) or {}
        if isinstance(lora, LoraSettings):
            lora = lora.to_dict()
        if not isinstance(lora, dict):
            raise SettingsError(
                f"lora must be a table of LoRA settings, not {lora!r}.",
                "In TOML: a [lora] section; on the command line: --set lora.r=16.",
            )
        unknown_lora = sorted(set(lora) - {f.name for f in fields(LoraSettings)})
        if unknown_lora:
            raise SettingsError(
                f"Unknown LoRA setting(s): {', '.join(unknown_lora)}.",
                "Known: r, alpha, dropout, target_modules, use_rslora.",
            )
        settings = cls(**values, lora=LoraSettings(**{**LoraSettings().to_dict(), **lora}))
        settings.validate()
        return settings


GROUPS = ("method", "rollout", "optimization", "data", "evaluation", "hardware")


def applies(name: str, algorithm: str) -> bool:
    """Whether setting ``name`` has any effect under ``algorithm`` (the form hides it if not)."""
    for f in fields(TrainSettings):
        if f.name == name:
            only = f.metadata.get("only")
            return only is None or algorithm in only
    raise KeyError(name)


def setting_fields(algorithm: str) -> list[tuple[str, Any, str, str]]:
    """(name, default, help, group) of the settings that apply to ``algorithm``, in
    declaration order; LoRA settings are separate (``LORA_HELP``)."""
    out = []
    for f in fields(TrainSettings):
        if f.name == "lora" or not applies(f.name, algorithm):
            continue
        default = f.default if f.default is not MISSING else f.default_factory()
        out.append((f.name, default, f.metadata["help"], f.metadata["group"]))
    return out


def setting_docs() -> list[tuple[str, Any, str]]:
    """(key, default, help) for every setting, LoRA ones as ``lora.<name>``."""
    docs = []
    for f in fields(TrainSettings):
        if f.name == "lora":
            continue
        default = f.default if f.default is not MISSING else f.default_factory()
        docs.append((f.name, default, f.metadata["help"]))
    for name, default in LoraSettings().to_dict().items():
        docs.append((f"lora.{name}", default, LORA_HELP[name]))
    return docs


LORA_HELP = {
    "r": "LoRA rank: capacity of the adapter. 8-64 is usual.",
    "alpha": "LoRA scale numerator (scale = alpha / r, or alpha / sqrt(r) with rsLoRA).",
    "dropout": "Dropout on the LoRA input during training.",
    "target_modules": "'all-linear' or a list of module names such as ['q_proj', 'v_proj'].",
    "use_rslora": "Rank-stabilised LoRA scaling (Kalajdzievski 2023); helps at high rank.",
}


def _choice(name: str, value: Any, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise SettingsError(f"{name} must be one of {', '.join(allowed)}, not {value!r}.")


def _whole(name: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise SettingsError(f"{name} must be a whole number of at least {minimum}, not {value!r}.")


def _number(
    name: str,
    value: Any,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if not ok:
        lo = "" if low is None else f"{'above' if low_open else 'at least'} {low}"
        hi = "" if high is None else f"{'below' if high_open else 'at most'} {high}"
        rng = " and ".join(p for p in (lo, hi) if p)
        raise SettingsError(f"{name} must be a number {rng}, not {value!r}.")
