"""The real API's routes: create and query jobs, plus the result files and /openapi.json."""

from __future__ import annotations

import functools
import secrets
import time
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request, send_file

from mock_server import extensions
from mock_server.api.auth import authenticate
from mock_server.api.envelope import problems_header
from mock_server.catalog.pricing import amount
from mock_server.catalog.registry import MODELS
from mock_server.control import faults, injections
from mock_server.data import schemas
from mock_server.data.videos import video_path
from mock_server.errors import (
    BALANCE_DEPLETED,
    CONCURRENCY_LIMITED,
    INVALID_PARAMETER,
    NOT_FOUND,
    ApiError,
)
from mock_server.jobs import accounts, lifecycle, scenarios
from mock_server.jobs.accounts import AdmissionError
from mock_server.jobs.status import Status
from mock_server.state.records import Injection, Job, Runtime
from mock_server.validation.request import parse_json_body, validate_create

bp = Blueprint("api", __name__)


def _owner() -> str:
    owner = authenticate(request.headers.get("Authorization"), current_app.config["API_KEYS"])
    g.owner = owner
    return owner


def _unknown_job(job_id: str) -> ApiError:
    return ApiError(
        404,
        NOT_FOUND,
        f"job not found: {job_id[:100]}; query with the job_id "
        "that create returned, using the same API key",
    )


def _snapshot() -> tuple[Runtime, set[str]]:
    """Return the runtime settings and the kinds of injections waiting: one store read per
    request."""
    if "snapshot" not in g:
        g.snapshot = extensions.store(current_app).snapshot()
    snapshot: tuple[Runtime, set[str]] = g.snapshot
    return snapshot


def _take(kind: str, owner: str | None, endpoint: str) -> Injection | None:
    if kind not in _snapshot()[1]:  # nothing of this kind waits: no write
        return None
    return injections.take(extensions.store(current_app), kind, owner, endpoint)


def _faults(endpoint: str, owner: str) -> Response | None:
    """Apply the fault this request draws, if any; a dropped connection returns a stub."""
    header = request.headers.get(faults.HEADER)
    chosen = faults.tokens(header) if header else None
    if chosen is None and (waiting := _take("fault", owner, endpoint)):
        chosen = faults.tokens(waiting.spec["fault"])
    if chosen is None and (waiting := _take("fault-random", owner, endpoint)):
        count = extensions.store(current_app).next_count(f"fault:{waiting.id}:{endpoint}")
        drawn = faults.draw(waiting.spec, endpoint, count)
        chosen = [drawn] if drawn else None
    if not chosen:
        return None
    g.fault = ",".join(chosen)
    kind = faults.apply(chosen)
    if kind is None:
        return None
    request.environ[faults.DROP_KEY] = kind
    return Response(b"", status=200)


def _scenario(owner: str, args: dict[str, Any]) -> list[str]:
    header = request.headers.get(scenarios.HEADER)
    chosen = scenarios.tokens(header) if header else []
    chosen += scenarios.prompt_tokens(args.get("prompt"))
    if not chosen and (waiting := _take("scenario", owner, "create")):
        chosen = scenarios.tokens(waiting.spec["scenario"])
    g.scenario = ",".join(chosen) or None
    return chosen


def _admit(job: Job, runtime: Runtime) -> None:
    """Store the job if its key's account allows (A-balance-depleted, A-concurrency-limit)."""
    store = extensions.store(current_app)
    try:
        try:
            store.admit(job, accounts.admission(job.amount))
        except AdmissionError:
            # Refunds and finished jobs may not be settled yet: settle, then ask again.
            now = extensions.clock(current_app).now(runtime)
            extensions.dispatcher(current_app).settle(now)
            store.admit(job, accounts.admission(job.amount))
    except AdmissionError as refused:
        if refused.reason == "balance":
            raise ApiError(
                429,
                BALANCE_DEPLETED,
                f"insufficient balance: the job costs {job.amount}, the balance is "
                f"{refused.account.balance}; top up the account",
            ) from None
        raise ApiError(
            429,
            CONCURRENCY_LIMITED,
            f"too many jobs in flight: {refused.in_flight} of "
            f"{refused.account.max_in_flight} allowed for this key; wait for one "
            "to finish",
            headers={"Retry-After": "1"},
        ) from None


