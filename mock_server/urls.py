"""URL shapes shared by the request rules and the callback policy."""

from __future__ import annotations

import re

_HTTP_URL = re.compile(r"^https?://[^/\s]+", re.IGNORECASE)


def is_http_url(url: str) -> bool:
    """Say whether `url` is an absolute http(s) URL (the only kind that gets callbacks)."""
    return bool(_HTTP_URL.match(url))
