"""The one admin guard: the admin API and the dashboard are open on a loopback bind, or to
whoever sends the admin token (`--admin-token`); otherwise they are off."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any

TOKEN_HEADER = "X-Mock-Admin-Token"


def admin_access(config: Mapping[str, Any], given: str | None) -> str | None:
    """Return why the admin surface refuses a caller who sent token `given`, or None.

    The answer is "token" (a token is set and `given` does not match it) or "off" (no token
    is set and the mock does not listen on loopback only).
    """
    token: str | None = config["ADMIN_TOKEN"]
    if token:
        return None if hmac.compare_digest((given or "").encode(), token.encode()) else "token"
    return None if config["ADMIN_OPEN"] else "off"
