"""One chat completion request at a time, made robust: retries with exponential backoff
and jitter on rate limits, server errors, timeouts and dropped connections (honouring
Retry-After), a cost guard counting every request sent, and a stop event that is
checked before each request and cuts any backoff wait short.

A failure is raised as ``RequestFailed`` (an EngineError with a user-facing message and
hint) for the caller to record against one item. Failures that every later request
would repeat (a refused key, a wrong URL, a server that cannot be reached) are
remembered, so the remaining items fail at once without spending requests.
"""

from __future__ import annotations

import email.utils
import math
import random
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from engine.errors import EngineError
from engine.judge.endpoint_settings import EndpointSettings

_RETRY_STATUS = {408, 409, 429}  # plus every 5xx
_EXCERPT = 200


class RequestFailed(EngineError):
    """A request that produced no usable reply."""


class Stopped(Exception):
    """The caller asked to stop before the next request was sent."""


class RequestBudget:
    """The cost guard: every HTTP request, retries included, takes one unit."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self._lock = threading.Lock()

    def take(self) -> None:
        with self._lock:
            if self.used >= self.limit:
                raise RequestFailed(
                    f"Cost guard: max_requests {self.limit} reached.",
                    "Raise it in the judge settings to judge more.",
                )
            self.used += 1


@dataclass(frozen=True)
class _Problem:
    """Why an attempt failed, when another attempt may succeed."""

    message: str
    hint: str
    retry_after: float | None = None
    fatal_when_exhausted: bool = False
    rate_limited: bool = False  # HTTP 429: the server is busy, not broken


class ChatClient:
    """Sends one user message per ``complete`` call; safe to share between threads."""

    def __init__(
        self,
        settings: EndpointSettings,
        api_key: str | None,
        budget: RequestBudget,
        stop: threading.Event,
        http: httpx.Client,
    ) -> None:
        self._settings = settings
        self._url = settings.chat_url
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._has_key = api_key is not None
        self._budget = budget
        self._stop = stop
        self._http = http
        self._logprobs = settings.logprobs
        self._fatal: RequestFailed | None = None
        self._failures = _FailureStreak(settings.max_consecutive_failures)

    def complete(self, text: str) -> Any:
        """The parsed JSON reply to ``text``. Raises RequestFailed or Stopped."""
        attempt = 0
        while True:
            problem = self._attempt(text)
            if not isinstance(problem, _Problem):
                return problem
            if attempt >= self._settings.max_retries:
                error = RequestFailed(
                    f"{problem.message}; gave up after {attempt + 1} attempts.", problem.hint
                )
                if problem.fatal_when_exhausted:
                    self._fatal = error
                raise error
            if self._stop.wait(self._delay(attempt, problem.retry_after)):
                raise Stopped
            attempt += 1

    def _attempt(self, text: str) -> Any:
        """The parsed reply, or a _Problem worth retrying; raises for anything else. Every
        request that fails counts towards the streak that makes the judge give up."""
        while True:
            self._before_send()
            try:
                outcome = self._send(text)
            except RequestFailed as error:
                self._failed(error.message, error.hint)
                raise
            if isinstance(outcome, _Problem):
                if not outcome.rate_limited:  # waiting out a rate limit is not failing
                    self._failed(outcome.message, outcome.hint)
                return outcome
            if outcome is not _AGAIN:
                self._failures.reset()
                return outcome

    def _failed(self, message: str, hint: str | None) -> None:
        first = self._failures.add(message, hint)
        if first is not None:
            count = self._settings.max_consecutive_failures
            self._fatal = RequestFailed(
                f"Gave up after {count} requests in a row failed; the first: {first[0]}",
                first[1] or "Check the endpoint, then run the judge again.",
            )
            raise self._fatal

    def _send(self, text: str) -> Any:
        """One request: the parsed reply, a _Problem, or _AGAIN (asked again without
        logprobs); raises RequestFailed for a failure no retry can mend."""
        deadline = time.monotonic() + self._settings.timeout_s
        try:
            with self._http.stream(
                "POST", self._url, json=self._payload(text), headers=self._headers
            ) as streamed:
                response = _read_capped(streamed, self._settings.max_reply_bytes, deadline)
        except _TooSlow:
            return _Problem(
                f"The reply did not finish within {self._settings.timeout_s} s",
                "Raise timeout_s in the judge settings, or try again later.",
            )
        except httpx.TimeoutException:
            return _Problem(
                f"No reply within {self._settings.timeout_s} s",
                "Raise timeout_s in the judge settings, or try again later.",
            )
        except httpx.TransportError as error:
            return _Problem(
                f"Could not reach {self._url} ({type(error).__name__}: {error})",
                "Check the base URL and that the server is running.",
                fatal_when_exhausted=isinstance(error, httpx.ConnectError),
            )
        except httpx.HTTPError as error:
            raise RequestFailed(
                f"The request to {self._url} failed ({error}).",
                "Check the base URL in the judge settings.",
            ) from None
        if response.status_code == 200:
            return _json_body(response)
        if self._drop_logprobs(response):
            return _AGAIN
        return self._problem(response)

    def _before_send(self) -> None:
        if self._stop.is_set():
            raise Stopped
        if self._fatal is not None:
            raise self._fatal
        self._budget.take()

    def _payload(self, text: str) -> dict:
        payload = {
            "model": self._settings.model,
            "messages": [{"role": "user", "content": text}],
            "temperature": self._settings.temperature,
            "max_tokens": self._settings.max_tokens,
        }
        if self._logprobs:
            payload.update(logprobs=True, top_logprobs=self._settings.top_logprobs)
        return payload

    def _drop_logprobs(self, response: httpx.Response) -> bool:
        """Some endpoints refuse logprobs with a 400: ask again without them, from now on."""
        if self._logprobs and response.status_code == 400 and "logprob" in response.text.lower():
            self._logprobs = False
            return True
        return False

    def _problem(self, response: httpx.Response) -> _Problem:
        status, excerpt = response.status_code, _error_excerpt(response)
        if status in _RETRY_STATUS or status >= 500:
            hint = (
                "The endpoint is rate limiting: lower concurrency in the judge settings or "
                "try again later."
                if status == 429
                else "Try again later."
            )
            return _Problem(
                f"The endpoint answered HTTP {status} ({excerpt})",
                hint,
                retry_after=retry_after_s(response.headers),
                rate_limited=status == 429,
            )
        if status in (401, 403):
            self._fatal = self._key_refused(status, excerpt)
            raise self._fatal
        if status == 404:
            self._fatal = RequestFailed(
                f"{self._url} answered HTTP 404 ({excerpt}).",
                "Check the base URL and the model name.",
            )
            raise self._fatal
        raise RequestFailed(
            f"The endpoint rejected the request (HTTP {status}: {excerpt}).",
            "Check the model name and the judge settings against what the endpoint accepts.",
        )

    def _key_refused(self, status: int, excerpt: str) -> RequestFailed:
        env = self._settings.api_key_env or "the environment variable of the judge settings"
        where = f"the environment variable {env}"
        if self._settings.use_keyring:
            where += f" or the key stored in the OS keyring for {self._settings.base_url}"
        if not self._has_key:
            return RequestFailed(
                f"The endpoint asks for an API key (HTTP {status}: {excerpt}), but none was found.",
                f"Put the key in {where}.",
            )
        return RequestFailed(
            f"The endpoint refused the API key (HTTP {status}: {excerpt}).",
            f"Check the key in {where}.",
        )

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        cap = self._settings.max_backoff_s
        if retry_after is not None:
            return min(retry_after, cap)
        # Equal jitter: half the exponential delay for sure, half at random, so that
        # concurrent workers hit by the same rate limit do not retry in lockstep.
        delay = min(cap, self._settings.backoff_s * 2**attempt)
        return delay / 2 + random.random() * delay / 2


_AGAIN = object()  # _send's answer when the request is to be sent again at once


class _TooSlow(Exception):
    """The reply was still arriving at the request's deadline."""


