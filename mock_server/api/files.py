"""The result files the mock serves, as a CDN would: no key needed, cacheable, ranges."""

from __future__ import annotations

from flask import Blueprint, Response, g, send_file

from mock_server.api.routes import service
from mock_server.catalog.registry import MODELS
from mock_server.data.videos import video_path

bp = Blueprint("files", __name__)


@bp.get("/files/<job_id>.mp4")
def result_file(job_id: str) -> Response:
    """Serve a succeeded job's result video."""
    job = service().succeeded(job_id)
    g.job_id = job.id
    spec = MODELS[job.model]
    path = video_path(spec.aspect_ratio(job.args), spec.duration(job.args))
    response = send_file(
        path, mimetype="video/mp4", conditional=True, max_age=3600, download_name=f"{job.id}.mp4"
    )
    del response.headers["Date"]  # the HTTP server adds its own; two confuse clients
    return response
