"""A training run's config file (TOML), ``--set key=value`` overrides, and validation.

The file is flat: the engine's training settings (engine.training.config) plus the keys
below that say what to train on, and a ``[lora]`` table. Without a file the defaults
suit the demo project. The same dictionary is stored with the run and read by the GUI.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.errors import SettingsError
from engine.training.config import TrainSettings, setting_docs
from workbench.labels.comparisons import SOURCES

# key: (default, help) for what the application decides, not the engine.
RUN_KEYS: dict[str, tuple[Any, str]] = {
    "name": (None, "A name for the run in the Runs view (default: algorithm and time)."),
    "model_id": (None, "Model row to train (default: the project's default model)."),
    "init_checkpoint": (None, "Checkpoint id to continue from; its adapter is also the reference."),
    "sources": (list(SOURCES), "Which labels to train on: any of human, ai, rule."),
    "min_confidence": (None, "Leave out AI and rule labels below this confidence (0-1)."),
    "labels_since": (
        None,
        "Train only on labels made at or after this Unix time (iterative DPO: the labels "
        "gathered since the run it continues).",
    ),
    "eval_fraction": (
        0.1,
        "Share of labelled prompts held out for evaluation when no labels are "
        "on eval-split prompts.",
    ),
    "prompt_split": (
        "train",
        "Online RL: the split whose prompts are sampled; eval-split prompts "
        "are answered at each evaluation.",
    ),
    "reward_rules": (
        True,
        "Online RL: reward by the project's enabled rules (true), not (false), "
        'or by the rules named in a list, e.g. ["answer"].',
    ),
    "reward_model": (
        None,
        "Online RL: checkpoint id of a reward-model run; its score is added "
        "to the reward (the RLHF path: labels -> reward model -> PPO).",
    ),
    "reward_model_weight": (
        1.0,
        "Online RL: weight of the reward model's score. Its scores "
        "often span several units where rules give 0-1; scale them to about "
        "the rules' range (0.15 on the demo), so the KL penalty and the "
        "value head keep their usual proportions.",
    ),
    "judge": (
        None,
        "Online RL: name of a stored AI judge; its score (0-1) is added to the "
        "reward, and Online DPO ranks its two samples with it.",
    ),
    "judge_weight": (1.0, "Online RL: weight of the judge's score."),
    "accelerate_config": (
        None,
        "An accelerate config file (YAML) to train on several GPUs or processes: "
        "`workbench train` starts the run with `accelerate launch` and this file, DDP "
        "(distributed_type MULTI_GPU or MULTI_CPU) or FSDP (offline algorithms).",
    ),
}

# Per-algorithm project defaults live under this key of the `train_defaults` setting.
BY_ALGORITHM = "by_algorithm"


@dataclass
class RunConfig:
    train: TrainSettings = field(default_factory=TrainSettings)
    name: str | None = None
    model_id: int | None = None
    init_checkpoint: int | None = None
    sources: list[str] = field(default_factory=lambda: list(SOURCES))
    min_confidence: float | None = None
    labels_since: float | None = None
    eval_fraction: float = 0.1
    prompt_split: str = "train"
    reward_rules: bool | list[str] = True
    reward_model: int | None = None
    reward_model_weight: float = 1.0
    judge: str | None = None
    judge_weight: float = 1.0
    accelerate_config: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = {key: getattr(self, key) for key in RUN_KEYS}
        return {**{k: v for k, v in data.items() if v is not None}, **self.train.to_dict()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunConfig:
        data = dict(data)
        own = {key: data.pop(key) for key in list(data) if key in RUN_KEYS}
        config = cls(train=TrainSettings.from_dict(data), **own)
        config.validate()
        return config

    def validate(self) -> None:
        if not self.sources or any(s not in SOURCES for s in self.sources):
            raise SettingsError(
                f"sources must be some of {', '.join(SOURCES)}, not {self.sources!r}."
            )
        if self.min_confidence is not None and not 0 <= float(self.min_confidence) <= 1:
            raise SettingsError(
                f"min_confidence must be between 0 and 1, not {self.min_confidence!r}."
            )
        since = self.labels_since
        if since is not None and (isinstance(since, bool) or not isinstance(since, (int, float))):
            raise SettingsError(f"labels_since must be a Unix time (a number), not {since!r}.")
        if not 0 <= float(self.eval_fraction) < 1:
            raise SettingsError(
                f"eval_fraction must be at least 0 and below 1, not {self.eval_fraction!r}."
            )
        self._validate_rewards()
        for key in ("model_id", "init_checkpoint", "reward_model"):
            value = getattr(self, key)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise SettingsError(f"{key} must be a whole number (an id), not {value!r}.")

    def _validate_rewards(self) -> None:
        rules = self.reward_rules
        if not isinstance(rules, bool) and not (
            isinstance(rules, list) and all(isinstance(r, str) for r in rules)
        ):
            raise SettingsError(
                f"reward_rules must be true, false or a list of rule names, not {rules!r}."
            )
        for key in ("reward_model_weight", "judge_weight"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise SettingsError(f"{key} must be a number, not {value!r}.")
        if not isinstance(self.prompt_split, str) or not self.prompt_split:
            raise SettingsError(f"prompt_split must be a split name, not {self.prompt_split!r}.")
        if self.accelerate_config is not None and not isinstance(self.accelerate_config, str):
            raise SettingsError(
                f"accelerate_config must be the path of a YAML file, not {self.accelerate_config!r}."
            )
        if self.judge is not None and not isinstance(self.judge, str):
            raise SettingsError(f"judge must be the name of a stored judge, not {self.judge!r}.")
        if (
            self.train.online
            and rules is False
            and self.reward_model is None
            and self.judge is None
        ):
            raise SettingsError(
                f"{self.train.algorithm} needs a reward: reward_rules is false and "
                "there is no reward_model or judge.",
                "Set reward_rules = true, a reward_model checkpoint id, or a judge.",
            )


def parse_value(raw: str) -> Any:
    """A TOML value (number, boolean, string in quotes, list); else the bare text."""
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def apply_override(data: dict[str, Any], assignment: str) -> None:
    if "=" not in assignment:
        raise SettingsError(
            f"--set needs key=value, not {assignment!r}.",
            "For example: --set learning_rate=1e-4 --set lora.r=16",
        )
    key, raw = (part.strip() for part in assignment.split("=", 1))
    *parents, leaf = key.split(".")
    target = data
    for part in parents:
        target = target.setdefault(part, {})
        if not isinstance(target, dict):
            raise SettingsError(f"{key}: {part} is not a table.")
    target[leaf] = parse_value(raw)


def load_config(
    path: Path | str | None = None,
    overrides: list[str] | None = None,
    base: dict[str, Any] | None = None,
) -> RunConfig:
    """Read ``path`` (TOML) if given, apply ``key=value`` overrides, validate.

    ``base`` holds the project's own defaults (the demo project's are tuned for its tiny
    model); the file's keys win over them, and ``--set`` wins over both."""
    return RunConfig.from_dict(with_defaults(read_given(path, overrides), base or {}))


