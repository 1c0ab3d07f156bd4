"""The OpenAI-compatible endpoint judge against a scripted fake server on 127.0.0.1."""

from __future__ import annotations

import json
import re
import threading
import time

import pytest

from engine.errors import EngineError
from engine.judge.base import STOPPED, PairItem, PointItem
from engine.judge.endpoint import EndpointJudge
from engine.judge.endpoint_settings import EndpointSettings
from tests.engine.judge.fake_openai import FakeEndpoint, Reply, Request, chat_reply

KEY = "sk-test-secret-123"
PAIR_TEMPLATE = "Question: {prompt}\nA: {first}\nB: {second}\n{criteria}\nReply A or B."
POINT_TEMPLATE = "Question: {prompt}\nAnswer: {completion}\n{criteria}\nGood? yes or no."
_PAIR = re.compile(r"Question: (\d+)\+(\d+)\?\nA: (.*)\nB: (.*)\n")
_POINT = re.compile(r"Question: (\d+)\+(\d+)\?\nAnswer: (.*)\n")

RIGHT_FIRST = PairItem("2+3?", "5", "7")
RIGHT_SECOND = PairItem("4+4?", "9", "8")


@pytest.fixture(autouse=True)
def _api_key(monkeypatch):
    monkeypatch.setenv("WB_TEST_KEY", KEY)


def make_judge(url: str, **overrides) -> EndpointJudge:
    settings = dict(
        base_url=url,
        model="judge-1",
        api_key_env="WB_TEST_KEY",
        use_keyring=False,
        template=PAIR_TEMPLATE,
        point_template=POINT_TEMPLATE,
        criteria="Be right.",
        concurrency=2,
        max_retries=2,
        timeout_s=5.0,
        backoff_s=0.01,
    )
    settings.update(overrides)
    return EndpointJudge(EndpointSettings(**settings))


def arithmetic(request: Request) -> Reply:
    """A judge that knows arithmetic: 90% sure of the right answer, with logprobs when
    asked for them."""
    x, y, a, _ = _PAIR.search(request.text).groups()
    winner, loser = ("A", "B") if int(a) == int(x) + int(y) else ("B", "A")
    top = {winner: 0.9, loser: 0.1} if request.body.get("logprobs") else None
    return chat_reply(winner, top)


def always(reply: Reply):
    return lambda request: reply


def sequence(*replies: Reply, then: Reply | None = None):
    """The given replies in turn, then ``then`` (default: the arithmetic judge)."""
    queue, lock = list(replies), threading.Lock()

    def script(request: Request) -> Reply:
        with lock:
            reply = queue.pop(0) if queue else None
        if reply is not None:
            return reply
        return then if then is not None else arithmetic(request)

    return script


def test_prefers_the_right_answer_in_both_orders_with_logprobs():
    progress = []
    with FakeEndpoint(arithmetic) as server:
        verdicts = make_judge(server.url).compare(
            [RIGHT_FIRST, RIGHT_SECOND], progress=lambda done, total: progress.append((done, total))
        )
    assert [v.prob_first for v in verdicts] == pytest.approx([0.9, 0.1])
    assert verdicts[0].detail["first_shown_first"] == pytest.approx(0.9)
    assert verdicts[0].detail["second_shown_first"] == pytest.approx(0.9)
    assert verdicts[0].detail["sources"] == ["logprobs", "logprobs"]
    assert verdicts[0].detail["replies"] == ["A", "B"]
    assert progress == [(1, 2), (2, 2)]
    texts = sorted(r.text for r in server.requests)
    assert "A: 5\nB: 7" in texts[0] + texts[1] and "A: 7\nB: 5" in texts[0] + texts[1]
    body = server.requests[0].body
    assert body["model"] == "judge-1" and body["temperature"] == 0 and body["max_tokens"] == 4
    assert body["logprobs"] is True and body["top_logprobs"] == 10
    assert server.requests[0].path == "/v1/chat/completions"


def test_without_logprobs_the_reply_text_decides():
    def text_only(request):
        choice = arithmetic(request).body["choices"][0]
        return chat_reply(f" {choice['message']['content']}.")  # no logprobs

    with FakeEndpoint(text_only) as server:
        verdicts = make_judge(server.url).compare([RIGHT_FIRST, RIGHT_SECOND])
    assert [v.prob_first for v in verdicts] == [1.0, 0.0]
    assert verdicts[0].detail["sources"] == ["text", "text"]


