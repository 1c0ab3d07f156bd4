"""Where the endpoint judge's API key comes from: an environment variable, else the OS
keyring. The key lives only in memory once found; nothing here writes it to disk.

``keyring`` is imported lazily and every failure of it is tolerated when reading (a
machine without a keyring backend simply has no stored key); only storing a key, which
the user asked for, reports a keyring failure.
"""

from __future__ import annotations

import ipaddress
import os
from urllib.parse import urlsplit

from engine.errors import EngineError
from engine.judge.endpoint_settings import EndpointSettings, normalize_base_url

KEYRING_SERVICE = "alignment-workbench"


def resolve_api_key(settings: EndpointSettings) -> str | None:
    """The key to send, or None for a server on this machine that has none to check.

    Raises EngineError when a remote endpoint has no key anywhere, before any request."""
    env = settings.api_key_env.strip()
    key = os.environ.get(env, "").strip() if env else ""
    if not key and settings.use_keyring:
        key = _keyring_lookup(normalize_base_url(settings.base_url))
    if key:
        return key
    if _is_loopback(settings.base_url):
        return None
    where = f"the environment variable {env} is not set" if env else "no variable is named"
    if settings.use_keyring:
        where += " and the OS keyring holds no key for this URL"
    raise EngineError(
        f"No API key for the judge endpoint {settings.base_url}: {where}.",
        f"Set {env or 'the environment variable named in the judge settings'} before starting "
        "the app, or enter the key in the judge settings to keep it in the OS keyring.",
    )


def store_api_key(base_url: str, key: str) -> None:
    """Keep ``key`` in the OS keyring for ``base_url`` (the GUI's "remember key")."""
    key = key.strip()
    if not key:
        raise EngineError(
            "The API key is empty.", "Paste the key the endpoint's provider gave you."
        )
    try:
        import keyring
    except ImportError:
        raise EngineError(
            "The keyring package is not installed, so the key cannot be stored.",
            "Install it with 'pip install keyring', or set the key in an "
            "environment variable instead.",
        ) from None
    try:
        keyring.set_password(KEYRING_SERVICE, normalize_base_url(base_url), key)
    except Exception as error:  # NoKeyringError, a locked or broken backend, D-Bus down, ...
        raise EngineError(
            f"The OS keyring could not store the API key ({type(error).__name__}: {error}).",
            "This system may have no keyring service (on Linux, install and unlock GNOME "
            "Keyring or KWallet); or set the key in an environment variable instead.",
        ) from None


def _keyring_lookup(username: str) -> str:
    try:
        import keyring

        return (keyring.get_password(KEYRING_SERVICE, username) or "").strip()
    except Exception:  # no package, no backend, a locked backend: just no stored key
        return ""


def _is_loopback(base_url: str) -> bool:
    host = urlsplit(normalize_base_url(base_url)).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
