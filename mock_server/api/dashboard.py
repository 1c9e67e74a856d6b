"""The local dashboard under /_mock/ui: jobs, the request journal, callbacks and results.

Pages are rendered on the server (Jinja, templates/dashboard/); a little plain JavaScript
(static/dashboard.js) polls the admin API to keep them live, and every control on them
calls the admin API with fetch(): the dashboard reads state through `MockControl` but has
no way of its own to change it. Nothing is fetched from outside, so it works offline.

The admin API's guard does not run for this blueprint, so `_guard` repeats it: with an
``ADMIN_TOKEN`` the pages need ``?token=<token>`` (or the X-Mock-Admin-Token header), and
the page hands the token to its script, which sends it on every call to the admin API.
The pages also refuse other sites and DNS-rebinding names as the admin API does
(`guard.check_site`), and the script sends every state-changing call as JSON.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response as BaseResponse

from mock_server import extensions
from mock_server.api.guard import TOKEN_HEADER, admin_access, check_site
from mock_server.api.journal import MEDIA_MARK
from mock_server.catalog.registry import MODELS
from mock_server.control.mock_control import MockControl, key_id
from mock_server.errors import cut
from mock_server.jobs import results
from mock_server.jobs.status import Status
from mock_server.version import __version__

bp = Blueprint(
    "dashboard",
    __name__,
    url_prefix="/_mock/ui",
    template_folder="templates",
    static_folder="static",
)

STATUS_NAMES = {int(s): s.name.lower() for s in Status}
OUTCOMES = ("accepted", "ok", "rejected", "error", "fault")
JOBS_LIMIT = 100
JOBS_SCAN = 500  # jobs the page looks through (newest) when it filters by model
PREVIEW_NOUNS = {"videos": "video", "images": "images", "musics": "music"}
JOURNAL_LIMIT = 500  # journal entries a page looks through (newest), before filtering
SHOWN_ARGS = 100  # a job page's args table: the first ones, then how many were left out
SHOWN_CHARS = 64 * 1024  # of one value or JSON block on a page
POLL_MS = 1000  # how often the page polls the admin API; ?poll=MS overrides (100..60000)
SCENARIOS = (
    "succeed",
    "fail",
    "fail:internal_error",
    "fail:content_policy",
    "fail:timeout",
    "stuck",
    "slow",
    "slow:30",
    "callback:duplicate",
    "callback:delay:5",
    "callback:out-of-order",
    "callback:drop",
)
FAULTS = (
    "429",
    "429:concurrency",
    "429:balance",
    "500",
    "502",
    "503",
    "504",
    "reset",
    "empty",
    "latency:500",
    "latency:200,503",
    "retry-after:5",
)
# The pages run only their own script and style; nothing from outside, no inline code.
CSP = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "media-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    )
)


@bp.before_request
def _guard() -> Response | None:
    """Open the pages only as the admin API is open: loopback bind, or the right token."""
    g.ui_token = None
    token: str | None = current_app.config["ADMIN_TOKEN"]
    if token and request.endpoint == "dashboard.static":
        return None  # script and style are no secret; a <script src> sends no header
    given = request.args.get("token") or request.headers.get(TOKEN_HEADER)
    refusal = admin_access(current_app.config, given)
    if refusal == "token":
        return _page(
            "denied.html",
            401,
            title="Admin token needed",
            message="The mock was started with --admin-token: open this page as "
            "/_mock/ui?token=<the token>.",
        )
    g.ui_token = token
    if refusal == "off":
        return _page(
            "denied.html",
            403,
            title="Dashboard off",
            message="The mock listens on a non-loopback address without an admin token, so "
            "the admin API and this dashboard are off; start it with --admin-token TOKEN "
            "and open /_mock/ui?token=TOKEN.",
        )
    if request.endpoint != "dashboard.static":  # script and style are no secret
        check_site(  # another site's page or a DNS-rebinding name: 403 in the envelope
            current_app.config,
            method=request.method,
            host=request.host,
            headers=dict(request.headers),
            token_given=bool(token),  # and it matched, as checked above
        )
    return None


@bp.after_request
def _headers(response: Response) -> Response:
    if request.endpoint != "dashboard.static":
        response.headers["Content-Security-Policy"] = CSP
        response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the URL may carry the token
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


SHORT_ID = 10  # characters of a job id shown (40 random bits); the whole id is its title


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {
        "ui_url": ui_url,
        "status_name": status_name,
        "seconds": seconds,
        "wall": wall,
        "pretty": pretty,
        "cut": lambda text: cut(str(text), SHOWN_CHARS),
        "shown_args": SHOWN_ARGS,
        "short_id": short_id,
        "version": __version__,
        "api_base": request.script_root + "/_mock",
        "token": g.get("ui_token"),
        "poll_ms": _poll_ms(),
    }


# formatting, shared by the templates (static/dashboard.js mirrors it)
def short_id(job_id: str) -> str:
    """Return the part of a job id that tells jobs apart: its random end. An id starts with
    its creation second (an ObjectId's layout), so jobs made together share their start."""
    return "…" + job_id[-SHORT_ID:] if len(job_id) > SHORT_ID else job_id


def ui_url(endpoint: str, **values: Any) -> str:
    """Return the URL of a dashboard page, carrying the admin token when one is needed."""
    token = g.get("ui_token")
    if token:
        values["token"] = token
    if "poll" in request.args:  # a chosen poll interval sticks while navigating
        values.setdefault("poll", request.args["poll"])
    return url_for(endpoint, **{k: v for k, v in values.items() if v not in (None, "")})


def status_name(status: Any) -> str:
    """Return "queued", "processing", "succeeded" or "failed"."""
    return STATUS_NAMES.get(status, str(status)) if isinstance(status, int) else str(status)


def seconds(value: Any, clock: str = "manual") -> str:
    """Return clock seconds as "12.5 s" (steps on the per-poll clock)."""
    if not isinstance(value, (int, float)):
        return "-"
    if clock == "per-poll":
        return f"step {value:g}"
    return f"{value:.1f} s"


def wall(value: Any) -> str:
    """Return unix time (or an ISO string) as a UTC time of day with milliseconds."""
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, timezone.utc).strftime("%H:%M:%S.%f")[:-3]
    if isinstance(value, str) and "T" in value:
        return value.split("T", 1)[1][:12]
    return str(value or "-")