def test_an_endpoint_refusing_logprobs_is_asked_again_without_them():
    def no_logprobs(request):
        if request.body.get("logprobs"):
            return Reply(400, {"error": {"message": "logprobs is not supported by this model"}})
        return arithmetic(request)

    with FakeEndpoint(no_logprobs) as server:
        verdicts = make_judge(server.url, concurrency=1).compare([RIGHT_FIRST, RIGHT_SECOND])
    assert [v.prob_first for v in verdicts] == [1.0, 0.0]
    assert [bool(r.body.get("logprobs")) for r in server.requests] == [True] + [False] * 4


def test_position_bias_cancels_out_with_the_default_templates():
    with FakeEndpoint(always(chat_reply("A", {"A": 0.8, "B": 0.2}))) as server:
        judge = make_judge(server.url, template=None, point_template=None, criteria=None)
        (verdict,) = judge.compare([RIGHT_FIRST])
    assert verdict.prob_first == pytest.approx(0.5)
    assert verdict.detail["first_shown_first"] == pytest.approx(0.8)
    assert verdict.detail["second_shown_first"] == pytest.approx(0.2)
    assert all("2+3?" in r.text for r in server.requests)


def test_pointwise_scores_are_the_probability_of_yes():
    def grader(request):
        x, y, answer = _POINT.search(request.text).groups()
        good = int(answer) == int(x) + int(y)
        # Token variants of one label ("Yes", " yes") add up; case and spaces do not matter.
        top = {"Yes": 0.6, " yes": 0.2, "no": 0.2} if good else {" No": 0.7, "yes": 0.3}
        return chat_reply("Yes" if good else "No", top)

    with FakeEndpoint(grader) as server:
        scores = make_judge(server.url).score([PointItem("2+3?", "5"), PointItem("2+3?", "6")])
    assert [s.value for s in scores] == pytest.approx([0.8, 0.3])
    assert scores[0].detail["source"] == "logprobs"


def test_a_slow_reply_times_out_as_that_items_error_only():
    def slow_for_seven(request):
        return Reply(body=arithmetic(request).body, delay_s=5 if "7" in request.text else 0)

    started = time.monotonic()
    with FakeEndpoint(slow_for_seven) as server:
        slow, fast = make_judge(server.url, timeout_s=0.2, max_retries=1).compare(
            [RIGHT_FIRST, RIGHT_SECOND]
        )
    assert time.monotonic() - started < 3
    assert slow.prob_first is None and "No reply within 0.2 s" in slow.error
    assert "gave up after 2 attempts" in slow.error
    assert fast.ok and fast.prob_first == pytest.approx(0.1)


def test_rate_limit_waits_as_long_as_retry_after_says():
    limited = Reply(429, {"error": {"message": "slow down"}}, headers={"Retry-After": "1"})
    with FakeEndpoint(sequence(limited)) as server:
        (verdict,) = make_judge(server.url, concurrency=1).compare([RIGHT_FIRST])
    assert verdict.prob_first == pytest.approx(0.9)
    first, second = server.requests[:2]
    assert second.arrived - first.arrived >= 0.95  # backoff_s is 0.01: the header ruled
    assert len(server.requests) == 3


def test_rate_limited_forever_gives_up_after_max_retries():
    with FakeEndpoint(always(Reply(429, {"error": {"message": "quota exceeded"}}))) as server:
        (verdict,) = make_judge(server.url, max_retries=2).compare([RIGHT_FIRST])
    assert verdict.prob_first is None
    assert "HTTP 429 (quota exceeded)" in verdict.error and "3 attempts" in verdict.error
    assert "lower concurrency" in verdict.error
    assert len(server.requests) == 3


def test_a_server_error_is_retried():
    with FakeEndpoint(sequence(Reply(500, "Internal Server Error"))) as server:
        (verdict,) = make_judge(server.url).compare([RIGHT_FIRST])
    assert verdict.prob_first == pytest.approx(0.9)
    assert len(server.requests) == 3


@pytest.mark.parametrize(
    "reply, expected",
    [
        (Reply(body="<html>this is not json</html>"), "not JSON"),
        (Reply(body={"object": "chat.completion"}), "no 'choices'"),
        (chat_reply("C"), "replied 'C', which is neither 'A' nor 'B'"),
    ],
)
def test_malformed_replies_are_item_errors(reply, expected):
    with FakeEndpoint(always(reply)) as server:
        (verdict,) = make_judge(server.url).compare([RIGHT_FIRST])
    assert verdict.prob_first is None and expected in verdict.error
    assert len(server.requests) == 1  # nothing a retry would fix


