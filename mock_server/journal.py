"""The request journal: every request with its validation outcome, keys redacted.

Routes put what they learn on ``flask.g`` (owner, job id, problems); one after-request
hook writes the entry to the store, so every worker's requests land in one journal.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any

from flask import Flask, Response, current_app, g, request

from .auth import bearer_key, fingerprint, redact
from .store import get_store

BODY_LIMIT = 4096
_SKIP = ("/_mock/", "/openapi.json", "/favicon.ico")
_HEADERS = ("Content-Type", "Content-Length", "User-Agent", "X-Mock-Scenario", "X-Mock-Fault")


def _start() -> None:
    g.started = time.perf_counter()


def _entry(response: Response) -> dict[str, Any]:
    key = bearer_key(request.headers.get("Authorization"))
    problems = [p.as_dict() for p in getattr(g, "problems", ())]
    body: bytes = g.get("body", b"")[:BODY_LIMIT]
    if getattr(g, "fault", None):
        outcome = "fault"
    elif response.status_code >= 400:
        outcome = "rejected" if response.status_code < 500 else "error"
    else:
        outcome = "accepted" if request.path.endswith("/create") else "ok"
    return {
        "time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
        "method": request.method,
        "path": request.path,
        "query": redact(request.query_string.decode("latin-1"), [key] if key else []),
        "headers": {h: request.headers[h] for h in _HEADERS if h in request.headers},
        "key": fingerprint(key) if key else None,
        "status": response.status_code,
        "code": getattr(g, "error_code", 0 if response.status_code < 400 else None),
        "outcome": outcome,
        "job_id": getattr(g, "job_id", None),
        "problems": problems,
        "fault": getattr(g, "fault", None),
        "scenario": getattr(g, "scenario", None),
        "body": redact(body.decode("utf-8", "replace"), [key] if key else []),
        "duration_ms": round(
            (time.perf_counter() - getattr(g, "started", time.perf_counter())) * 1000, 3
        ),
    }


def _record(response: Response) -> Response:
    if not request.path.startswith(_SKIP):
        entry_id = get_store(current_app).journal_append(_entry(response))
        response.headers["X-Mock-Request-Id"] = str(entry_id)
    return response


def init_app(app: Flask) -> None:
    """Register the hooks that journal every request."""
    app.before_request(_start)
    app.after_request(_record)
