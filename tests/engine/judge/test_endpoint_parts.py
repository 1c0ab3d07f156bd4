"""The endpoint judge's pieces on their own: reading replies, Retry-After, settings and
the API key in the OS keyring (an in-memory keyring backend stands in for the OS's)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from engine.errors import EngineError, SettingsError
from engine.judge.endpoint_http import retry_after_s
from engine.judge.endpoint_key import KEYRING_SERVICE, resolve_api_key, store_api_key
from engine.judge.endpoint_reply import ReplyError, prob_from_logprobs, read_choice
from engine.judge.endpoint_settings import EndpointSettings

AB = ("A", "B")


def logprobs(*tokens: dict[str, float]) -> dict:
    """Chat-API logprobs: one entry per reply token, each {token: prob} of candidates."""
    content = []
    for candidates in tokens:
        top = [{"token": t, "logprob": math.log(p)} for t, p in candidates.items()]
        content.append({**top[0], "top_logprobs": top})
    return {"content": content}


def test_label_probability_is_normalised_over_token_variants():
    prob = prob_from_logprobs(logprobs({" a": 0.3, "A": 0.3, "b": 0.2, "Sure": 0.2}), AB)
    assert prob == pytest.approx(0.6 / 0.8)


def test_a_leading_blank_token_is_skipped():
    prob = prob_from_logprobs(logprobs({"\n": 0.9}, {"B": 0.75, "A": 0.25}), AB)
    assert prob == pytest.approx(0.25)


def test_no_label_among_the_candidates_falls_back_to_the_text():
    body = {
        "choices": [
            {"message": {"content": "**B**"}, "logprobs": logprobs({"**": 0.9, "The": 0.1})}
        ]
    }
    choice = read_choice(body, AB)
    assert (choice.prob, choice.source) == (0.0, "text")


@pytest.mark.parametrize("text", ["Both", "C", "", "Answer: A"])
def test_a_reply_naming_neither_label_is_an_error(text):
    with pytest.raises(ReplyError, match="neither 'A' nor 'B'"):
        read_choice({"choices": [{"message": {"content": text}}]}, AB)


def test_retry_after_in_milliseconds_seconds_or_a_date():
    assert retry_after_s({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert retry_after_s({"Retry-After": "3"}) == 3.0
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=20), usegmt=True)
    assert 15 < retry_after_s({"Retry-After": later}) <= 20
    assert retry_after_s({"Retry-After": "soon"}) is None and retry_after_s({}) is None


def test_settings_come_back_from_a_dict_without_picking_up_a_key():
    settings = EndpointSettings.from_dict(
        {
            "base_url": "https://api.example.com/v1",
            "model": "m",
            "api_key": "sk-leak",
            "concurrency": 2,
        }
    )
    assert settings.concurrency == 2 and "sk-leak" not in str(settings.to_dict())
    assert settings.chat_url == "https://api.example.com/v1/chat/completions"
    with pytest.raises(SettingsError, match="lack model"):
        EndpointSettings.from_dict({"base_url": "https://api.example.com/v1"})
    with pytest.raises(SettingsError, match="timeout_s"):
        EndpointSettings.from_dict({"base_url": "http://x/v1", "model": "m", "timeout_s": 0})


@pytest.fixture
def memory_keyring():
    import keyring
    from keyring.backend import KeyringBackend

    class MemoryKeyring(KeyringBackend):
        priority = 1

        def __init__(self):
            super().__init__()
            self.passwords = {}

        def get_password(self, service, username):
            return self.passwords.get((service, username))

        def set_password(self, service, username, password):
            self.passwords[(service, username)] = password

        def delete_password(self, service, username):
            self.passwords.pop((service, username))

    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def no_keyring():
    import keyring
    from keyring.backends import fail

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(previous)


def test_a_stored_key_is_found_when_the_environment_has_none(memory_keyring, monkeypatch):
    monkeypatch.delenv("WB_NO_SUCH_KEY", raising=False)
    store_api_key("https://api.example.com/v1/", "  sk-kept  ")
    assert memory_keyring.passwords == {(KEYRING_SERVICE, "https://api.example.com/v1"): "sk-kept"}
    settings = EndpointSettings("https://api.example.com/v1", "m", api_key_env="WB_NO_SUCH_KEY")
    assert resolve_api_key(settings) == "sk-kept"
    monkeypatch.setenv("WB_NO_SUCH_KEY", "sk-env")
    assert resolve_api_key(settings) == "sk-env"  # the environment comes first


def test_without_a_keyring_backend_storing_says_so_and_reading_finds_nothing(
    no_keyring, monkeypatch
):
    with pytest.raises(EngineError, match="could not store the API key.*environment variable"):
        store_api_key("https://api.example.com/v1", "sk-x")
    monkeypatch.delenv("WB_NO_SUCH_KEY", raising=False)
    settings = EndpointSettings("https://api.example.com/v1", "m", api_key_env="WB_NO_SUCH_KEY")
    with pytest.raises(EngineError, match="OS keyring holds no key"):
        resolve_api_key(settings)


def test_an_empty_key_is_refused():
    with pytest.raises(EngineError, match="empty"):
        store_api_key("https://api.example.com/v1", "   ")
