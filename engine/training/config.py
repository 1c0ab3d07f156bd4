"""The settings of a training run, as plain data (no torch): what the config file, the
command line and the Train view set, validated before anything loads.

``TrainSettings`` holds the settings every algorithm reads (engine.training.common_settings)
and, as ``method``, the chosen algorithm's own: the settings its spec lists
(engine.algorithms.catalog). Each setting carries a ``help`` text (what it does and when
to change it) that the README table and the GUI tooltips show. Defaults suit the demo
project on a CPU.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from engine.algorithms import registry
from engine.algorithms.group import MethodSettings
from engine.algorithms.settings import Setting
from engine.algorithms.spec import AlgorithmSpec
from engine.errors import SettingsError
from engine.lora import LoraSettings
from engine.training.common_settings import COMMON, COMMON_SETTINGS

# Plain tuples of the registry's algorithms, for the callers that only need names.
OFFLINE_ALGORITHMS = registry.offline_names()
ONLINE_ALGORITHMS = registry.online_names()
ALGORITHMS = registry.names()
# The paper / TRL default of beta for each algorithm, used when beta is not set.
DEFAULT_BETA = {s.name: s.default_beta for s in registry.specs()}


def _common(name: str) -> Any:
    return field(default=COMMON[name].default, metadata={"setting": COMMON[name]})


@dataclass
class TrainSettings:
    algorithm: str = _common("algorithm")
    max_steps: int = _common("max_steps")
    learning_rate: float = _common("learning_rate")
    batch_size: int = _common("batch_size")
    gradient_accumulation_steps: int = _common("gradient_accumulation_steps")
    lr_scheduler: str = _common("lr_scheduler")
    warmup_ratio: float = _common("warmup_ratio")
    weight_decay: float = _common("weight_decay")
    max_grad_norm: float = _common("max_grad_norm")
    max_length: int = _common("max_length")
    precision: str = _common("precision")
    # "auto", "on" or "off"; true/false (older configs, --set) mean "on"/"off" and are
    # kept as they were given.
    gradient_checkpointing: str | bool = _common("gradient_checkpointing")
    base_dtype: str = _common("base_dtype")
    load_in_4bit: bool = _common("load_in_4bit")
    optim: str = _common("optim")
    seed: int = _common("seed")
    eval_every: int = _common("eval_every")
    eval_batches: int = _common("eval_batches")
    checkpoint_every: int = _common("checkpoint_every")
    logging_every: int = _common("logging_every")
    device: str = _common("device")
    # The algorithm's own settings; None: its spec's defaults (set in __post_init__).
    method: MethodSettings = field(default=None)  # type: ignore[assignment]
    lora: LoraSettings = field(
        default_factory=LoraSettings, metadata={"help": "LoRA adapter settings."}
    )

    def __post_init__(self) -> None:
        if self.method is None and self.algorithm in ALGORITHMS:
            self.method = MethodSettings.defaults(registry.spec(self.algorithm))

    @property
    def spec(self) -> AlgorithmSpec:
        return registry.spec(self.algorithm)

    def resolved_beta(self) -> float:
        beta = self.method.get("beta")
        return self.spec.default_beta if beta is None else float(beta)

    def resolved_loss_type(self) -> str:
        return self.method.loss_type  # DPO's setting, or the one IPO fixes

    def needs_reference(self) -> bool:
        """Offline methods whose reference log-probs are computed once before training
        (online methods compute theirs on each batch of rollouts)."""
        return self.spec.needs_reference

    @property
    def online(self) -> bool:
        return self.spec.online

    def group_size(self) -> int:
        return self.method.num_generations  # the setting, or the 2 Online DPO fixes

    def resolved_epsilon_high(self) -> float:
        high = self.method.epsilon_high
        return self.method.epsilon if high is None else float(high)

    def validate(self) -> None:
        """Raise SettingsError naming the first bad value and its allowed range."""
        for f in fields(self):
            if "setting" in f.metadata:
                f.metadata["setting"].check(getattr(self, f.name))
        spec = self.spec
        if self.method.algorithm != spec.name:
            raise SettingsError(
                f"The method settings are {self.method.algorithm}'s, not {spec.name}'s.",
                "Build them with MethodSettings.build(spec(algorithm), values).",
            )
        self.method.validate(spec)
        self.lora.validate()

    def to_dict(self) -> dict[str, Any]:
        """The flat dictionary of a config file: the common settings, the algorithm's own
        and the [lora] table."""
        data = {f.name: getattr(self, f.name) for f in fields(self) if "setting" in f.metadata}
        return {**data, **self.method.to_dict(), "lora": self.lora.to_dict()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainSettings:
        """Build and validate from a flat dictionary (a config file, a stored run config).

        A key of the algorithm's own settings goes to ``method``; a key that only other
        algorithms read is dropped (stored configs of older versions hold every
        algorithm's keys); a key no algorithm knows raises SettingsError (a typo must not
        pass). A table named after an algorithm (``[grpo]``) holds settings of that
        algorithm, used when it is the one that runs."""
        values = dict(data)
        tables = {k: values.pop(k) for k in ALGORITHMS if isinstance(values.get(k), dict)}
        common = {f.name for f in fields(cls) if "setting" in f.metadata}
        known = common | {s.name for s in registry.algorithm_settings()} | {"lora"}
        unknown = sorted(set(values) - known)
        if unknown:
            raise SettingsError(
                f"Unknown training setting(s): {', '.join(unknown)}.",
                f"Known settings: {', '.join(sorted(known))}.",
            )
        lora = _lora_values(values.pop("lora", None))
        spec = registry.spec(values.get("algorithm", COMMON["algorithm"].default))
        own = {k: v for k, v in values.items() if k in spec.setting_names()}
        for name, table in tables.items():
            _check_table(registry.spec(name), table)
        own.update(tables.get(spec.name, {}))
        settings = cls(
            **{k: v for k, v in values.items() if k in common},
            method=MethodSettings.build(spec, own),
            lora=LoraSettings(**{**LoraSettings().to_dict(), **lora}),
        )
        settings.validate()
        return settings


def _lora_values(lora: Any) -> dict[str, Any]:
    lora = lora or {}
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
    return lora


def _check_table(spec: AlgorithmSpec, table: dict[str, Any]) -> None:
    unknown = sorted(set(table) - set(spec.setting_names()))
    if unknown:
        raise SettingsError(
            f"Unknown {spec.name} setting(s) in its [{spec.name}] table: {', '.join(unknown)}.",
            f"{spec.name}'s own settings: {', '.join(spec.setting_names()) or 'none'}.",
        )


def settings_of(algorithm: str) -> tuple[Setting, ...]:
    """Every setting ``algorithm`` reads: the common ones, then its spec's own (with the
    bounds it gives them); LoRA settings are separate (``LORA_HELP``)."""
    spec = registry.spec(algorithm)
    return COMMON_SETTINGS + tuple(spec.setting(s.name) for s in spec.settings)


def applies(name: str, algorithm: str) -> bool:
    """Whether setting ``name`` has any effect under ``algorithm`` (the form hides it if not)."""
    if name in COMMON or name == "lora":
        return True
    if not registry.owners(name):
        raise KeyError(name)
    return name in registry.spec(algorithm).setting_names()


def setting_fields(algorithm: str) -> list[tuple[str, Any, str, str]]:
    """(name, default, help, group) of the settings that apply to ``algorithm``, in the
    order of ``settings_of``."""
    return [(s.name, s.default, s.help, s.group) for s in settings_of(algorithm)]


def setting_docs() -> list[tuple[str, Any, str]]:
    """(key, default, help) for every setting: the common ones, then those of the
    algorithms (each once, in catalog order), then LoRA's as ``lora.<name>``."""
    docs = [(s.name, s.default, s.help) for s in COMMON_SETTINGS]
    docs += [(s.name, s.default, s.help) for s in registry.algorithm_settings()]
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
