"""The control-token syntax that scenarios and faults share: "fail:timeout, callback:drop"."""

from __future__ import annotations

import re

from mock_server.errors import INVALID_PARAMETER, ApiError


def parse_tokens(text: str, valid: re.Pattern[str], what: str, usage: str) -> list[str]:
    """Split a control text ("fail:timeout, callback:drop") into tokens that match `valid`,
    or raise the 400 naming the unknown ones and listing the `usage`."""
    found = [t.strip().lower() for t in re.split(r"[,\s]+", text) if t.strip()]
    bad = [t for t in found if not valid.match(t)]
    if bad:
        raise ApiError(400, INVALID_PARAMETER, f"unknown {what} {', '.join(bad)}; use {usage}")
    return found
