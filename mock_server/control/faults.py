"""HTTP faults: make the API answer 429, 5xx, slowly, or not at all, on demand.

A fault is a list of tokens, given per request (header ``X-Mock-Fault``), scripted for
the next N requests to an endpoint of one key or of every key, or drawn at random with
a seed and a probability per endpoint. Tokens:

- ``429`` (rate limit, code 1302, A-rate-limit), ``429:concurrency`` (1303),
  ``429:balance`` (1102)
- ``500``, ``502``, ``503``, ``504``
- ``3000`` (code 3000, "upstream unstable", HTTP 502: A-upstream-unstable)
- ``reset`` (the connection is reset), ``empty`` (closed without an answer)
- ``ack-lost`` (the request is carried out, then the connection is closed without its
  answer: on create the job is stored and charged, and the journal entry names it)
- ``latency:MS`` or ``latency:MIN-MAX`` (added before answering; combine with another; at
  most `bounds.LATENCY_MS`, and the wait ends early when the client hangs up)
- ``retry-after:SECONDS`` (the Retry-After of a 429 or 503; default 1)
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import socket
import struct
import time
from collections.abc import Callable, Iterable
from typing import Any

from mock_server import bounds
from mock_server.errors import (
    BALANCE_DEPLETED,
    CONCURRENCY_LIMITED,
    INVALID_PARAMETER,
    RATE_LIMITED,
    SERVER_ERROR,
    TIMEOUT,
    UNAVAILABLE,
    UPSTREAM_UNSTABLE,
    ApiError,
)
from mock_server.tokens import parse_tokens

HEADER = "X-Mock-Fault"
ENDPOINTS = ("create", "query")
DROP_KEY = "shortapi.drop"
# A server that owns its connections (serve/front.py) offers a callable here: close(reset).
CLOSE_KEY = "shortapi.close_connection"
# ... and here a check that the client hung up: gone() -> bool, cheap, callable from any thread.
GONE_KEY = "shortapi.client_gone"
ACK_LOST = "ack-lost"
_DROPS = ("reset", "empty", ACK_LOST)
_USAGE = (
    "429, 429:concurrency, 429:balance, 500, 502, 503, 504, 3000, reset, empty, ack-lost, "
    "latency:MS, latency:MIN-MAX or retry-after:SECONDS"
)
_TOKENS = re.compile(
    r"^(429(?::(?:rate|concurrency|balance))?|500|502|503|504|3000|reset|empty|ack-lost|"
    r"latency:\d+(?:-\d+)?|retry-after:\d+)$"
)
_STATUS = {
    "429": (429, RATE_LIMITED, "rate limit exceeded; retry after the Retry-After delay"),
    "429:rate": (429, RATE_LIMITED, "rate limit exceeded; retry after the Retry-After delay"),
    "429:concurrency": (
        429,
        CONCURRENCY_LIMITED,
        "too many jobs in flight for this key; wait for one to finish",
    ),
    "429:balance": (429, BALANCE_DEPLETED, "insufficient balance; top up your account"),
    "500": (500, SERVER_ERROR, "internal server error"),
    "502": (502, SERVER_ERROR, "bad gateway"),
    "503": (503, UNAVAILABLE, "service unavailable; retry later"),
    "504": (504, TIMEOUT, "gateway timeout"),
    "3000": (502, UPSTREAM_UNSTABLE, "upstream unstable; retry later"),
}


def tokens(text: str) -> list[str]:
    """Split a fault text ("latency:200, 503") into checked tokens; a latency above
    `bounds.LATENCY_MS` is refused with a 400 naming the bound."""
    found = parse_tokens(text, _TOKENS, "fault", _USAGE)
    total = 0  # the longest wait the tokens add up to
    for token in found:
        name, _, arg = token.partition(":")
        if name == "latency":
            numbers = arg.split("-")
            total += max(int(n) if len(n) <= 9 else bounds.LATENCY_MS + 1 for n in numbers)
    if total > bounds.LATENCY_MS:
        raise ApiError(
            400,
            INVALID_PARAMETER,
            f"fault {text[:60]}: a latency of at most {bounds.LATENCY_MS} ms in all (the "
            "mock's bound LATENCY_MS); a client timeout test needs no more",
        )
    return found


def check_random(spec: Any) -> dict[str, Any]:
    """Return a checked random-fault spec: {"seed": int, "create": {fault: p}, ...}."""
    if not isinstance(spec, dict) or not isinstance(spec.get("seed", 0), int):
        raise ApiError(
            400,
            INVALID_PARAMETER,
            'random faults: send {"seed": 1, "create": {"503": 0.1}, "query": {"429": 0.2}}',
        )
    for endpoint in ENDPOINTS:
        table = spec.get(endpoint, {})
        if not isinstance(table, dict):
            raise ApiError(
                400,
                INVALID_PARAMETER,
                f"random faults: {endpoint} must map a fault to a probability",
            )
        for fault, probability in table.items():
            tokens(fault)
            if (
                isinstance(probability, bool)
                or not isinstance(probability, (int, float))
                or not 0 <= probability <= 1
            ):
                raise ApiError(
                    400,
                    INVALID_PARAMETER,
                    f"random faults: the probability of {fault} must be from 0 to 1",
                )
        if sum(table.values()) > 1:
            raise ApiError(
                400,
                INVALID_PARAMETER,
                f"random faults: the probabilities of {endpoint} add up to more than 1",
            )
    return {"seed": int(spec.get("seed", 0)), **{e: dict(spec.get(e, {})) for e in ENDPOINTS}}


def draw(spec: dict[str, Any], endpoint: str, count: int) -> str | None:
    """Return the fault that the `count`-th request to `endpoint` draws, or None.

    The draw depends only on the seed, the endpoint and the count, so every worker and
    every run with the same seed agree.
    """
    digest = hashlib.sha256(f"{spec['seed']}:{endpoint}:{count}".encode()).digest()
    roll = int.from_bytes(digest[:8], "big") / 2**64
    for fault, probability in spec.get(endpoint, {}).items():
        if roll < probability:
            return str(fault)
        roll -= probability
    return None


def apply(
    chosen: Iterable[str],
    *,
    sleep: Callable[[float], None] = time.sleep,
    gone: Callable[[], bool] | None = None,
) -> str | None:
    """Act on fault tokens: wait for latency, raise a status, or return the way the
    connection is dropped: "reset" or "empty" (at once), "ack-lost" (after the request is
    carried out: the caller goes on, and the middleware drops the answer). With `gone`, a
    latency wait ends as soon as it says the client hung up."""
    chosen = list(chosen)
    retry_after = "1"
    for token in chosen:
        name, _, arg = token.partition(":")
        if name == "latency":
            low, _, high = arg.partition("-")
            delay = float(low) if not high else random.uniform(float(low), float(high))
            _wait(delay / 1000, sleep, gone)
        elif name == "retry-after":
            retry_after = arg
    for token in chosen:
        if token in _DROPS:
            return token
        if token in _STATUS:
            status, code, text = _STATUS[token]
            headers = {"Retry-After": retry_after} if status in (429, 503) else {}
            raise ApiError(status, code, text, headers=headers)
    return None


_SLICE = 0.25  # seconds between two looks at the client's connection during a latency


def _wait(seconds: float, sleep: Callable[[float], None], gone: Callable[[], bool] | None) -> None:
    if gone is None:
        sleep(seconds)
        return
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0 and not gone():
        sleep(min(_SLICE, left))


def client_gone(environ: dict[str, Any]) -> Callable[[], bool] | None:
    """Return a check that the client of this request hung up (its socket reads end of
    file), or None where the server shows no socket (in-process clients, granian)."""
    offered = environ.get(GONE_KEY)
    if callable(offered):
        return offered  # type: ignore[no-any-return]
    sock = environ.get("gunicorn.socket") or environ.get("werkzeug.socket")
    if not isinstance(sock, socket.socket):
        return None

    def gone() -> bool:
        try:
            return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
        except BlockingIOError:
            return False  # open, nothing sent: still there
        except OSError:
            return True

    return gone


class DropConnection:
    """WSGI middleware: reset or close the connection when a fault asked for it."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        result = self.app(environ, start_response)
        kind = environ.get(DROP_KEY)
        if kind is None:
            return result
        if hasattr(result, "close"):
            result.close()
        if (close := environ.get(CLOSE_KEY)) is not None:
            close(kind == "reset")
            return []
        sock = environ.get("gunicorn.socket") or environ.get("werkzeug.socket")
        if not isinstance(sock, socket.socket):
            # In-process (test client, responses, httpx): no socket, so raise what a
            # client library would see.
            if kind == "reset":
                raise ConnectionResetError("connection reset by the mock (fault: reset)")
            raise ConnectionAbortedError(f"connection closed without an answer (fault: {kind})")
        if kind == "reset":
            # SO_LINGER 0 makes the close send RST instead of FIN. The server still holds
            # this socket object, so its descriptor is swapped (dup2) for one whose peer is
            # gone: the server's own write then fails quietly with EPIPE, not EBADF.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            spare, peer = socket.socketpair()
            peer.close()
            os.dup2(spare.fileno(), sock.fileno())
            spare.close()
        else:
            sock.shutdown(socket.SHUT_RDWR)
        return []
