"""The admin API under /_mock/: a thin HTTP layer over `MockControl`.

Answers plain JSON; malformed input gets the API's error envelope with a 4xx.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from mock_server import extensions
from mock_server.api.guard import TOKEN_HEADER, admin_access, check_site
from mock_server.errors import AUTH_INVALID, BAD_REQUEST, INVALID_PARAMETER, NOT_FOUND, ApiError
from mock_server.state.records import JOURNAL_FIELDS
from mock_server.validation.request import parse_json_body
from mock_server.version import __version__

bp = Blueprint("admin", __name__, url_prefix="/_mock")


@bp.before_request
def _guard() -> None:
    """Refuse the admin API unless it is open (loopback bind) or the token matches, and
    refuse cross-site use (api/guard.py)."""
    refusal = admin_access(current_app.config, request.headers.get(TOKEN_HEADER))
    if refusal == "token":
        raise ApiError(
            401,
            AUTH_INVALID,
            f"the admin API needs the header {TOKEN_HEADER} with the token given to --admin-token",
        )
    if refusal == "off":
        raise ApiError(
            403,
            AUTH_INVALID,
            "the admin API is off: the mock listens on a "
            "non-loopback address; start it with --admin-token TOKEN to use it",
        )
    check_site(  # another site's page, a DNS-rebinding name, a form post: 403 / 415
        current_app.config,
        method=request.method,
        host=request.host,
        headers=dict(request.headers),
        token_given=bool(current_app.config["ADMIN_TOKEN"]),  # and it matched, as checked
    )


def _json_object(*, optional: bool = False) -> dict[str, Any]:
    if optional and not request.get_data(cache=True).strip():
        return {}
    body = parse_json_body(request.content_type, request.get_data(cache=True))
    if not isinstance(body, dict):
        raise ApiError(400, BAD_REQUEST, "send a JSON object")
    return body


def _int_arg(name: str, default: int, *, high: int = 10_000) -> int:
    value = request.args.get(name, str(default))
    if not value.isdigit() or not 0 <= int(value) <= high:
        raise ApiError(400, INVALID_PARAMETER, f"{name} must be a whole number from 0 to {high}")
    return int(value)


def _runtime_view() -> dict[str, Any]:
    control = extensions.control(current_app)
    runtime = control.runtime()
    return {**dataclasses.asdict(runtime), "now": control.clock.now(runtime)}


@bp.get("/health")
def health() -> Response:
    """Say the mock is up, with its version, store, clock and job count."""
    control = extensions.control(current_app)
    return jsonify(
        {
            "status": "ok",
            "version": __version__,
            "store": current_app.config["STORE"].split(":")[0],
            "jobs": control.store.count_jobs(),
            "runtime": _runtime_view(),
        }
    )


@bp.post("/reset")
def reset() -> Response:
    """Forget every job and journal entry; restore the configured settings."""
    extensions.control(current_app).reset()
    return jsonify({"reset": True, "runtime": _runtime_view()})


@bp.get("/clock")
def clock() -> Response:
    """Return the clock's mode, speed and current time."""
    return jsonify(_runtime_view())


@bp.post("/clock")
def set_clock() -> Response:
    """Switch the clock: {"mode": "manual"|"realtime"|"per-poll", "speed": F}."""
    body = _json_object()
    mode = body.get("mode", extensions.control(current_app).runtime().clock)
    speed = body.get("speed")
    if not isinstance(mode, str) or (
        speed is not None and (isinstance(speed, bool) or not isinstance(speed, (int, float)))
    ):
        raise ApiError(
            400, INVALID_PARAMETER, 'send {"mode": "manual"} and optionally {"speed": 2.0}'
        )
    extensions.control(current_app).set_clock(mode, speed=speed)
    return jsonify(_runtime_view())


@bp.post("/clock/advance")
def advance() -> Response:
    """Move the clock forward: {"seconds": N}."""
    body = _json_object()
    if "seconds" not in body:
        raise ApiError(400, INVALID_PARAMETER, 'seconds is required; send {"seconds": 5}')
    now = extensions.control(current_app).advance(body["seconds"])
    return jsonify({"now": now})


@bp.get("/settings")
def settings() -> Response:
    """Return the runtime settings."""
    return jsonify(_runtime_view())


@bp.post("/settings")
def configure() -> Response:
    """Change profile, result_key, error_status, failed_status, callback_events,
    queued_seconds or processing_seconds."""
    extensions.control(current_app).configure(**_json_object())
    return jsonify(_runtime_view())


@bp.get("/jobs")
def jobs() -> Response:
    """List jobs, newest first; ?key=<API key or its fingerprint>&limit=N."""
    control = extensions.control(current_app)
    return jsonify(
        {"jobs": control.jobs(key=request.args.get("key") or None, limit=_int_arg("limit", 100))}
    )


@bp.get("/jobs/<job_id>")
def job(job_id: str) -> Response:
    """Return one job with its request, status and timeline."""
    found = extensions.control(current_app).job(job_id)
    if found is None:
        raise ApiError(404, NOT_FOUND, f"job not found: {job_id[:100]}")
    return jsonify(found)


