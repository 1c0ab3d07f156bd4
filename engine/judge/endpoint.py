"""A judge that asks any OpenAI-compatible chat endpoint (OpenAI, vLLM, llama.cpp,
Ollama, ...) which completion is better, or whether one is good.

Pairs are asked in both orders and the two answers averaged, so that a judge that
favours whichever response it reads first (position bias) cancels out: one that always
says "A" gives 0.5. Every failure ends as one item's error, never as a label and never
as an exception out of ``compare`` / ``score``; only a misconfiguration found before any
request (no API key, a bad URL, a broken template) raises EngineError, from the
constructor.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Sequence
from typing import Any

import httpx

from engine.errors import EngineError
from engine.judge.base import STOPPED, PairItem, PointItem, ProgressFn, Score, StopFn, Verdict
from engine.judge.endpoint_http import ChatClient, RequestBudget, Stopped
from engine.judge.endpoint_key import resolve_api_key
from engine.judge.endpoint_pool import run_items
from engine.judge.endpoint_reply import Choice, ReplyError, read_choice
from engine.judge.endpoint_settings import EndpointSettings, normalize_base_url
from engine.judge.templates import (
    DEFAULT_CRITERIA,
    DEFAULT_PAIR_TEMPLATE,
    DEFAULT_POINT_TEMPLATE,
    check_template,
    render_pair,
    render_point,
)

PAIR_LABELS = ("A", "B")
POINT_LABELS = ("yes", "no")


class EndpointJudge:
    """The Judge protocol over HTTP. ``max_requests`` counts over this judge's lifetime
    (one judge per job), so a job split into several ``compare`` calls stays capped."""

    def __init__(self, settings: EndpointSettings) -> None:
        settings.validate()
        self._settings = settings
        self._pair_template = settings.template or DEFAULT_PAIR_TEMPLATE
        self._point_template = settings.point_template or DEFAULT_POINT_TEMPLATE
        self._criteria = DEFAULT_CRITERIA if settings.criteria is None else settings.criteria
        check_template(self._pair_template, "pairwise")
        check_template(self._point_template, "pointwise")
        self._api_key = resolve_api_key(settings)  # kept in memory only
        self._budget = RequestBudget(settings.max_requests)

    def __repr__(self) -> str:  # never the key
        return f"EndpointJudge({self.identity!r})"

    @property
    def settings(self) -> EndpointSettings:
        return self._settings

    @property
    def identity(self) -> str:
        """``endpoint:<model>@<base_url>#<hash>``: the hash covers both templates and the
        criteria, since changing any of them changes what the judge is asked."""
        asked = json.dumps([self._pair_template, self._point_template, self._criteria])
        digest = hashlib.sha256(asked.encode()).hexdigest()[:8]
        url = normalize_base_url(self._settings.base_url)
        return f"endpoint:{self._settings.model}@{url}#{digest}"

    @property
    def requests_sent(self) -> int:
        """HTTP requests sent so far, retries included (what the cost guard counts)."""
        return self._budget.used

    def compare(
        self,
        items: Sequence[PairItem],
        *,
        progress: ProgressFn | None = None,
        should_stop: StopFn | None = None,
    ) -> list[Verdict]:
        return self._run(
            self._judge_pair, items, lambda: Verdict(None, STOPPED), progress, should_stop
        )

    def score(
        self,
        items: Sequence[PointItem],
        *,
        progress: ProgressFn | None = None,
        should_stop: StopFn | None = None,
    ) -> list[Score]:
        return self._run(
            self._judge_point, items, lambda: Score(None, STOPPED), progress, should_stop
        )

    def _run(
        self,
        judge_one: Callable,
        items: Sequence,
        stopped: Callable,
        progress: ProgressFn | None,
        should_stop: StopFn | None,
    ) -> list:
        settings, stop = self._settings, threading.Event()
        limits = httpx.Limits(max_connections=settings.concurrency)
        with httpx.Client(timeout=settings.timeout_s, limits=limits) as http:
            client = ChatClient(settings, self._api_key, self._budget, stop, http)
            return run_items(
                lambda item: judge_one(client, item),
                list(items),
                stopped,
                concurrency=settings.concurrency,
                stop=stop,
                progress=progress,
                should_stop=should_stop,
            )

    def _judge_pair(self, client: ChatClient, item: PairItem) -> Verdict:
        replies: list[str] = []
        try:
            shown_first = self._ask_pair(client, item.prompt, item.first, item.second, replies)
            shown_second = self._ask_pair(client, item.prompt, item.second, item.first, replies)
        except Stopped:
            raise
        except Exception as error:  # any failure is this item's error, never the run's
            return Verdict(None, _item_error(error), {"replies": replies})
        # In the second order "A" is the second completion, so P(first) = 1 - P(A).
        p_first = shown_first.prob
        p_second_order = 1.0 - shown_second.prob
        return Verdict(
            (p_first + p_second_order) / 2,
            detail={
                "first_shown_first": p_first,
                "second_shown_first": p_second_order,
                "sources": [shown_first.source, shown_second.source],
                "replies": replies,
            },
        )

    def _ask_pair(self, client: ChatClient, prompt, a: str, b: str, replies: list[str]) -> Choice:
        text = render_pair(self._pair_template, prompt, a, b, self._criteria)
        return _ask(client, text, PAIR_LABELS, replies)

    def _judge_point(self, client: ChatClient, item: PointItem) -> Score:
        replies: list[str] = []
        try:
            text = render_point(self._point_template, item.prompt, item.completion, self._criteria)
            choice = _ask(client, text, POINT_LABELS, replies)
        except Stopped:
            raise
        except Exception as error:  # any failure is this item's error, never the run's
            return Score(None, _item_error(error), {"replies": replies})
        return Score(choice.prob, detail={"source": choice.source, "replies": replies})


def _ask(client: ChatClient, text: str, labels: tuple[str, str], replies: list[str]) -> Choice:
    body = client.complete(text)
    try:
        choice = read_choice(body, labels)
    except ReplyError:
        replies.append(_reply_text(body))
        raise
    replies.append(choice.text)
    return choice


def _reply_text(body: Any) -> str:  # the reply's JSON, of any shape
    try:
        return str(body["choices"][0]["message"]["content"])[:200]
    except (KeyError, IndexError, TypeError):
        return str(body)[:200]


def _item_error(error: Exception) -> str:
    if isinstance(error, EngineError):
        return str(error)
    return f"Unexpected error while judging this item ({type(error).__name__}: {error})."
