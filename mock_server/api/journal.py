"""The request journal: every request with its validation outcome, keys redacted.

Routes put what they learn on ``flask.g`` (owner, job id, problems); one after-request
hook writes the entry to the store, so every worker's requests land in one journal.
"""

from __future__ import annotations

import secrets
import time
from datetime import datetime, timezone
from typing import Any

from flask import Flask, Response, current_app, g, request

from mock_server import extensions
from mock_server.keys import bearer_key, fingerprint, redact

BODY_LIMIT = 4096
_SKIP = ("/_mock/", "/openapi.json", "/favicon.ico")
_HEADERS = [
    (name, "HTTP_" + name.upper().replace("-", "_"))
    for name in ("User-Agent", "X-Mock-Scenario", "X-Mock-Fault")
]
_HEADERS += [("Content-Type", "CONTENT_TYPE"), ("Content-Length", "CONTENT_LENGTH")]


def _start() -> None:
    g.started = time.perf_counter()


def _entry(response: Response) -> dict[str, Any]:
    # Proxies resolved once: this runs on every request.
    req, ctx = request._get_current_object(), g._get_current_object()  # type: ignore[attr-defined]
    environ = req.environ
    key = bearer_key(environ.get("HTTP_AUTHORIZATION"))
    hidden = [key] if key else []
    status = response.status_code
    fault = ctx.get("fault")
    if fault:
        outcome = "fault"
    elif status >= 400:
        outcome = "rejected" if status < 500 else "error"
    else:
        outcome = "accepted" if req.path.endswith("/create") else "ok"
    query = environ.get("QUERY_STRING", "")
    body: bytes = ctx.get("body", b"")[:BODY_LIMIT]
    return {
        "request_id": secrets.token_hex(8),
        "time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
        "method": req.method,
        "path": req.path,
        "query": redact(query, hidden) if query else "",
        "headers": {name: environ[var] for name, var in _HEADERS if var in environ},
        "key": fingerprint(key) if key else None,
        "status": status,
        "code": ctx.get("error_code", 0 if status < 400 else None),
        "outcome": outcome,
        "job_id": ctx.get("job_id"),
        "job_status": ctx.get("job_status"),
        "clock": ctx.get("clock"),
        "problems": [p.as_dict() for p in ctx.get("problems", ())],
        "fault": fault,
        "scenario": ctx.get("scenario"),
        "body": redact(body.decode("utf-8", "replace"), hidden) if body else "",
        "duration_ms": round((time.perf_counter() - ctx.get("started", 0.0)) * 1000, 3),
    }


def _record(response: Response) -> Response:
    if not request.path.startswith(_SKIP):
        entry = _entry(response)
        extensions.store(current_app).journal_append(entry)
        response.headers["X-Mock-Request-Id"] = entry["request_id"]
    return response


def init_app(app: Flask) -> None:
    """Register the hooks that journal every request."""
    app.before_request(_start)
    app.after_request(_record)
