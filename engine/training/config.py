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
PAIRED_ALGORITHMS = ("dpo", "ipo", "simpo", "orpo", "reward")
# Methods that compare the policy with a frozen reference (and so need its log-probs).
REFERENCE_ALGORITHMS = ("dpo", "ipo", "kto")
DPO_LOSS_TYPES = ("sigmoid", "robust", "hinge", "ipo")
SCHEDULERS = ("cosine", "linear", "constant")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")

# The paper / TRL default of beta for each algorithm, used when beta is not set.
DEFAULT_BETA = {"dpo": 0.1, "ipo": 0.1, "simpo": 2.0, "orpo": 0.1, "kto": 0.1, "reward": 0.0}


def _f(default: Any, help: str, **kw) -> Any:
    if isinstance(default, (list, dict)):
        value = default
        return field(default_factory=lambda: type(value)(value), metadata={"help": help, **kw})
    return field(default=default, metadata={"help": help, **kw})


@dataclass
class TrainSettings:
    algorithm: str = _f("dpo", "dpo, ipo, simpo, orpo, kto or reward (a Bradley-Terry reward model).",
        group="method")
    max_steps: int = _f(200, "Optimizer steps to run. Raise it for more data or a lower learning rate.",
        group="optimization")
    learning_rate: float = _f(5e-5, "Peak learning rate of AdamW for the LoRA weights. "
                              "Typical: 5e-6 to 1e-4 for 1B+ models, higher for tiny ones.",
        group="optimization")
    batch_size: int = _f(8, "Examples (pairs) per micro-batch on each process.",
        group="optimization")
    gradient_accumulation_steps: int = _f(1, "Micro-batches summed into one optimizer step; "
                                          "raises the effective batch without more memory.",
        group="optimization")
    lr_scheduler: str = _f("cosine", "Learning-rate schedule after warmup: cosine, linear or constant.",
        group="optimization")
    warmup_ratio: float = _f(0.1, "Share of max_steps spent warming the learning rate up from 0.",
        group="optimization")
    weight_decay: float = _f(0.0, "AdamW weight decay on the LoRA weights.",
        group="optimization")
    max_grad_norm: float = _f(1.0, "Clip the gradient norm to this; 0 turns clipping off.",
        group="optimization")
    beta: float | None = _f(None, "Strength of the preference term. Empty: the method's default "
                            "(DPO/IPO/KTO 0.1, SimPO 2.0, ORPO lambda 0.1). Lower keeps the policy "
                            "further from the reference.",
        group="method", only=("dpo", "ipo", "simpo", "orpo", "kto"))
    loss_type: str = _f("sigmoid", "DPO loss: sigmoid (DPO), robust (with label_smoothing), hinge "
                        "(SLiC) or ipo. The ipo algorithm sets ipo.",
        group="method", only=("dpo",))
    label_smoothing: float = _f(0.0, "Assumed share of wrong labels (cDPO / robust DPO), 0 to 0.5.",
        group="method", only=("dpo", "simpo"))
    rpo_alpha: float = _f(0.0, "DPO/IPO: weight of an NLL term on the chosen completions (RPO, Pang "
                          "et al. 2024) that stops the chosen likelihood from falling; try 1.0.",
        group="method", only=("dpo", "ipo"))
    simpo_gamma_beta_ratio: float = _f(0.5, "SimPO's target margin gamma as a share of beta.",
        group="method", only=("simpo",))
    desirable_weight: float = _f(1.0, "KTO weight of desirable examples; raise it when they are "
                                 "fewer than the undesirable ones.",
        group="method", only=("kto",))
    undesirable_weight: float = _f(1.0, "KTO weight of undesirable examples.",
        group="method", only=("kto",))
    center_rewards_coefficient: float | None = _f(None, "Reward model: weight of the term that "
                                                  "keeps rewards centred on 0 (TRL suggests 0.01).",
        group="method", only=("reward",))
    use_margin: bool = _f(False, "Reward model: require the labelled margin between chosen and rejected.",
        group="method", only=("reward",))
    max_length: int = _f(256, "Longest prompt + completion in tokens; longer examples are left out "
                         "and reported, never cut.",
        group="data")
    precision: str = _f("auto", "auto (bf16 on a GPU that has it, else fp32), fp32, bf16 or fp16 autocast.",
        group="hardware")
    gradient_checkpointing: bool = _f(False, "Recompute activations in the backward pass: less "
                                      "memory, about 30% slower.",
        group="hardware")
    seed: int = _f(0, "Seed for data order, LoRA initialisation and dropout.",
        group="optimization")
    eval_every: int = _f(50, "Evaluate on the eval split every this many steps (0: only at the end).",
        group="evaluation")
    eval_batches: int = _f(0, "Eval micro-batches per evaluation (0: the whole eval split).",
        group="evaluation")
    checkpoint_every: int = _f(100, "Save a checkpoint every this many steps (0: only at the end).",
        group="evaluation")
    samples_per_eval: int = _f(4, "Eval prompts whose greedy completions are stored at each evaluation.",
        group="evaluation", only=("dpo", "ipo", "simpo", "orpo", "kto"))
    sample_max_new_tokens: int = _f(48, "Longest sample completion, in tokens.",
        group="evaluation", only=("dpo", "ipo", "simpo", "orpo", "kto"))
    logging_every: int = _f(1, "Record metrics every this many steps.",
        group="evaluation")
    device: str = _f("auto", "auto, cpu, cuda, cuda:N or mps.",
        group="hardware")
    lora: LoraSettings = field(default_factory=LoraSettings, metadata={"help": "LoRA adapter settings."})

    def resolved_beta(self) -> float:
        return DEFAULT_BETA[self.algorithm] if self.beta is None else float(self.beta)

    def resolved_loss_type(self) -> str:
        return "ipo" if self.algorithm == "ipo" else self.loss_type

    def needs_reference(self) -> bool:
        return self.algorithm in REFERENCE_ALGORITHMS

    def validate(self) -> None:
        """Raise SettingsError naming the first bad value and its allowed range."""
        _choice("algorithm", self.algorithm, OFFLINE_ALGORITHMS)
        _choice("lr_scheduler", self.lr_scheduler, SCHEDULERS)
        _choice("loss_type", self.loss_type, DPO_LOSS_TYPES)
        _choice("precision", self.precision, PRECISIONS)
        for name in ("max_steps", "batch_size", "gradient_accumulation_steps", "max_length", "logging_every"):
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
            _number("beta", self.beta, low=0, low_open=True)
        if self.center_rewards_coefficient is not None:
            _number("center_rewards_coefficient", self.center_rewards_coefficient, low=0)
        for name in ("use_margin", "gradient_checkpointing"):
            if not isinstance(getattr(self, name), bool):  # "false" from --set is truthy
                raise SettingsError(f"{name} must be true or false, not {getattr(self, name)!r}.")
        self.lora.validate()

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
            raise SettingsError(f"Unknown training setting(s): {', '.join(unknown)}.",
                                f"Known settings: {', '.join(sorted(known))}.")
        values = dict(data)
        lora = values.pop("lora", None) or {}
        if isinstance(lora, LoraSettings):
            lora = lora.to_dict()
        if not isinstance(lora, dict):
            raise SettingsError(f"lora must be a table of LoRA settings, not {lora!r}.",
                                "In TOML: a [lora] section; on the command line: --set lora.r=16.")
        unknown_lora = sorted(set(lora) - {f.name for f in fields(LoraSettings)})
        if unknown_lora:
            raise SettingsError(f"Unknown LoRA setting(s): {', '.join(unknown_lora)}.",
                                "Known: r, alpha, dropout, target_modules, use_rslora.")
        settings = cls(**values, lora=LoraSettings(**{**LoraSettings().to_dict(), **lora}))
        settings.validate()
        return settings


GROUPS = ("method", "optimization", "data", "evaluation", "hardware")


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


def _number(name: str, value: Any, low: float | None = None, high: float | None = None,
            low_open: bool = False, high_open: bool = False) -> None:
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
