"""The proxy's settings: defaults, and their checks. `create_proxy_app(config)` overrides them."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from mock_server.config import DEFAULTS as MOCK_DEFAULTS
from mock_server.errors import ConfigError

LIVE_URL = "https://api.shortapi.ai"

DEFAULTS: dict[str, Any] = {
    "TARGET": LIVE_URL,  # where requests are forwarded
    "STORE": "memory",  # the journal's store (the dashboard at /_mock/ui reads it)
    "RECORD": None,  # a file the exchanges are recorded to (shortapi-recording/1)
    "BLOCK_INVALID": False,  # answer an invalid create with the mock's 400, never forward it
    "BUDGET_USD": None,  # a cap (decimal string) on the summed amounts of creates
    "PUBLIC_URL": None,  # where the target can reach the proxy: callbacks are rewritten to it
    "REPORT_DIR": None,  # where drift.{md,json,xml} are written
    "TIMEOUT": 120.0,  # seconds for one forwarded request
    "CALLBACK_TIMEOUT": 10.0,  # seconds for one forwarded callback
    "PROFILE": MOCK_DEFAULTS["PROFILE"],  # the validation profile (default | strict)
    "STRICT_ARGS": MOCK_DEFAULTS["STRICT_ARGS"],  # the pages' strict reading of args
    "UNKNOWN_MODELS": MOCK_DEFAULTS["UNKNOWN_MODELS"],
    "PRICES": {},  # price overrides, as the mock's PRICES
    # The mock's callback URL policy (callbacks/policy.py), applied to forwarded callbacks.
    "CALLBACK_ALLOW_HOSTS": MOCK_DEFAULTS["CALLBACK_ALLOW_HOSTS"],
    "CALLBACK_DENY_HOSTS": MOCK_DEFAULTS["CALLBACK_DENY_HOSTS"],
    "CALLBACK_BLOCKED_NETWORKS": MOCK_DEFAULTS["CALLBACK_BLOCKED_NETWORKS"],
    "CALLBACK_RESOLVER": None,  # None: getaddrinfo; a stub in tests
    "TRANSPORT": None,  # an httpx transport for forwarding (tests); None: the network
}


def check(config: Mapping[str, Any]) -> None:
    """Raise `ConfigError` naming the first proxy setting that is invalid."""
    for name in ("TARGET", "PUBLIC_URL"):
        value = config[name]
        if value is None and name == "PUBLIC_URL":
            continue
        parts = urlsplit(str(value))
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(f"{name} must be an absolute http(s) URL, not {value!r}")
    budget = config["BUDGET_USD"]
    if budget is not None:
        try:
            cap = Decimal(str(budget))
        except InvalidOperation:
            raise ConfigError(f"BUDGET_USD must be a number of dollars, not {budget!r}") from None
        if not cap.is_finite() or cap < 0:
            raise ConfigError(f"BUDGET_USD must be >= 0, not {budget!r}")
