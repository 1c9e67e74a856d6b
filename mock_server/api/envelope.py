"""The API's error envelope and the app's error handlers: every error answers the envelope,
never HTML, never a bare 500. The text goes in both ``message`` and ``info``
(A-error-message-info), and nothing else goes in the body; diagnostics go in X-Mock-* headers.

With the runtime setting ``error_status`` "200" (``--error-status 200``, A-error-http-status),
every error of the real API's routes (``/api/...``), the faults' 429/5xx included, answers
HTTP 200 with its non-zero code; every header stays (``Retry-After`` too), and
``X-Mock-Error-Status`` names the status the error has otherwise. The admin API, the result
files and /openapi.json keep their real statuses.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from flask import Flask, Response, current_app, g, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from mock_server import extensions
from mock_server.api import hints
from mock_server.errors import (
    INVALID_PARAMETER,
    SERVER_ERROR,
    ApiError,
    ConfigError,
    Problem,
    code_for_status,
    echoed,
    envelope,
)
from mock_server.keys import redact

ERROR_STATUS_HEADER = "X-Mock-Error-Status"


def error_response(error: ApiError) -> Response:
    """Turn `error` into the API's JSON error response, diagnostics in X-Mock-* headers."""
    response = Response(
        # a text that cannot be UTF-8 (a lone surrogate echoed) is written escaped, never a 500
        json.dumps(envelope(error.code, error.text), ensure_ascii=False).encode(
            "utf-8", "backslashreplace"
        ),
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
    """Encode problems for an X-Mock-* header (ASCII JSON, one line): the first
    `PROBLEMS_ECHOED`, each cut, then how many were left out; keys redacted."""
    return redact(json.dumps([p.as_dict() for p in echoed(problems)], ensure_ascii=True))


_HTTP_HINTS = {
    405: "method not allowed here",
    413: "request body too large",
}


def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    text = _HTTP_HINTS.get(status) or (error.description or error.name)
    if status == 404:  # the routes clients invent: name the real ones (api/hints.py)
        text = hints.unknown_route(request.method, request.path[:200], request.args)
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
        code_for_status(status),
        text,
        headers=headers,
    )
    return _respond(api_error)


def _respond(error: ApiError) -> Response:
    g.error_code = error.code
    response = error_response(error)
    if _errors_as_200():
        g.error_http_status = response.status_code  # the journal's status: the error's own
        response.headers[ERROR_STATUS_HEADER] = str(response.status_code)
        response.status_code = 200
    return response


def _errors_as_200() -> bool:
    """Say whether this request's errors answer HTTP 200 (A-error-http-status)."""
    if not request.path.startswith("/api/"):
        return False
    snapshot = g.get("snapshot")  # the routes' one store read, when they made it
    try:
        runtime = snapshot[0] if snapshot else extensions.store(current_app).runtime()
    except Exception:  # the store itself failed: answer the error with its own status
        current_app.logger.exception("could not read the runtime settings")
        return False
    return bool(runtime.error_status == "200")


def _config_error(error: ConfigError) -> Response:
    return _respond(ApiError(400, INVALID_PARAMETER, str(error)))


class StrictJSONProvider(DefaultJSONProvider):
    """Flask's JSON with ``allow_nan=False``: a NaN that got past the door (a stored value)
    fails loudly here instead of reaching a client as text no JSON parser reads."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        """Serialize `obj` as strict JSON."""
        kwargs.setdefault("allow_nan", False)
        return super().dumps(obj, **kwargs)


def _unexpected(error: Exception) -> Response:
    current_app.logger.exception("unexpected error")
    extensions.errors(current_app).append(error)  # for check()
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