class _FailureStreak:
    """Failed requests in a row, over every thread of one judge; the first one's message
    is kept, since later ones are often only its consequence."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._count = 0
        self._first: tuple[str, str | None] | None = None
        self._lock = threading.Lock()

    def add(self, message: str, hint: str | None) -> tuple[str, str | None] | None:
        """Count one failure; the first failure's (message, hint) once the limit is hit."""
        with self._lock:
            if self._count == 0:
                self._first = (message, hint)
            self._count += 1
            return self._first if self._count >= self._limit else None

    def reset(self) -> None:
        with self._lock:
            self._count, self._first = 0, None


_DECODED_AWAY = {"content-encoding", "content-length", "transfer-encoding"}


def _read_capped(streamed: httpx.Response, cap: int, deadline: float) -> httpx.Response:
    """The streamed reply read whole into a plain response, unless it is over ``cap``
    bytes (decompressed: a small gzip bomb counts at its real size), which raises
    RequestFailed without reading further, or still arriving at ``deadline`` (_TooSlow)."""
    declared = _finite(streamed.headers.get("content-length"))
    if declared is not None and declared > cap:
        raise _too_big(cap)
    chunks, size = [], 0
    for chunk in streamed.iter_bytes():
        size += len(chunk)
        if size > cap:
            raise _too_big(cap)
        chunks.append(chunk)
        if time.monotonic() > deadline:
            raise _TooSlow
    headers = [(k, v) for k, v in streamed.headers.items() if k.lower() not in _DECODED_AWAY]
    return httpx.Response(
        streamed.status_code, headers=headers, content=b"".join(chunks), request=streamed.request
    )


def _too_big(cap: int) -> RequestFailed:
    return RequestFailed(
        f"The endpoint's reply is over max_reply_bytes ({cap:,} bytes); it was not read further.",
        "A judge's answer is a few tokens: check max_tokens and the base URL, or raise "
        "max_reply_bytes in the judge settings.",
    )


def retry_after_s(headers: httpx.Headers | dict) -> float | None:
    """Seconds a server asks us to wait: ``retry-after-ms`` (OpenAI), else ``Retry-After``
    as seconds or an HTTP date; None when neither is present and readable."""
    headers = httpx.Headers(headers)
    milliseconds = _finite(headers.get("retry-after-ms"))
    if milliseconds is not None:
        return max(0.0, milliseconds / 1000)
    value = headers.get("retry-after")
    seconds = _finite(value)
    if seconds is not None:
        return max(0.0, seconds)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _finite(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _json_body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        raise RequestFailed(
            f"The endpoint replied with something that is not JSON: {response.text[:_EXCERPT]!r}.",
            "Check that the base URL points to an OpenAI-compatible API (it usually ends in /v1).",
        ) from None


def _error_excerpt(response: httpx.Response) -> str:
    """The server's own error message when it sends one, else the start of the body."""
    try:
        error = response.json().get("error")
        message = error.get("message") if isinstance(error, dict) else error
        if isinstance(message, str) and message:
            return message[:_EXCERPT]
    except (ValueError, AttributeError):
        pass
    return response.text[:_EXCERPT].strip() or response.reason_phrase
