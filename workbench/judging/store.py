"""The project's judges: named settings for a local judge model or an OpenAI-compatible
endpoint, kept in the settings table under "judges" (a list) and "default_judge" (a name).

No API key is ever stored: only the name of the environment variable that holds it.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields
from typing import Any

from engine.errors import EngineError
from engine.judge.endpoint_settings import EndpointSettings
from engine.judge.templates import MODES, check_template
from workbench.project import Project

JUDGES_KEY = "judges"
DEFAULT_KEY = "default_judge"
KINDS = ("local", "endpoint")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass
class JudgeConfig:
    """One judge. ``template``, ``criteria``, ``mode`` and ``choices`` of None mean "as
    the judge model's judge.json says, else the defaults" (choices apply to local
    models; an endpoint is always asked for A/B or yes/no)."""

    name: str
    kind: str = "local"
    model_id: int | None = None  # a row of the models table (local)
    path: str | None = None  # or a model folder / Hub id (local)
    template: str | None = None
    criteria: str | None = None
    mode: str | None = None
    choices: list[str] | None = None
    batch_size: int = 16
    base_url: str | None = None  # endpoint
    model: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    concurrency: int = 4
    max_retries: int = 4
    timeout_s: float = 30.0
    max_requests: int = 1000
    max_reply_bytes: int = 1024 * 1024  # endpoint: a reply is read no further
    max_consecutive_failures: int = 5  # endpoint: requests failing in a row before giving up
    max_failure_share: float = 0.5  # a judge run with more failed pairs than this fails

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JudgeConfig:
        if "api_key" in data:
            raise ValueError(
                "A judge's API key is never stored in the project. Put the key in "
                "an environment variable and give its name as api_key_env."
            )
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(
                f"Unknown judge setting(s): {', '.join(unknown)}. "
                f"Known settings: {', '.join(sorted(known))}."
            )
        return cls(**data)

    def validate(self, project: Project | None = None) -> None:
        """Raise ValueError (or KeyError for a missing model row) saying what to fix."""
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError("A judge needs a name.")
        if self.kind not in KINDS:
            raise ValueError(f"A judge's kind is one of {', '.join(KINDS)}, not {self.kind!r}.")
        if self.mode is not None and self.mode not in MODES:
            raise ValueError(f"A judge's mode is one of {', '.join(MODES)}, not {self.mode!r}.")
        if self.template:
            try:
                check_template(self.template, self.mode or "pairwise")
            except EngineError as exc:
                raise ValueError(exc.user_message) from None
        if self.choices is not None and (len(self.choices) != 2 or not all(self.choices)):
            raise ValueError(
                f"A judge's choices are two labels such as A and B, not {self.choices!r}."
            )
        if not isinstance(self.batch_size, int) or self.batch_size < 1:
            raise ValueError(
                f"A judge's batch size is a whole number of at least 1, not {self.batch_size!r}."
            )
        share = self.max_failure_share
        if isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share <= 1:
            raise ValueError(f"max_failure_share is a share from 0 to 1, not {share!r}.")
        (self._validate_local if self.kind == "local" else self._validate_endpoint)(project)

    def _validate_local(self, project: Project | None) -> None:
        if (self.model_id is None) == (not self.path):
            raise ValueError(
                f"Judge {self.name!r}: give either a model of the project "
                "(model_id) or a model folder (path), not both or neither."
            )
        if self.model_id is not None and project is not None:
            from workbench.data.models import get_model

            get_model(project, self.model_id)

    def _validate_endpoint(self, project: Project | None) -> None:
        if not self.base_url or not self.model:
            raise ValueError(
                f"Judge {self.name!r} is an endpoint: give its base URL and model name."
            )
        if self.api_key_env and not _ENV_NAME.match(self.api_key_env):
            raise ValueError(
                "api_key_env is the NAME of the environment variable that holds the "
                "key (such as OPENAI_API_KEY), not the key itself."
            )
        if self.choices:
            raise ValueError(
                f"Judge {self.name!r} is an endpoint, which is always asked for "
                "A or B (yes or no when pointwise): leave its choices empty."
            )
        try:
            endpoint_settings(self).validate()
        except EngineError as exc:
            raise ValueError(f"Judge {self.name!r}: {exc.user_message}") from None


def endpoint_settings(config: JudgeConfig) -> EndpointSettings:
    """The engine's settings for an endpoint judge (the key stays in the environment)."""
    if config.base_url is None or config.model is None:  # a config not validated yet
        raise ValueError(f"Judge {config.name!r} is an endpoint: give its base URL and model name.")
    pointwise = config.mode == "pointwise"
    return EndpointSettings(
        base_url=config.base_url,
        model=config.model,
        api_key_env=config.api_key_env,
        template=None if pointwise else config.template,
        point_template=config.template if pointwise else None,
        criteria=config.criteria,
        concurrency=config.concurrency,
        max_retries=config.max_retries,
        timeout_s=config.timeout_s,
        max_requests=config.max_requests,
        max_reply_bytes=config.max_reply_bytes,
        max_consecutive_failures=config.max_consecutive_failures,
        max_failure_share=config.max_failure_share,
    )


def list_judges(project: Project) -> list[JudgeConfig]:
    # Settings a newer version added are dropped, so an older app still opens the project.
    known = {f.name for f in fields(JudgeConfig)}
    return [
        JudgeConfig(**{k: v for k, v in d.items() if k in known})
        for d in project.setting(JUDGES_KEY, []) or []
    ]


def get_judge(project: Project, name: str) -> JudgeConfig:
    for judge in list_judges(project):
        if judge.name == name:
            return judge
    known = ", ".join(j.name for j in list_judges(project)) or "none yet"
    raise KeyError(
        f"The project has no judge named {name!r} (judges: {known}). "
        "Add one in the Judge view, or give an endpoint on the command line."
    )


def save_judge(project: Project, config: JudgeConfig, *, make_default: bool = False) -> None:
    """Add ``config``, or replace the judge of the same name."""
    config.validate(project)
    judges = [j.to_dict() for j in list_judges(project) if j.name != config.name]
    judges.append(config.to_dict())
    project.set_setting(JUDGES_KEY, judges)
    if make_default:
        project.set_setting(DEFAULT_KEY, config.name)


def delete_judge(project: Project, name: str) -> None:
    get_judge(project, name)  # a clear error for a name that is not there
    project.set_setting(JUDGES_KEY, [j.to_dict() for j in list_judges(project) if j.name != name])
    if project.setting(DEFAULT_KEY) == name:
        project.set_setting(DEFAULT_KEY, None)


def set_default_judge(project: Project, name: str) -> None:
    get_judge(project, name)
    project.set_setting(DEFAULT_KEY, name)


def default_judge(project: Project) -> JudgeConfig:
    """The project's default judge, else the first one saved; KeyError when there is none."""
    name = project.setting(DEFAULT_KEY)
    if name:
        return get_judge(project, name)
    judges = list_judges(project)
    if not judges:
        raise KeyError(
            "The project has no judge yet. Add one in the Judge view, or label with "
            "a one-off endpoint: --endpoint URL --model NAME."
        )
    return judges[0]
