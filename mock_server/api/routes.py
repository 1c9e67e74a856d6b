"""The real API's routes, kept thin: create and query jobs (the flow is `jobs/service.py`),
the faults a request draws, and /openapi.json. Result files are `api/files.py`."""

from __future__ import annotations

import functools

from flask import Blueprint, Response, current_app, g, jsonify, request

from mock_server import extensions
from mock_server.api import hints, uploads
from mock_server.api.auth import authenticate, key_name
from mock_server.api.envelope import problems_header
from mock_server.catalog.registry import MODELS
from mock_server.control import faults, injections
from mock_server.data import schemas
from mock_server.errors import INVALID_PARAMETER, NOT_FOUND, ApiError
from mock_server.jobs import lifecycle, scenarios
from mock_server.jobs.service import JobService
from mock_server.state.records import Injection, Runtime
from mock_server.validation.request import parse_json_body, reads_strictly, validate_create

bp = Blueprint("api", __name__)


def _owner() -> str:
    owner = authenticate(request.headers.get("Authorization"), current_app.config["API_KEYS"])
    g.owner = owner
    return owner


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
    """Apply the fault this request draws, if any; a dropped connection returns a stub.

    ``ack-lost`` returns None: the request is carried out (a create stores and charges its
    job, and ``g.job_id`` names it in the journal), then the middleware drops the answer."""
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
    kind = faults.apply(chosen, gone=faults.client_gone(request.environ))
    if kind is None:
        return None
    request.environ[faults.DROP_KEY] = kind
    if kind == faults.ACK_LOST:
        return None
    return Response(b"", status=200)


def service() -> JobService:
    """Return the job flow over this app's parts."""
    app = current_app
    return JobService(
        extensions.store(app),
        extensions.clock(app),
        extensions.dispatcher(app),
        app.config["PRICES"],
    )


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
        valid = validate_create(
            body,
            profile=runtime.profile,
            uploads=uploads.image_lookup(),
            unknown_models=current_app.config["UNKNOWN_MODELS"],
            strict_args=runtime.strict_args,
        )
    except ApiError as error:
        g.problems = error.problems
        raise
    g.problems = valid.warnings
    jobs = service()
    chosen = jobs.scenario(
        request.headers.get(scenarios.HEADER),
        valid.args.get("prompt"),
        lambda: _take("scenario", owner, "create"),
    )
    g.scenario = ",".join(chosen) or None
    name = key_name(request.headers.get("Authorization"), current_app.config["API_KEYS"])
    job = jobs.create(owner, valid, chosen, runtime, _base_url(), key_name=name)
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
        raise ApiError(400, INVALID_PARAMETER, hints.missing_id(request.args))
    if hints.placeholder_id(job_id):  # an unknown id as any other, with the hint
        raise ApiError(404, NOT_FOUND, hints.missing_id(request.args))
    runtime = _snapshot()[0]
    job, now = service().query(owner, job_id, runtime)
    g.job_id = job.id
    current = lifecycle.status(job, runtime, now)
    data = lifecycle.data_for(job, current, runtime, _base_url())
    # The per-poll clock stands still, so the journal's clock would say every poll came at
    # once: it is left out, and the poll-rate check skips those entries. The journal keeps
    # the status number whatever form the answer gives it.
    g.job_status = lifecycle.number(current, runtime)
    g.clock = None if runtime.clock == "per-poll" else now
    return jsonify({"code": 0, "data": data})


def _base_url() -> str:
    public: str | None = current_app.config["PUBLIC_URL"]
    if public:
        return public.rstrip("/")
    return _host_url(request.scheme, request.environ.get("HTTP_HOST") or request.host)


@functools.lru_cache(maxsize=256)
def _host_url(scheme: str, host: str) -> str:
    return f"{scheme}://{host}"


@bp.get("/openapi.json")
def openapi() -> Response:
    """Serve the OpenAPI document, bundled, with one request branch per model (their args as
    the mock reads them: lenient unless strict args)."""
    runtime = _snapshot()[0]
    document = schemas.bundled_openapi(
        ((m.id, m.args_schema) for m in MODELS.values()),
        strict_args=reads_strictly(runtime.profile, runtime.strict_args),
    )
    document["servers"] = [{"url": request.host_url.rstrip("/")}, *document.get("servers", [])]
    return jsonify(document)