def pretty(value: Any) -> str:
    """Return `value` as indented JSON (escaped by the template like any text), cut to
    `SHOWN_CHARS`: a page stays small whatever a request held."""
    return cut(json.dumps(value, indent=2, ensure_ascii=False), SHOWN_CHARS)


def _poll_ms() -> int:
    value = request.args.get("poll", "")
    return min(max(int(value), 100), 60_000) if value.isdigit() else POLL_MS


def _page(template: str, status: int = 200, **context: Any) -> Response:
    # Stored text that cannot be UTF-8 (a lone surrogate kept by an older mock) is shown
    # escaped: a page never fails for everyone on one request's data.
    html = render_template(f"dashboard/{template}", **context)
    response = Response(html.encode("utf-8", "backslashreplace"), status=status)
    response.mimetype = "text/html"
    return response


def _runtime(control: MockControl) -> dict[str, Any]:
    runtime = control.runtime()
    return {**runtime.to_dict(), "now": control.clock.now(runtime)}


def _key_filter() -> str | None:
    """Return the ?key= filter as a fingerprint (an API key given there is fingerprinted)."""
    return key_id(request.args.get("key", "").strip() or None)


def _rules(control: MockControl) -> dict[str, list[dict[str, Any]]]:
    return {
        kind: [rule.to_dict() for rule in control.injections(kind)]
        for kind in ("scenario", "fault", "fault-random")
    }


def _filtered_page(
    endpoint: str,
    template: str,
    context: Callable[[MockControl, str | None], dict[str, Any]],
) -> BaseResponse:
    """Render a page with a ?key= filter; a typed API key redirects to its fingerprint."""
    key = _key_filter()
    if key and key != request.args.get("key"):
        return _redirect_fingerprinted(f"dashboard.{endpoint}", key)
    control = extensions.control(current_app)
    shown = context(control, key)
    return _page(
        f"{template}.html",
        page=template,
        runtime=_runtime(control),
        key=key or "",
        **shown,
    )


