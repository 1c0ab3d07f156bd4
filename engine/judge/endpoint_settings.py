"""Settings of the OpenAI-compatible endpoint judge: a plain dataclass the GUI edits and
the project stores. The API key is deliberately not a field: only the *name* of the
environment variable that holds it is, and the OS keyring is the other place it may live
(see ``endpoint_key``), so a project folder never carries a secret.

Standard library only: the GUI imports this at start-up.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any
from urllib.parse import urlsplit

from engine.errors import SettingsError

_CHAT_PATH = "/chat/completions"


def normalize_base_url(base_url: str) -> str:
    """The form used to build request URLs and as the keyring username, so that
    "https://x/v1/" and "https://x/v1" find the same stored key."""
    return str(base_url).strip().rstrip("/")


@dataclass
class EndpointSettings:
    """How to reach the endpoint and what to ask it.

    ``template`` / ``point_template`` / ``criteria`` of None mean the defaults of
    ``engine.judge.templates``;
    ``max_requests`` caps every HTTP request this judge sends (retries included) so a
    mistake cannot run up a bill; ``backoff_s`` is the first retry's delay, doubling on
    each further retry up to ``max_backoff_s`` (which also caps a server's Retry-After).
    ``timeout_s`` bounds each request from sending to the reply's last byte, and a reply
    is read no further than ``max_reply_bytes``; after ``max_consecutive_failures``
    requests in a row fail, the judge gives up on every remaining item with the first
    error; a run whose share of failed items is over ``max_failure_share`` (or where every
    item failed) fails.
    """

    base_url: str
    model: str
    api_key_env: str = "OPENAI_API_KEY"
    use_keyring: bool = True
    template: str | None = None
    point_template: str | None = None
    criteria: str | None = None
    concurrency: int = 4
    max_retries: int = 4
    timeout_s: float = 30.0
    max_requests: int = 1000
    temperature: float = 0.0
    max_tokens: int = 4
    logprobs: bool = True
    top_logprobs: int = 10
    backoff_s: float = 1.0
    max_backoff_s: float = 60.0
    max_reply_bytes: int = 1024 * 1024
    max_consecutive_failures: int = 5
    max_failure_share: float = 0.5

    @property
    def chat_url(self) -> str:
        """The chat completions URL; a base URL that already ends with it is used as is."""
        base = normalize_base_url(self.base_url)
        return base if base.endswith(_CHAT_PATH) else base + _CHAT_PATH

    def validate(self) -> None:
        """Raise SettingsError (an EngineError and a ValueError) for a value out of range."""
        _check_url(self.base_url)
        if not str(self.model).strip():
            raise SettingsError(
                "The judge endpoint needs a model name.",
                "Enter the model the endpoint serves, e.g. 'gpt-4o-mini'.",
            )
        _check_int("concurrency", self.concurrency, 1, 64)
        _check_int("max_retries", self.max_retries, 0, 20)
        _check_int("max_requests", self.max_requests, 1, 10**9)
        _check_int("max_tokens", self.max_tokens, 1, 4096)
        _check_int("top_logprobs", self.top_logprobs, 1, 20)
        _check_float("timeout_s", self.timeout_s, 0.001, 3600)
        _check_float("temperature", self.temperature, 0, 2)
        _check_float("backoff_s", self.backoff_s, 0, 600)
        _check_float("max_backoff_s", self.max_backoff_s, 0, 3600)
        _check_int("max_reply_bytes", self.max_reply_bytes, 1024, 2**30)
        _check_int("max_consecutive_failures", self.max_consecutive_failures, 1, 10**6)
        _check_float("max_failure_share", self.max_failure_share, 0, 1)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EndpointSettings:
        """Build from ``to_dict`` output; unknown keys are ignored (so a stray "api_key"
        is never picked up), missing keys default. The result is validated."""
        known = {f.name for f in fields(cls)}
        missing = [name for name in ("base_url", "model") if not data.get(name)]
        if missing:
            raise SettingsError(
                f"The judge endpoint settings lack {' and '.join(missing)}.",
                "Fill in the endpoint's base URL and model name.",
            )
        settings = cls(**{k: v for k, v in data.items() if k in known})
        settings.validate()
        return settings


def _check_url(base_url: str) -> None:
    parts = urlsplit(normalize_base_url(base_url))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(
            f"The judge endpoint URL {base_url!r} is not an http(s) URL.",
            "Enter the endpoint's base URL, e.g. 'https://api.openai.com/v1' or "
            "'http://127.0.0.1:8000/v1'.",
        )


def _check_int(name: str, value: Any, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SettingsError(f"{name} must be a whole number from {low} to {high}, not {value!r}.")


def _check_float(name: str, value: Any, low: float, high: float) -> None:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok or not low <= value <= high:
        raise SettingsError(f"{name} must be a number from {low} to {high}, not {value!r}.")
