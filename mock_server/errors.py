"""The kit's exceptions and the API's error envelope.

Codes and statuses follow upstream Kling (assumption A-error-codes); the text goes in both
``message`` and ``info`` (A-error-message-info), and nothing else goes in the body.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, current_app, g, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed

# Non-zero codes of the error envelope (A-error-codes).
BAD_REQUEST = 1200
INVALID_PARAMETER = 1201
NOT_FOUND = 1203
AUTH_MISSING = 1001
AUTH_INVALID = 1002
BALANCE_DEPLETED = 1102
RATE_LIMITED = 1302
CONCURRENCY_LIMITED = 1303
SERVER_ERROR = 5000
UNAVAILABLE = 5001
TIMEOUT = 5002


@dataclass(frozen=True)
class Problem:
    """One thing wrong (or worth warning about) in a request."""

    rule: str
    pointer: str
    message: str
    severity: str = "error"  # or "warning"

    def as_dict(self) -> dict[str, str]:
        """Return the problem as a JSON-ready dict."""
        return {
            "rule": self.rule,
            "pointer": self.pointer,
            "message": self.message,
            "severity": self.severity,
        }

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


def parse_tokens(text: str, valid: re.Pattern[str], what: str, usage: str) -> list[str]:
    """Split a control text ("fail:timeout, callback:drop") into tokens that match `valid`,
    or raise the 400 naming the unknown ones and listing the `usage`."""
    found = [t.strip().lower() for t in re.split(r"[,\s]+", text) if t.strip()]
    bad = [t for t in found if not valid.match(t)]
    if bad:
        raise ApiError(400, INVALID_PARAMETER, f"unknown {what} {', '.join(bad)}; use {usage}")
    return found


def envelope(code: int, text: str) -> dict[str, Any]:
    """Return the error envelope body."""
    return {"code": code, "message": text, "info": text}


def error_response(error: ApiError) -> Response:
    """Turn `error` into the API's JSON error response, diagnostics in X-Mock-* headers."""
    response = Response(
        json.dumps(envelope(error.code, error.text), ensure_ascii=False),
        status=error.status,
        mimetype="application/json",
    )
    for name, value in error.headers.items():
        response.headers[name] = value
    errors = [p for p in error.problems if p.severity == "error"]
    if errors:
        response.headers["X-Mock-Errors"] = problems_header(errors)
    return response


def problems_header(problems: Sequence[Problem]) -> str:
    """Encode problems for an X-Mock-* header (ASCII JSON, one line)."""
    return json.dumps([p.as_dict() for p in problems], ensure_ascii=True)


def validation_error(problems: Sequence[Problem]) -> ApiError:
    """Return the 400 error listing every error in `problems` with its pointer and fix."""
    errors = [p for p in problems if p.severity == "error"]
    lines = "; ".join(str(p) for p in errors)
    noun = "problem" if len(errors) == 1 else "problems"
    text = f"invalid request, {len(errors)} {noun}: {lines}"
    return ApiError(400, INVALID_PARAMETER, text, problems)


_HTTP_CODES = {404: NOT_FOUND}
_HTTP_HINTS = {
    404: "no such route; the API has POST /api/v1/job/create and GET /api/v1/job/query?id=",
    405: "method not allowed here",
    413: "request body too large",
}


def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    text = _HTTP_HINTS.get(status) or (error.description or error.name)
    if status == 405 and isinstance(error, MethodNotAllowed) and error.valid_methods:
        text = f"method {request.method} not allowed; use {', '.join(error.valid_methods)}"
    if status == 413:
        limit = current_app.config.get("MAX_CONTENT_LENGTH")
        text = f"request body too large; send at most {limit} bytes"
    headers = {k: v for k, v in error.get_headers() if k == "Allow"}
    if status == 413:  # the body was not read: the connection cannot carry another request
        headers["Connection"] = "close"
    api_error = ApiError(
        status,
        _HTTP_CODES.get(status, BAD_REQUEST if status < 500 else SERVER_ERROR),
        text,
        headers=headers,
    )
    return _respond(api_error)


def _respond(error: ApiError) -> Response:
    g.error_code = error.code
    return error_response(error)


def _config_error(error: ConfigError) -> Response:
    return _respond(ApiError(400, INVALID_PARAMETER, str(error)))


def _unexpected(error: Exception) -> Response:
    current_app.logger.exception("unexpected error")
    current_app.extensions.setdefault("shortapi.errors", []).append(error)  # for check()
    return _respond(
        ApiError(
            500,
            SERVER_ERROR,
            f"internal error in the mock: {type(error).__name__}; please report it",
        )
    )


def init_app(app: Flask) -> None:
    """Answer every error with the API's envelope: never HTML, never a bare 500."""
    app.register_error_handler(ApiError, _respond)
    app.register_error_handler(ConfigError, _config_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
