"""Default settings of the mock and their checks. `create_app(config)` overrides them."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from mock_server.clock import check_mode
from mock_server.errors import ConfigError
from mock_server.state.records import Runtime

PROFILES = ("default", "strict")
RESULT_KEYS = ("images", "videos")

DEFAULTS: dict[str, Any] = {
    "STORE": "memory",  # or "sqlite:PATH"
    "STORE_INIT": True,  # write the runtime settings below into the store at start
    "CLOCK": "realtime",  # realtime | manual | per-poll
    "SPEED": 1.0,
    "PROFILE": "default",  # or "strict"
    "RESULT_KEY": "images",  # or "videos" (assumption A-result-key)
    "QUEUED_SECONDS": 2.0,
    "PROCESSING_SECONDS": 8.0,
    "API_KEYS": None,  # None: any non-empty key works
    "PRICES": {},  # {model id: {mode: "price per second"}} overrides
    "PUBLIC_URL": None,  # base of result URLs; default: the request's own host
    "JOURNAL_LIMIT": 10_000,  # journal entries kept (a ring: the oldest go first)
    "MAX_JOBS": 100_000,  # jobs the memory store keeps (the oldest finished go first)
    "ADMIN_TOKEN": None,  # when set, /_mock/ needs header X-Mock-Admin-Token: <token>
    "ADMIN_OPEN": True,  # without a token: the CLI sets False on a non-loopback bind
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    "WALL_CLOCK": None,  # a zero-argument callable returning unix time, for tests
    "CALLBACK_EVENTS": "terminal",  # or "all": a callback on every status change
    "CALLBACK_ATTEMPTS": 5,  # attempts per delivery, the first included
    "CALLBACK_BACKOFF": 1.0,  # clock seconds before the first retry; doubles each time
    "CALLBACK_BACKOFF_MAX": 60.0,
    "CALLBACK_CONNECT_TIMEOUT": 2.0,  # wall seconds
    "CALLBACK_TIMEOUT": 5.0,  # wall seconds for a whole attempt
    "CALLBACK_RESPONSE_LIMIT": 64 * 1024,  # bytes of a receiver's answer that are read
    "CALLBACK_ALLOW_HOSTS": None,  # None: any host; else fnmatch patterns
    "CALLBACK_DENY_HOSTS": (),
    "CALLBACK_BLOCKED_NETWORKS": ("169.254.0.0/16", "fd00:ec2::254/128"),
    "BACKGROUND": True,  # run the callback thread (off for the CLI's set-up app)
    "TICK_SECONDS": 0.05,  # how often the callback thread looks for due work
}


def check(config: Mapping[str, Any]) -> None:
    """Raise `ConfigError` naming the first setting that is invalid."""
    check_mode(config["CLOCK"])
    if config["PROFILE"] not in PROFILES:
        raise ConfigError(f"unknown profile {config['PROFILE']!r}; use one of {PROFILES}")
    if config["RESULT_KEY"] not in RESULT_KEYS:
        raise ConfigError(f"unknown result key {config['RESULT_KEY']!r}; use one of {RESULT_KEYS}")
    for name in ("SPEED", "QUEUED_SECONDS", "PROCESSING_SECONDS"):
        value = config[name]
        if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            raise ConfigError(f"{name} must be a finite number >= 0, not {value!r}")
    if config["CALLBACK_EVENTS"] not in ("terminal", "all"):
        raise ConfigError("CALLBACK_EVENTS must be 'terminal' or 'all'")
    if config["SPEED"] <= 0:
        raise ConfigError("SPEED must be > 0")


def runtime_from(config: Mapping[str, Any], wall: float) -> Runtime:
    """Return the runtime settings a fresh (or reset) mock starts with."""
    return Runtime(
        clock=config["CLOCK"],
        speed=float(config["SPEED"]),
        origin_wall=wall,
        offset=0.0,
        profile=config["PROFILE"],
        result_key=config["RESULT_KEY"],
        queued_for=float(config["QUEUED_SECONDS"]),
        processing_for=float(config["PROCESSING_SECONDS"]),
        callback_events=config["CALLBACK_EVENTS"],
    )
