"""An endpoint judge against endpoints that hang, send a huge reply, trickle one, or fail
every request: the reply is read no further than its cap, each request has a time cap,
the judge gives up after N failed requests in a row with the first error, and a judge run
where every judgement (or too many) failed exits non-zero with that reason."""

from __future__ import annotations

import json
import time

import pytest

from engine.judge.base import PairItem
from engine.judge.endpoint import EndpointJudge
from engine.judge.endpoint_settings import EndpointSettings
from tests.engine.judge.fake_openai import FakeEndpoint, Reply, chat_reply
from tests.reliability.endpoint_servers import BadEndpoint
from tests.workbench.train_helpers import labelled_demo
from workbench.cli import main
from workbench.jobs.handlers.label_judge import JudgeRunFailed, refuse_failed_run

ITEMS = [PairItem(f"{i}+1?", str(i + 1), str(i + 2)) for i in range(20)]


@pytest.fixture(autouse=True)
def _no_keyring(monkeypatch):
    monkeypatch.setenv("WB_TEST_KEY", "sk-test")


def _judge(url: str, **overrides) -> EndpointJudge:
    settings = dict(
        base_url=url,
        model="judge",
        api_key_env="WB_TEST_KEY",
        use_keyring=False,
        concurrency=1,
        max_retries=4,
        timeout_s=0.5,
        backoff_s=0.0,
    )
    settings.update(overrides)
    return EndpointJudge(EndpointSettings(**settings))


def test_a_hanging_server_is_given_up_after_five_failed_requests(tmp_path):
    with BadEndpoint("hang") as server:
        judge = _judge(server.url, timeout_s=0.3)
        started = time.monotonic()
        verdicts = judge.compare(ITEMS)
        took = time.monotonic() - started
    assert server.requests == 5 and judge.requests_sent == 5  # not 5 attempts x 20 items
    assert took < 10
    assert all(not v.ok for v in verdicts)
    assert all(
        v.error.startswith("Gave up after 5 requests in a row failed; the first: No reply within")
        for v in verdicts
    )


def test_every_request_failing_with_500_gives_up_with_the_first_error():
    with BadEndpoint("server_error") as server:
        judge = _judge(server.url, max_retries=1, max_consecutive_failures=3)
        verdicts = judge.compare(ITEMS)
    assert server.requests == 3
    assert "HTTP 500 (overloaded)" in verdicts[-1].error
    assert verdicts[-1].error.startswith("Gave up after 3 requests in a row failed")


@pytest.mark.parametrize("behaviour", ["huge", "huge_declared"])
def test_a_huge_reply_is_not_read_past_the_cap(behaviour):
    with BadEndpoint(behaviour) as server:
        judge = _judge(server.url, max_retries=0, timeout_s=20, max_reply_bytes=2**20)
        verdicts = judge.compare(ITEMS[:1])
        time.sleep(0.2)
        sent = server.bytes_sent
    assert "reply is over max_reply_bytes (1,048,576 bytes)" in verdicts[0].error
    assert sent < 64 * 2**20  # the client hung up: far from the 200 MiB the server had


def test_a_trickling_reply_stops_at_the_time_cap():
    with BadEndpoint("trickle") as server:
        judge = _judge(server.url, max_retries=0, timeout_s=0.5)
        started = time.monotonic()
        verdicts = judge.compare(ITEMS[:1])
        took = time.monotonic() - started
    assert "did not finish within 0.5 s" in verdicts[0].error
    assert took < 3


def test_the_failure_share_decides_whether_a_run_failed():
    refuse_failed_run(3, 3, ["e"], 0.5)  # half failed: allowed at 0.5
    refuse_failed_run(5, 0, [], 0.0)
    with pytest.raises(JudgeRunFailed, match="4 of 7 judgements failed \\(57%, over the 50%"):
        refuse_failed_run(3, 4, ["first", "second"], 0.5)
    with pytest.raises(JudgeRunFailed, match="All 2 judgements failed; the first error: first"):
        refuse_failed_run(0, 2, ["first"], 1.0)


def test_a_judge_run_where_every_request_failed_exits_non_zero(tmp_path, capsys):
    project = labelled_demo(tmp_path / "p", prompts=6)
    with BadEndpoint("server_error") as server:
        judge = {
            "name": "broken",
            "kind": "endpoint",
            "base_url": server.url,
            "model": "judge",
            "api_key_env": "WB_TEST_KEY",
            "max_retries": 0,
        }
        project.set_setting("judges", [judge])
        project.close()
        code = main(["label", str(tmp_path / "p"), "--by", "judge", "--judge", "broken", "--json"])
        out = json.loads(capsys.readouterr().out)
    assert code == 1 and out["ok"] is False and out["status"] == "failed"
    assert out["error"].startswith("All 6 judgements failed; the first error: ")
    assert "HTTP 500 (overloaded)" in out["error"]
    assert 5 <= server.requests < 5 + 4  # then it gave up (4 were in flight at most)


def test_a_rate_limit_is_waited_out_not_counted_as_failing():
    calls = {"n": 0}

    def limited_then_fine(request):
        calls["n"] += 1
        if calls["n"] <= 8:  # more 429s in a row than max_consecutive_failures
            return Reply(429, {"error": {"message": "slow down"}}, {"retry-after-ms": "1"})
        return chat_reply("A", {"A": 0.9, "B": 0.1})

    with FakeEndpoint(limited_then_fine) as server:
        judge = _judge(server.url, max_retries=10)
        verdicts = judge.compare(ITEMS[:2])
    assert all(v.ok for v in verdicts), [v.error for v in verdicts]