def read_given(path: Path | str | None, overrides: list[str] | None) -> dict[str, Any]:
    """The keys a user gave: the TOML file's, then the ``key=value`` overrides over them."""
    given: dict[str, Any] = {}
    if path is not None:
        try:
            given = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SettingsError(f"The config file {path} does not exist.") from None
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise SettingsError(
                f"The config file {path} is not valid TOML: {exc}",
                "Fix the line named above; README.md lists every key.",
            ) from exc
    for assignment in overrides or []:
        apply_override(given, assignment)
    return given


def with_defaults(given: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    """``given`` over the project's defaults for its algorithm: the flat defaults, then
    those under ``by_algorithm[algorithm]`` (a learning rate tuned for DPO is not one for
    GRPO)."""
    base = _copy(base)
    per_algorithm = base.pop(BY_ALGORITHM, {}) or {}
    algorithm = given.get("algorithm", base.get("algorithm", "dpo"))
    data = base
    _merge(data, _copy(per_algorithm.get(algorithm, {})))
    _merge(data, given)
    return data


def _copy(data: dict[str, Any]) -> dict[str, Any]:
    return {k: _copy(v) if isinstance(v, dict) else v for k, v in data.items()}


def _merge(into: dict[str, Any], new: dict[str, Any]) -> None:
    for key, value in new.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


def project_defaults(project) -> dict[str, Any]:
    """The project's training defaults (settings key ``train_defaults``), if any."""
    return project.setting(TRAIN_DEFAULTS_KEY, {}) or {}


TRAIN_DEFAULTS_KEY = "train_defaults"


def config_docs() -> list[tuple[str, Any, str]]:
    """(key, default, help) for every key of the file, in the README's order."""
    own = [(key, default, help) for key, (default, help) in RUN_KEYS.items()]
    return own + setting_docs()
