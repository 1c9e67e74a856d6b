"""API keys: Bearer parsing, fingerprints (the key itself is never stored) and redaction."""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Collection

_BEARER = re.compile(r"^\s*Bearer\s+(\S+)\s*$", re.IGNORECASE)
# Query parameters that carry secrets (the dashboard's ?token=, keys pasted into URLs). In
# text the value runs to the next & or space; in JSON text a quote ends it too, so the
# document stays JSON.
_SECRET_NAME = r"(?i)((?:^|[?&\s\"])(?:token|api_key|apikey|key|access_token|secret)=)"
_SECRET_PARAM = re.compile(_SECRET_NAME + r"[^&\s]+")
_SECRET_PARAM_IN_JSON = re.compile(_SECRET_NAME + r"[^&\s\"]+")
# The live API's key format, "ak-" and 32 hex digits (real ones sit in public files): masked
# wherever it appears, whoever sent it.
LIVE_KEY = re.compile(r"(?<![0-9A-Za-z])ak-[0-9a-fA-F]{32}(?![0-9A-Za-z])")
_BEARER_IN_TEXT = re.compile(r"(?i)(bearer\s+)\S+")
_AUTH_SCHEMES = frozenset({"bearer", "basic", "token", "apikey", "api-key"})


@functools.lru_cache(maxsize=1024)
def fingerprint(key: str) -> str:
    """Return a stable, non-reversible name for `key`, safe to log and show."""
    return "key_" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:12]


def bearer_key(header: str | None) -> str | None:
    """Return the key of an ``Authorization: Bearer <key>`` header, or None."""
    match = _BEARER.match(header or "")
    return match.group(1) if match else None


def redact_params(text: str, *, json_text: bool = False) -> str:
    """Return `text` with the value of every key-like parameter (``token=``, ``api_key=``...)
    masked; with `json_text`, a quote ends a value (the text stays the JSON it was)."""
    text = (_SECRET_PARAM_IN_JSON if json_text else _SECRET_PARAM).sub(r"\1***", text)
    return LIVE_KEY.sub("ak-***", text) if "ak-" in text else text


def auth_secrets(header: str | None) -> list[str]:
    """Return what an ``Authorization`` header may hold of a key, well formed or not
    ("Bearer K", "K", "Bearer" and K on its own...): every word but the scheme's name, so a
    key beside a malformed header is masked too."""
    words = (header or "").split()
    return [w for w in words if w.lower() not in _AUTH_SCHEMES and len(w) >= 4]


def redact(text: str, keys: Collection[str] = ()) -> str:
    """Return `text` with every Bearer token, key-like parameter, live-format key
    (``ak-`` + 32 hex) and key in `keys` masked."""
    text = _BEARER_IN_TEXT.sub(r"\1***", text)
    text = redact_params(text)  # the live-format keys too
    for key in keys:
        if key:
            text = text.replace(key, "***")
    return text
