"""Default settings of the mock and their checks. `create_app(config)` overrides them."""

from __future__ import annotations

import argparse
import math
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from mock_server import bounds
from mock_server.catalog import registry
from mock_server.choices import ERROR_STATUSES as ERROR_STATUSES
from mock_server.choices import PROFILES as PROFILES
from mock_server.choices import RESULT_KEYS as RESULT_KEYS
from mock_server.choices import STATUS_FORMS as STATUS_FORMS
from mock_server.choices import UNKNOWN_MODELS as UNKNOWN_MODELS
from mock_server.clock import check_mode
from mock_server.errors import ConfigError
from mock_server.state.records import Runtime
from mock_server.validation import rules

FAILED_STATUSES = (3, 4)  # Status.FAILED, or jobs.status.FAILED_AS_4 (a variant)

DEFAULTS: dict[str, Any] = {
    "STORE": "memory",  # or "sqlite:PATH"
    "STORE_INIT": True,  # write the runtime settings below into the store at start
    "CLOCK": "realtime",  # realtime | manual | per-poll
    "SPEED": 1.0,
    "PROFILE": "default",  # or "strict" (which implies STRICT_ARGS)
    # The pages' strict reading of args: unknown keys and required-with-default fields left
    # out are errors (default: accepted with a warning, validation/leniency.py).
    "STRICT_ARGS": False,
    "RESULT_KEY": "auto",  # by output kind; or force images|videos|musics (A-result-key)
    "ERROR_STATUS": "http",  # or "200": errors answer HTTP 200 (A-error-http-status)
    "STATUS_FORM": "number",  # or "string": statuses as words (A-status-strings)
    "QUEUED_SECONDS": 2.0,
    "PROCESSING_SECONDS": 8.0,
    "API_KEYS": None,  # None: any non-empty key works
    "PRICES": {},  # {model id: {mode (or "*"): "usd per unit"}} overrides (catalog/pricing.py)
    "MODELS_DIR": None,  # a folder of user model files, loaded beside the shipped ones
    "UNKNOWN_MODELS": "reject",  # or "accept": any model id, only the envelope checked
    "PUBLIC_URL": None,  # base of result URLs; default: the request's own host
    "JOURNAL_LIMIT": 10_000,  # journal entries kept (a ring: the oldest go first)
    "MAX_JOBS": 100_000,  # jobs the memory store keeps (the oldest finished go first)
    "ADMIN_TOKEN": None,  # when set, /_mock/ needs header X-Mock-Admin-Token: <token>
    "ADMIN_OPEN": True,  # without a token: the CLI sets False on a non-loopback bind
    # Host names the admin API and the dashboard answer besides loopback names and addresses
    # and the bind address (api/guard.py: a DNS-rebinding name gets 403). fnmatch patterns.
    "ALLOWED_HOSTS": (),
    "BIND_HOSTS": (),  # the addresses the server listens on (the CLI sets its --host)
    # Request bodies up to 320 MiB (A-body-limit): the largest documented create request fits,
    # 1 image + 6 elements of 1 frontal and 3 reference images = 25 images, each a data: URI
    # of at most 10 MB (13,333,336 base64 characters + a 23-character prefix): 333.3 MB, and
    # 2.2 MB to spare for the rest of the JSON. Larger bodies answer 413 in the envelope.
    "MAX_CONTENT_LENGTH": 320 * 1024 * 1024,
    "UPLOADS_KEPT": 500,  # uploaded images kept (POST /api/v1/image/send): the oldest go first
    "UPLOADS_KEPT_BYTES": 256 * 1024 * 1024,  # and at most this many bytes of them in all
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
    # Link-local (the metadata services' 169.254.169.254 among them), IPv6 link-local, the
    # AWS IPv6 and Alibaba Cloud metadata addresses (callbacks/policy.py).
    "CALLBACK_BLOCKED_NETWORKS": (
        "169.254.0.0/16",
        "fe80::/10",
        "fd00:ec2::254/128",
        "100.100.100.200/32",
    ),
    "CALLBACK_RESOLVER": None,  # None: getaddrinfo; else (host, port) -> addresses, for tests
    # Attempts in flight per process: per destination (host:port) and in all (callbacks/lanes.py).
    "CALLBACK_PER_DESTINATION": 4,
    "CALLBACK_CONCURRENCY": 32,
    "CALLBACK_MAX_AGE": 3600.0,  # clock seconds after which a pending delivery is expired
    "BACKGROUND": True,  # run the callback thread (off for the CLI's set-up app)
    "TICK_SECONDS": 0.05,  # how often the callback thread looks for due work
    # A lock file shared by a server's workers: the one holding it runs the background rounds
    # (callbacks/leader.py). None: this process does (one process).
    "CALLBACK_LEADER_LOCK": None,
    "REPLAY_FILE": None,  # a recording whose jobs' queries answer as recorded (api/replay.py)
    "CORS": False,  # answer browsers' preflights and add CORS headers (api/cors.py)
}


