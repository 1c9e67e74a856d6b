"""The request journal: every request with its validation outcome, keys redacted.

Routes put what they learn on ``flask.g`` (owner, job id, problems); one after-request
hook writes the entry to the store, so every worker's requests land in one journal.

``status`` is the answer's status by its kind, ``sent_status`` the HTTP status sent: they
differ only for an error answered as HTTP 200 under ``--error-status 200``
(A-error-http-status), whose ``status`` stays the error's own (404, 429, 503...), so the
outcome and the client checks read it alike in either mode.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from typing import Any

from flask import Flask, Response, current_app, g, request

from mock_server import extensions, utctime
from mock_server.errors import echoed
from mock_server.keys import auth_secrets, bearer_key, fingerprint, redact

BODY_LIMIT = 4096
_REDACT_MARGIN = 1024  # bytes read past the limit, so a key cut by it is still found
_SKIP = ("/_mock/", "/openapi.json", "/favicon.ico", "/healthz")
# The query parameter the dashboard adds to the result files it loads itself (a video
# playing in a job's page): those loads are the mock's, not the client's, and not journaled.
MEDIA_MARK = "_mock_ui"
_HEADERS = [
    (name, "HTTP_" + name.upper().replace("-", "_"))
    for name in ("User-Agent", "X-Mock-Scenario", "X-Mock-Fault")
]
_HEADERS += [("Content-Type", "CONTENT_TYPE"), ("Content-Length", "CONTENT_LENGTH")]


def _start() -> None:
    g.started = time.perf_counter()


def _clock(ctx: Any) -> float | None:
    """Return the clock time of a request its route did not stamp (None on the per-poll
    clock, as for queries): the client checks time retries and repeated creates by it."""
    snapshot = ctx.get("snapshot")  # the route's one store read, when it made it
    runtime = snapshot[0] if snapshot else extensions.store(current_app).runtime()
    if runtime.clock == "per-poll":
        return None
    now: float = extensions.clock(current_app).now(runtime)
    return now


def _entry(response: Response) -> dict[str, Any]:
    # Proxies resolved once: this runs on every request.
    req, ctx = request._get_current_object(), g._get_current_object()  # type: ignore[attr-defined]
    now = time.perf_counter()
    environ = req.environ
    auth = environ.get("HTTP_AUTHORIZATION")
    key = bearer_key(auth)
    hidden = auth_secrets(auth)  # a malformed header's words too
    status = ctx.get("error_http_status", response.status_code)
    fault = ctx.get("fault")
    if fault:
        outcome = "fault"
    elif status >= 400:
        outcome = "rejected" if status < 500 else "error"
    else:
        outcome = "accepted" if req.method == "POST" and req.path.endswith("/create") else "ok"
    query = environ.get("QUERY_STRING", "")
    full: bytes = ctx.get("body", b"")
    return {
        "request_id": secrets.token_hex(8),
        "time": utctime.now(),
        "method": req.method,
        "path": _cut(req.path, hidden),
        "query": _cut(query, hidden) if query else "",
        "headers": {name: _cut(environ[var], hidden) for name, var in _HEADERS if var in environ},
        "key": fingerprint(key) if key else None,
        "status": status,
        "sent_status": response.status_code,
        "code": ctx.get("error_code", 0 if status < 400 else None),
        "outcome": outcome,
        "job_id": ctx.get("job_id"),
        "job_status": ctx.get("job_status"),
        "clock": ctx.get("clock") if "clock" in ctx else _clock(ctx),
        "retry_after": response.headers.get("Retry-After"),
        "problems": [_redacted(p.as_dict(), hidden) for p in echoed(ctx.get("problems", ()))],
        "fault": fault,
        "scenario": ctx.get("scenario"),
        "body": _body(full, hidden),
        "body_sha256": hashlib.sha256(full).hexdigest()[:16] if full else None,
        # A hook before `_start` may have answered (a CORS preflight): then it took no time.
        "duration_ms": round((time.perf_counter() - ctx.get("started", now)) * 1000, 3),
    }


def _cut(text: str, hidden: list[str]) -> str:
    """Return `text` redacted, then cut to `BODY_LIMIT` characters (a key at the cut is
    redacted with the text around it: a little beyond the limit is read)."""
    return redact(text[: BODY_LIMIT + _REDACT_MARGIN], hidden)[:BODY_LIMIT]


def _body(full: bytes, hidden: list[str]) -> str:
    """Return what the journal keeps of a body: redacted first (a key past the cut is masked
    whole), then cut to `BODY_LIMIT` bytes."""
    if not full:
        return ""
    # A key at the cut is redacted with the text around it: a little beyond the limit is read.
    text = redact(full[: BODY_LIMIT + _REDACT_MARGIN].decode("utf-8", "replace"), hidden)
    return text.encode("utf-8")[:BODY_LIMIT].decode("utf-8", "ignore")


def _redacted(problem: dict[str, str], hidden: list[str]) -> dict[str, str]:
    return {name: redact(value, hidden) for name, value in problem.items()}


def _record(response: Response) -> Response:
    # The dashboard marks the result files it loads itself; the mark means nothing elsewhere
    # (a create carrying it must not hide from the journal and the client checks).
    own_media = request.path.startswith("/files/") and MEDIA_MARK in request.args
    if not request.path.startswith(_SKIP) and not own_media:
        entry = _entry(response)
        extensions.store(current_app).journal_append(entry)
        response.headers["X-Mock-Request-Id"] = entry["request_id"]
    return response


def init_app(app: Flask) -> None:
    """Register the hooks that journal every request."""
    app.before_request(_start)
    app.after_request(_record)