@bp.post("/api/v1/job/create")
def create_job() -> Response:
    """Validate a create request, store the job and answer its id and amount."""
    owner = _owner()
    if (dropped := _faults("create", owner)) is not None:
        return dropped
    g.body = request.get_data()
    body = parse_json_body(request.content_type, g.body)
    runtime = _snapshot()[0]
    try:
        valid = validate_create(body, profile=runtime.profile)
    except ApiError as error:
        g.problems = error.problems
        raise
    g.problems = valid.warnings
    outcome, processing_for = scenarios.fate(_scenario(owner, valid.args), runtime.processing_for)
    job = Job(
        id=secrets.token_hex(16),
        owner=owner,
        model=valid.model.id,
        args=valid.args,
        amount=amount(valid.model, valid.args, current_app.config["PRICES"]),
        created_at=extensions.clock(current_app).now(runtime),
        created_wall=time.time(),
        queued_for=runtime.queued_for,
        processing_for=processing_for,
        outcome=outcome,
        callback_url=valid.callback_url,
        base_url=_base_url(),
        warnings=[p.as_dict() for p in valid.warnings],
    )
    job.next_event_at = lifecycle.first_event_at(job, runtime)
    _admit(job, runtime)
    g.job_id = job.id
    response = jsonify({"code": 0, "data": {"amount": job.amount, "job_id": job.id}})
    if valid.warnings:
        response.headers["X-Mock-Warnings"] = problems_header(valid.warnings)
    return response


@bp.get("/api/v1/job/query")
def query_job() -> Response:
    """Answer a job's current status (and result or failure)."""
    owner = _owner()
    if (dropped := _faults("query", owner)) is not None:
        return dropped
    job_id = request.args.get("id", "")
    if not job_id.strip():
        raise ApiError(
            400,
            INVALID_PARAMETER,
            "id is required; query /api/v1/job/query?id=<job_id returned by create>",
        )
    store = extensions.store(current_app)
    job = store.get_job(job_id)
    if job is None or job.owner != owner:
        raise _unknown_job(job_id)
    g.job_id = job.id
    runtime = _snapshot()[0]
    now = extensions.clock(current_app).now(runtime)
    if runtime.clock == "per-poll":
        job.polls = store.bump_polls(job.id)
        reached = lifecycle.reached_stage(job, runtime, now)
        if reached > job.stage:  # the per-poll clock settles a job when it is queried
            lifecycle.settle_job(
                store, job, reached, extensions.dispatcher(current_app).planner(now)
            )
    data = lifecycle.job_data(job, runtime, now, file_url(job))
    # The per-poll clock stands still, so the journal's clock would say every poll came at
    # once: it is left out, and the poll-rate check skips those entries.
    g.job_status, g.clock = data["status"], None if runtime.clock == "per-poll" else now
    return jsonify({"code": 0, "data": data})


def _base_url() -> str:
    public: str | None = current_app.config["PUBLIC_URL"]
    if public:
        return public.rstrip("/")
    return _host_url(request.scheme, request.environ.get("HTTP_HOST") or request.host)


@functools.lru_cache(maxsize=256)
def _host_url(scheme: str, host: str) -> str:
    return f"{scheme}://{host}"


def file_url(job: Job) -> str:
    """Return the URL of the job's result video."""
    return lifecycle.result_url(_base_url(), job.id)


def result_video(job: Job, runtime: Runtime) -> Any:
    """Return the path of a succeeded job's MP4, or raise 404."""
    now = extensions.clock(current_app).now(runtime)
    if lifecycle.status(job, runtime, now) != Status.SUCCEEDED:
        raise ApiError(
            404,
            NOT_FOUND,
            f"job {job.id} has no result yet; download it once query answers status 2",
        )
    spec = MODELS[job.model]
    return video_path(spec.aspect_ratio(job.args), spec.duration(job.args))


@bp.get("/files/<job_id>.mp4")
def result_file(job_id: str) -> Response:
    """Serve a succeeded job's result video (no key needed, as a CDN URL)."""
    store = extensions.store(current_app)
    job = store.get_job(job_id)
    if job is None:
        raise _unknown_job(job_id)
    g.job_id = job.id
    path = result_video(job, store.runtime())
    response = send_file(
        path, mimetype="video/mp4", conditional=True, max_age=3600, download_name=f"{job.id}.mp4"
    )
    del response.headers["Date"]  # the HTTP server adds its own; two confuse clients
    return response


@bp.get("/openapi.json")
def openapi() -> Response:
    """Serve the OpenAPI document, bundled, with one request branch per model."""
    document = schemas.bundled_openapi((m.id, m.args_schema) for m in MODELS.values())
    document["servers"] = [{"url": request.host_url.rstrip("/")}, *document.get("servers", [])]
    return jsonify(document)