# pages
@bp.get("")
def jobs_page() -> BaseResponse:
    """The jobs, newest first, with the controls; ?key=&model= filter them."""
    model = request.args.get("model", "").strip()

    def context(control: MockControl, key: str | None) -> dict[str, Any]:
        seen = control.jobs(key=key, limit=JOBS_SCAN if model else JOBS_LIMIT)
        jobs = [job for job in seen if not model or job["model"] == model][:JOBS_LIMIT]
        return {
            "jobs": jobs,
            "keys": sorted({job["key"] for job in seen}),
            "model": model,
            "models": sorted(
                {*MODELS, *(job["model"] for job in seen), *([model] if model else [])}
            ),
            "jobs_scan": JOBS_SCAN,
            "rules": _rules(control),
            "scenarios": SCENARIOS,
            "faults": FAULTS,
        }

    return _filtered_page("jobs_page", "jobs", context)


@bp.get("/requests")
def requests_page() -> BaseResponse:
    """The request journal, newest first; ?key=&outcome= filter it."""
    outcome = request.args.get("outcome", "")
    outcome = outcome if outcome in OUTCOMES else ""

    def context(control: MockControl, key: str | None) -> dict[str, Any]:
        entries = control.journal(limit=JOURNAL_LIMIT)
        shown = [
            e
            for e in reversed(entries)
            if (not key or e.get("key") == key) and (not outcome or e.get("outcome") == outcome)
        ]
        return {
            "entries": shown,
            "keys": sorted({e["key"] for e in entries if e.get("key")}),
            "outcome": outcome,
            "outcomes": OUTCOMES,
            "journal_limit": JOURNAL_LIMIT,
        }

    return _filtered_page("requests_page", "requests", context)


@bp.get("/jobs/<job_id>")
def job_page(job_id: str) -> Response:
    """One job: its request, status changes, callbacks, requests and result video."""
    control = extensions.control(current_app)
    job = control.job(job_id)
    if job is None:
        return _page(
            "denied.html",
            404,
            page="job",
            title="Job not found",
            message=f"No job {job_id[:100]} (after a reset the mock forgets every job).",
        )
    entries = [e for e in control.journal(limit=JOURNAL_LIMIT) if e.get("job_id") == job_id]
    return _page(
        "job.html",
        page="job",
        runtime=_runtime(control),
        job=job,
        deliveries=control.deliveries(job_id=job_id),
        entries=list(reversed(entries)),
        journal_limit=JOURNAL_LIMIT,
        video_url=_marked(url_for("files.result_file", job_id=job_id)),
        preview=_preview(control, job_id),
    )


def _preview(control: MockControl, job_id: str) -> dict[str, Any]:
    """What the job page shows once the job succeeds: its output kind (videos, images,
    musics), the word for it, and its result entries with URLs relative to this site."""
    record = control.store.get_job(job_id)
    if record is None:  # reset meanwhile
        return {"kind": "videos", "noun": "video", "files": []}
    kind = results.output_kind(record)
    files = next(iter(results.result(record, results.AUTO, request.script_root).values()))
    marked = [
        {k: _marked(v) if k in ("url", "cover") else v for k, v in entry.items()} for entry in files
    ]
    return {"kind": kind, "noun": PREVIEW_NOUNS.get(kind, "video"), "files": marked}


def _marked(url: Any) -> Any:
    """The dashboard's own load of a result file: marked, so the journal leaves it out."""
    if not isinstance(url, str):
        return url
    return f"{url}{'&' if '?' in url else '?'}{MEDIA_MARK}=1"


def _redirect_fingerprinted(endpoint: str, key: str) -> BaseResponse:
    """Put the key's fingerprint in the URL instead of the API key typed into the filter."""
    values = {k: v for k, v in request.args.items() if k not in ("key", "token")}
    return redirect(ui_url(endpoint, **values, key=key), code=303)
