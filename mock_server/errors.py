"""The kit's exceptions, the API's error codes and `Problem` (one thing wrong in a request).

Codes and statuses follow upstream Kling (assumption A-error-codes). `Problem` lives here, not
in `validation/`, because `ApiError` carries the problems of a rejected request and every
layer raises `ApiError`; `mock_server.validation` re-exports it. No Flask here: the envelope
and the app's error handlers are `api/envelope.py`.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

# Non-zero codes of the error envelope (A-error-codes).
BAD_REQUEST = 1200
INVALID_PARAMETER = 1201
NOT_FOUND = 1203
AUTH_MISSING = 1001
AUTH_INVALID = 1002
BALANCE_DEPLETED = 1102
RATE_LIMITED = 1302
CONCURRENCY_LIMITED = 1303
UPSTREAM_UNSTABLE = 3000  # a public client retries create on it (A-upstream-unstable)
SERVER_ERROR = 5000
UNAVAILABLE = 5001
TIMEOUT = 5002


# How many problems an answer, header or journal entry echoes, and the characters of each
# (`mock_server.bounds` lists every bound).
PROBLEMS_ECHOED = 20
PROBLEM_CHARS = 400
MESSAGE_CHARS = 16_384  # of an error answer's message (and info): what it echoes is cut


@dataclass(frozen=True)
class Problem:
    """One thing wrong (or worth warning about) in a request."""

    rule: str
    pointer: str
    message: str
    severity: str = "error"  # or "warning"

    def as_dict(self) -> dict[str, str]:
        """Return the problem as a JSON-ready dict."""
        return dataclasses.asdict(self)

    def __str__(self) -> str:
        return f"{self.pointer or '/'}: {self.message}"


class MockError(Exception):
    """Base exception of the kit."""


class ConfigError(MockError, ValueError):
    """A setting of the mock is invalid."""


@dataclass
class ApiError(MockError):
    """An error the API answers with its envelope."""

    status: int
    code: int
    text: str
    problems: Sequence[Problem] = field(default_factory=tuple)
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"HTTP {self.status} code {self.code}: {self.text}"


def code_for_status(status: int) -> int:
    """Return the envelope's code for an HTTP error `status` the app or the server answers
    without a more precise code: 404 NOT_FOUND, another 4xx BAD_REQUEST, a 5xx SERVER_ERROR."""
    if status == 404:
        return NOT_FOUND
    return BAD_REQUEST if status < 500 else SERVER_ERROR


def validation_error(problems: Sequence[Problem]) -> ApiError:
    """Return the 400 error listing every error in `problems` with its pointer and fix."""
    errors = [p for p in problems if p.severity == "error"]
    lines = "; ".join(str(p) for p in echoed(errors))
    noun = "problem" if len(errors) == 1 else "problems"
    text = f"invalid request, {len(errors)} {noun}: {lines}"
    return ApiError(400, INVALID_PARAMETER, text, problems)


def cut(text: str, limit: int = PROBLEM_CHARS) -> str:
    """Return `text`, cut to `limit` characters with the count of the rest."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit:,} more characters)"


def envelope(code: int, text: str) -> dict[str, Any]:
    """Return the API's error envelope (a text echoing a huge value cut to `MESSAGE_CHARS`)."""
    text = cut(text, MESSAGE_CHARS)
    return {"code": code, "message": text, "info": text}


def envelope_bytes(code: int, text: str) -> bytes:
    """Return the error envelope as the JSON bytes a server that is not the app answers."""
    return json.dumps(envelope(code, text)).encode()


def echoed(problems: Sequence[Problem], limit: int = PROBLEMS_ECHOED) -> list[Problem]:
    """Return at most `limit` problems, their texts cut, then one saying how many were left
    out: what an answer, a header or the journal repeats of a request's problems."""
    out = [Problem(p.rule, cut(p.pointer), cut(p.message), p.severity) for p in problems[:limit]]
    left = problems[limit:]
    if left:
        severity = "error" if any(p.severity == "error" for p in left) else "warning"
        out.append(
            Problem(
                "problems.left_out",
                "",
                f"{len(left):,} more problem(s) left out; the mock echoes the first {limit}",
                severity,
            )
        )
    return out
