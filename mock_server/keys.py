"""API keys: Bearer parsing, fingerprints (the key itself is never stored) and redaction."""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Collection

_BEARER = re.compile(r"^\s*Bearer\s+(\S+)\s*$", re.IGNORECASE)
# Query parameters that carry secrets (the dashboard's ?token=, keys pasted into URLs).
_SECRET_PARAM = re.compile(r"(?i)((?:^|[?&\s])(?:token|api_key|apikey|key|access_token)=)[^&\s]+")


@functools.lru_cache(maxsize=1024)
def fingerprint(key: str) -> str:
    """Return a stable, non-reversible name for `key`, safe to log and show."""
    return "key_" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:12]


def bearer_key(header: str | None) -> str | None:
    """Return the key of an ``Authorization: Bearer <key>`` header, or None."""
    match = _BEARER.match(header or "")
    return match.group(1) if match else None


def redact(text: str, keys: Collection[str] = ()) -> str:
    """Return `text` with every Bearer token and every key in `keys` masked."""
    text = re.sub(r"(?i)(bearer\s+)\S+", r"\1***", text)
    text = _SECRET_PARAM.sub(r"\1***", text)
    for key in keys:
        if key:
            text = text.replace(key, "***")
    return text