@bp.get("/requests")
def requests_journal() -> Response:
    """Return the request journal, oldest first; ?limit=N&after=ID&key=&outcome=&request_id=
    &job_id= (with the SQLite store, entries reach it within 25 ms)."""
    match = {name: request.args[name] for name in JOURNAL_FIELDS if request.args.get(name)}
    entries = extensions.control(current_app).journal(
        limit=_int_arg("limit", 100), after=_int_arg("after", 0, high=2**62), match=match
    )
    return jsonify({"requests": entries})


def _count(body: dict[str, Any]) -> int | None:
    count = body.get("count", 1)
    if count is not None and (isinstance(count, bool) or not isinstance(count, int)):
        raise ApiError(
            400, INVALID_PARAMETER, "count must be a whole number, or null for every request"
        )
    return count


def _text(body: dict[str, Any], name: str, example: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ApiError(400, INVALID_PARAMETER, f"{name} is required; send e.g. {example}")
    return value


def _key(body: dict[str, Any]) -> str | None:
    key = body.get("key")
    if key is not None and (not isinstance(key, str) or not key):
        raise ApiError(
            400,
            INVALID_PARAMETER,
            "key must be an API key (or its key_... fingerprint), or left out for every key",
        )
    return key


def _rules_view(kind: str) -> list[dict[str, Any]]:
    return [r.to_dict() for r in extensions.control(current_app).injections(kind)]


@bp.get("/scenarios")
def list_scenarios() -> Response:
    """List the scenarios waiting for jobs."""
    return jsonify({"scenarios": _rules_view("scenario")})


@bp.post("/scenarios")
def add_scenario() -> Response:
    """{"scenario": "fail:content_policy", "count": 1, "key": "<API key>"}."""
    body = _json_object()
    scenario = _text(body, "scenario", '{"scenario": "fail:timeout"}')
    rule = extensions.control(current_app).add_scenario(
        scenario, count=_count(body), key=_key(body)
    )
    return jsonify(rule.to_dict())


@bp.delete("/scenarios")
def clear_scenarios() -> Response:
    """Remove the waiting scenarios (?key= only those of one key)."""
    extensions.control(current_app).clear("scenario", key=request.args.get("key") or None)
    return jsonify({"scenarios": []})


@bp.get("/faults")
def list_faults() -> Response:
    """List the scripted and random faults."""
    return jsonify({"faults": _rules_view("fault"), "random": _rules_view("fault-random")})


@bp.post("/faults")
def add_fault() -> Response:
    """{"fault": "503", "count": 2, "endpoint": "create", "key": "<API key>"} or
    {"random": {"seed": 1, "create": {"503": 0.1}}}."""
    body = _json_object()
    control = extensions.control(current_app)
    if "random" in body:
        return jsonify(control.set_random_faults(body["random"], key=_key(body)).to_dict())
    endpoint = body.get("endpoint", "any")
    if not isinstance(endpoint, str):
        raise ApiError(400, INVALID_PARAMETER, "endpoint must be create, query or any")
    rule = control.add_fault(
        _text(body, "fault", '{"fault": "503"}'),
        count=_count(body),
        key=_key(body),
        endpoint=endpoint,
    )
    return jsonify(rule.to_dict())


@bp.delete("/faults")
def clear_faults() -> Response:
    """Remove the scripted and random faults (?key= only those of one key)."""
    control, key = extensions.control(current_app), request.args.get("key") or None
    control.clear("fault", key=key)
    control.clear("fault-random", key=key)
    return jsonify({"faults": [], "random": []})


@bp.get("/accounts/<key>")
def account(key: str) -> Response:
    """Return a key's account (the path takes the API key or its key_... fingerprint)."""
    return jsonify(extensions.control(current_app).account(key))


@bp.post("/accounts/<key>")
def set_account(key: str) -> Response:
    """{"balance": "0.10", "max_in_flight": 2}; null means unlimited."""
    body = _json_object()
    return jsonify(
        extensions.control(current_app).set_account(
            key, balance=body.get("balance"), max_in_flight=body.get("max_in_flight")
        )
    )


@bp.post("/jobs/<job_id>/complete")
def complete_job(job_id: str) -> Response:
    """End a job now as succeeded; its callbacks are sent before this answers."""
    return _finished(extensions.control(current_app).finish_job(job_id), job_id)


@bp.post("/jobs/<job_id>/fail")
def fail_job(job_id: str) -> Response:
    """End a job now as failed: {"reason": "content_policy"|"internal_error"|"timeout"}."""
    body = _json_object(optional=True)
    reason = body.get("reason", "internal_error")
    if not isinstance(reason, str):
        raise ApiError(
            400, INVALID_PARAMETER, "reason must be content_policy, internal_error or timeout"
        )
    return _finished(extensions.control(current_app).finish_job(job_id, fail=reason), job_id)


def _finished(job: dict[str, Any] | None, job_id: str) -> Response:
    if job is None:
        raise ApiError(
            404, NOT_FOUND, f"no running job {job_id[:100]}: unknown, or already finished"
        )
    return jsonify(job)


@bp.get("/callbacks")
def callbacks() -> Response:
    """Return callback deliveries with every attempt; ?job_id=&limit=."""
    return jsonify(
        {
            "callbacks": extensions.control(current_app).deliveries(
                job_id=request.args.get("job_id") or None, limit=_int_arg("limit", 100)
            )
        }
    )


@bp.post("/run")
def run_all() -> Response:
    """Advance the clock until every job and callback is done; return the new time."""
    return jsonify({"now": extensions.control(current_app).run_all()})