def test_a_refused_key_fails_every_item_at_once_naming_where_the_key_lives():
    with FakeEndpoint(always(Reply(401, {"error": {"message": "Incorrect API key"}}))) as server:
        verdicts = make_judge(server.url, concurrency=1).compare([RIGHT_FIRST] * 3)
    assert all(v.prob_first is None and "WB_TEST_KEY" in v.error for v in verdicts)
    assert "refused the API key (HTTP 401: Incorrect API key)" in verdicts[0].error
    assert len(server.requests) == 1


def test_cost_guard_stops_sending_at_max_requests():
    with FakeEndpoint(arithmetic) as server:
        judge = make_judge(server.url, concurrency=1, max_requests=5)
        verdicts = judge.compare([RIGHT_FIRST, RIGHT_SECOND, RIGHT_FIRST, RIGHT_SECOND])
        (again,) = judge.compare([RIGHT_FIRST])
    assert [v.ok for v in verdicts] == [True, True, False, False]
    message = "Cost guard: max_requests 5 reached. Raise it in the judge settings to judge more."
    assert verdicts[2].error == verdicts[3].error == again.error == message
    assert len(server.requests) == judge.requests_sent == 5


def test_requests_really_run_concurrently_up_to_the_limit():
    barrier = threading.Barrier(4, timeout=5)
    count, lock = [0], threading.Lock()

    def gathered(request):
        with lock:
            count[0] += 1
            first_four = count[0] <= 4
        if first_four:
            barrier.wait()  # breaks (and the test fails) unless 4 requests are in flight
        return arithmetic(request)

    with FakeEndpoint(gathered) as server:
        verdicts = make_judge(server.url, concurrency=4).compare([RIGHT_FIRST] * 8)
    assert all(v.ok for v in verdicts)
    assert server.max_in_flight == 4


def test_stop_between_items_marks_the_rest_stopped():
    progress = []
    with FakeEndpoint(arithmetic) as server:
        verdicts = make_judge(server.url, concurrency=1).compare(
            [RIGHT_FIRST] * 5,
            progress=lambda done, total: progress.append(done),
            should_stop=lambda: len(progress) >= 2,
        )
    assert [v.ok for v in verdicts] == [True, True, False, False, False]
    assert all(v.error == STOPPED for v in verdicts[2:])
    assert progress == [1, 2] and len(server.requests) == 4


def test_stop_cuts_a_retry_wait_short():
    limited = Reply(429, {"error": {"message": "wait"}}, headers={"Retry-After": "30"})
    started = time.monotonic()
    with FakeEndpoint(always(limited)) as server:
        (verdict,) = make_judge(server.url).compare(
            [RIGHT_FIRST], should_stop=lambda: len(server.requests) > 0
        )
    assert verdict.error == STOPPED
    assert time.monotonic() - started < 5 and len(server.requests) == 1


def test_the_key_is_sent_as_a_bearer_token_and_never_stored():
    with FakeEndpoint(arithmetic) as server:
        judge = make_judge(server.url)
        judge.compare([RIGHT_FIRST])
    assert {r.headers["authorization"] for r in server.requests} == {f"Bearer {KEY}"}
    stored = json.dumps(judge.settings.to_dict())
    assert KEY not in stored and KEY not in repr(judge) and KEY not in judge.identity
    assert EndpointSettings.from_dict(json.loads(stored)) == judge.settings


def test_a_server_on_this_machine_may_need_no_key(monkeypatch):
    monkeypatch.delenv("WB_TEST_KEY")
    with FakeEndpoint(arithmetic) as server:
        (verdict,) = make_judge(server.url).compare([RIGHT_FIRST])
    assert verdict.ok and "authorization" not in server.requests[0].headers


def test_identity_names_model_url_and_what_the_judge_is_asked():
    judge = make_judge("http://127.0.0.1:9/v1/")
    assert re.fullmatch(r"endpoint:judge-1@http://127\.0\.0\.1:9/v1#[0-9a-f]{8}", judge.identity)
    assert make_judge("http://127.0.0.1:9/v1", criteria="Be kind.").identity != judge.identity


def test_misconfiguration_raises_before_any_request(monkeypatch):
    monkeypatch.delenv("WB_TEST_KEY")
    with pytest.raises(EngineError, match="WB_TEST_KEY is not set"):
        make_judge("https://api.example.com/v1")
    with pytest.raises(EngineError, match="not an http"):
        make_judge("ftp://example.com/v1")
    with pytest.raises(EngineError, match="unknown placeholder"):
        make_judge("http://127.0.0.1:9/v1", template="{prompt} {first} {second} {answer}")
    with pytest.raises(EngineError, match="concurrency"):
        make_judge("http://127.0.0.1:9/v1", concurrency=0)
