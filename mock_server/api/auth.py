"""Bearer-key authentication: the caller's key fingerprint, or the API's 401 (A-auth)."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from mock_server.errors import AUTH_INVALID, AUTH_MISSING, ApiError
from mock_server.keys import bearer_key, fingerprint


def authenticate(header: str | None, allowed: Collection[str] | None) -> str:
    """Return the caller's key fingerprint, or raise the API's 401 error."""
    key = bearer_key(header)
    if key is None:
        raise ApiError(
            401,
            AUTH_MISSING,
            "missing or malformed Authorization header; send "
            "'Authorization: Bearer <your API key>'",
        )
    if allowed is not None and key not in allowed:
        raise ApiError(
            401,
            AUTH_INVALID,
            "invalid API key; check the key (the mock accepts only its configured keys)",
        )
    return fingerprint(key)


DEFAULT_KEY_NAME = "default"


def key_name(header: str | None, allowed: Collection[str] | None) -> str:
    """Return the name of the caller's key, as query answers it in ``key_name`` (A-key-name):
    the name configured for it (``API_KEYS`` as a {key: name} mapping), else "default"."""
    key = bearer_key(header)
    if isinstance(allowed, Mapping) and key in allowed:
        return str(allowed[key])
    return DEFAULT_KEY_NAME
