"""The real API's routes: create and query jobs, plus the result files and /openapi.json."""

from __future__ import annotations

import secrets
import time
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request, send_file, url_for

from . import lifecycle, schemas
from .auth import authenticate
from .clock import get_clock
from .errors import INVALID_PARAMETER, NOT_FOUND, ApiError, problems_header
from .models import MODELS
from .pricing import amount
from .store import Job, Runtime, get_store
from .validation import parse_json_body, validate_create
from .videos import video_path

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


@bp.post("/api/v1/job/create")
def create_job() -> Response:
    """Validate a create request, store the job and answer its id and amount."""
    owner = _owner()
    g.body = request.get_data()
    body = parse_json_body(request.content_type, g.body)
    runtime = get_store(current_app).runtime()
    try:
        valid = validate_create(body, profile=runtime.profile)
    except ApiError as error:
        g.problems = error.problems
        raise
    g.problems = valid.warnings
    clock = get_clock(current_app)
    job = Job(
        id=secrets.token_hex(16),
        owner=owner,
        model=valid.model.id,
        args=valid.args,
        amount=amount(valid.model, valid.args, current_app.config["PRICES"]),
        created_at=clock.now(runtime),
        created_wall=time.time(),
        queued_for=runtime.queued_for,
        processing_for=runtime.processing_for,
        callback_url=valid.callback_url,
        warnings=[p.as_dict() for p in valid.warnings],
    )
    get_store(current_app).add_job(job)
    g.job_id = job.id
    response = jsonify({"code": 0, "data": {"amount": job.amount, "job_id": job.id}})
    if valid.warnings:
        response.headers["X-Mock-Warnings"] = problems_header(valid.warnings)
    return response


@bp.get("/api/v1/job/query")
def query_job() -> Response:
    """Answer a job's current status (and result or failure)."""
    owner = _owner()
    job_id = request.args.get("id", "")
    if not job_id.strip():
        raise ApiError(
            400,
            INVALID_PARAMETER,
            "id is required; query /api/v1/job/query?id=<job_id returned by create>",
        )
    store = get_store(current_app)
    job = store.get_job(job_id)
    if job is None or job.owner != owner:
        raise _unknown_job(job_id)
    g.job_id = job.id
    runtime = store.runtime()
    if runtime.clock == "per-poll":
        job.polls = store.bump_polls(job.id)
    now = get_clock(current_app).now(runtime)
    return jsonify({"code": 0, "data": lifecycle.job_data(job, runtime, now, file_url(job))})


def file_url(job: Job) -> str:
    """Return the URL of the job's result video."""
    base = current_app.config["PUBLIC_URL"]
    if base:
        return f"{base.rstrip('/')}/files/{job.id}.mp4"
    return url_for("api.result_file", job_id=job.id, _external=True)


def result_video(job: Job, runtime: Runtime) -> Any:
    """Return the path of a succeeded job's MP4, or raise 404."""
    now = get_clock(current_app).now(runtime)
    if lifecycle.status(job, runtime, now) != lifecycle.SUCCEEDED:
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
    store = get_store(current_app)
    job = store.get_job(job_id)
    if job is None:
        raise _unknown_job(job_id)
    g.job_id = job.id
    path = result_video(job, store.runtime())
    return send_file(
        path, mimetype="video/mp4", conditional=True, max_age=3600, download_name=f"{job.id}.mp4"
    )


@bp.get("/openapi.json")
def openapi() -> Response:
    """Serve the OpenAPI document, bundled, with one request branch per model."""
    document = schemas.bundled_openapi((m.id, m.args_schema) for m in MODELS.values())
    document["servers"] = [{"url": request.host_url.rstrip("/")}, *document.get("servers", [])]
    return jsonify(document)