def check(config: Mapping[str, Any]) -> None:
    """Raise `ConfigError` naming the first setting that is invalid."""
    check_mode(config["CLOCK"])
    if config["PROFILE"] not in PROFILES:
        raise ConfigError(f"unknown profile {config['PROFILE']!r}; use one of {PROFILES}")
    if not isinstance(config["STRICT_ARGS"], bool):
        raise ConfigError(f"STRICT_ARGS must be true or false, not {config['STRICT_ARGS']!r}")
    if config["UNKNOWN_MODELS"] not in UNKNOWN_MODELS:
        raise ConfigError(
            f"UNKNOWN_MODELS must be one of {UNKNOWN_MODELS}, not {config['UNKNOWN_MODELS']!r}"
        )
    if config["RESULT_KEY"] not in RESULT_KEYS:
        raise ConfigError(f"unknown result key {config['RESULT_KEY']!r}; use one of {RESULT_KEYS}")
    if config["STATUS_FORM"] not in STATUS_FORMS:
        raise ConfigError(
            f"STATUS_FORM must be one of {STATUS_FORMS}, not {config['STATUS_FORM']!r}"
        )
    if config["ERROR_STATUS"] not in ERROR_STATUSES:
        raise ConfigError(
            f"unknown error status {config['ERROR_STATUS']!r}; use one of {ERROR_STATUSES}"
        )
    for name in ("SPEED", "QUEUED_SECONDS", "PROCESSING_SECONDS"):
        value = config[name]
        if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            raise ConfigError(f"{name} must be a finite number >= 0, not {value!r}")
    for name in ("CALLBACK_PER_DESTINATION", "CALLBACK_CONCURRENCY", "CALLBACK_ATTEMPTS"):
        value = config[name]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{name} must be a whole number >= 1, not {value!r}")
    for name in ("CALLBACK_TIMEOUT", "CALLBACK_CONNECT_TIMEOUT", "CALLBACK_MAX_AGE"):
        value = config[name]
        if not isinstance(value, (int, float)) or math.isnan(value) or value <= 0:
            raise ConfigError(f"{name} must be a number of seconds > 0, not {value!r}")
    if config["CALLBACK_EVENTS"] not in ("terminal", "all"):
        raise ConfigError("CALLBACK_EVENTS must be 'terminal' or 'all'")
    if not 0 < config["SPEED"] <= bounds.SPEED:
        raise ConfigError(f"SPEED must be > 0 and at most {bounds.SPEED:,.0f}")
    for name in ("UPLOADS_KEPT", "UPLOADS_KEPT_BYTES", "JOURNAL_LIMIT", "MAX_JOBS"):
        value = config.get(name, DEFAULTS[name])
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ConfigError(f"{name} must be a whole number >= 0, not {value!r}")
    check_prices(config.get("PRICES", {}))


def check_prices(prices: Any) -> None:
    """Raise `ConfigError` unless `prices` is {model id: {mode or "*": "usd"}}."""
    example = '{"kwaivgi/kling-o1/image-to-video": {"std": "0.05", "*": "0.1"}}'
    if not isinstance(prices, Mapping) or not all(
        isinstance(model, str) and isinstance(rates, Mapping) for model, rates in prices.items()
    ):
        raise ConfigError(f"PRICES must map model ids to {{mode: usd}}, e.g. {example}")
    for model, rates in prices.items():
        for mode, usd in rates.items():
            try:
                amount = Decimal(usd) if isinstance(usd, str) else None
            except InvalidOperation:
                amount = None
            if not isinstance(mode, str) or amount is None or not amount.is_finite() or amount < 0:
                raise ConfigError(
                    f"PRICES[{model!r}][{mode!r}] must be a price in USD as a decimal string "
                    f'like "0.05", not {usd!r}'
                )


def load_models_dir(path: str) -> str:
    """Load a folder of user model files beside the shipped ones and return it: the type of
    the plugin's ``--shortapi-models-dir`` (a bad file is the option's error, naming it)."""
    try:
        registry.load_models_dir(path, known_rules=rules.RULES)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return path


def runtime_from(config: Mapping[str, Any], wall: float) -> Runtime:
    """Return the runtime settings a fresh (or reset) mock starts with."""
    return Runtime(
        clock=config["CLOCK"],
        speed=float(config["SPEED"]),
        origin_wall=wall,
        offset=0.0,
        profile=config["PROFILE"],
        strict_args=bool(config["STRICT_ARGS"]),
        result_key=config["RESULT_KEY"],
        error_status=config["ERROR_STATUS"],
        status_form=config["STATUS_FORM"],
        queued_for=float(config["QUEUED_SECONDS"]),
        processing_for=float(config["PROCESSING_SECONDS"]),
        callback_events=config["CALLBACK_EVENTS"],
    )
