"""The result files the mock serves, as a CDN would: no key needed, cacheable, ranges.

Which files a job has, and what each holds, is `jobs/results.py`'s: ``/files/<job_id>.mp4``
for a video job, ``/files/<job_id>/<n>.<ext>`` for images, ``/files/<job_id>/music-<n>.wav``
and ``/files/<job_id>/cover-<n>.jpg`` for songs. Only a succeeded job has files; anything
else answers 404 in the API's envelope.
"""

from __future__ import annotations

from flask import Blueprint, Response, g, request

from mock_server.api.routes import service
from mock_server.errors import NOT_FOUND, ApiError
from mock_server.jobs import results

bp = Blueprint("files", __name__)
MAX_AGE = 3600


@bp.get("/files/<job_id>.mp4")
def result_file(job_id: str) -> Response:
    """Serve a succeeded job's result video."""
    return _serve(job_id, f"{job_id}.mp4")


@bp.get("/files/<job_id>/<name>")
def job_file(job_id: str, name: str) -> Response:
    """Serve one of a succeeded job's result images, songs or covers."""
    return _serve(job_id, f"{job_id}/{name}")


def _serve(job_id: str, name: str) -> Response:
    job = service().succeeded(job_id)
    g.job_id = job.id
    found = results.result_file(job, name)
    if found is None:
        listed = ", ".join(f"/files/{n}" for n in results.file_names(job))
        raise ApiError(404, NOT_FOUND, f"job {job.id} has no file /files/{name}; it has {listed}")
    response = Response(found.data, mimetype=found.mimetype)
    response.set_etag(found.etag)
    response.cache_control.public = True
    response.cache_control.max_age = MAX_AGE
    response.headers.set("Content-Disposition", "inline", filename=name.replace("/", "-"))
    response.make_conditional(request, accept_ranges=True, complete_length=len(found.data))
    del response.headers["Date"]  # the HTTP server adds its own; two confuse clients
    return response
