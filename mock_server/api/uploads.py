"""Image uploads (A-image-upload): ``POST /api/v1/image/send`` takes a multipart ``file`` and
answers ``{"code": 0, "data": {"url": ...}}``, a URL on the mock that serves the image (as a
CDN would: no key needed). Clients upload this way before they create jobs (vispicy
``lib/shortapi.ts``).

The bytes are checked as create checks a data: URI (`validation/images.py`) and kept in the
store (the newest `UPLOADS_KEPT`, at most `UPLOADS_KEPT_BYTES`), so every worker on one
SQLite file serves them. An upload's id is its content's hash: the same image gets the same
URL. `image_lookup` lets create check the mock's own upload URLs by their stored bytes.
"""

from __future__ import annotations

import hashlib
import re
from typing import NoReturn
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, g, jsonify, request

from mock_server import extensions
from mock_server.api.auth import authenticate
from mock_server.errors import BAD_REQUEST, NOT_FOUND, ApiError, Problem, validation_error
from mock_server.state.protocol import Upload
from mock_server.validation import images

bp = Blueprint("uploads", __name__)

SEND_PATH = "/api/v1/image/send"
FILES_PATH = "/files/uploads/"
FIELD = "file"
# A request larger than the largest image plus room for the multipart framing is refused
# before it is read.
BODY_LIMIT = images.MAX_BYTES + 64 * 1024
_NAME = re.compile(r"([0-9a-f]{32})\.(png|jpg|webp)")


@bp.post(SEND_PATH)
def send_image() -> Response:
    """Check and keep an uploaded image; answer the URL that serves it."""
    g.owner = authenticate(request.headers.get("Authorization"), current_app.config["API_KEYS"])
    if request.mimetype != "multipart/form-data":
        raise ApiError(
            415,
            BAD_REQUEST,
            f"unsupported content type {request.mimetype or '(none)'!r}; send the image as "
            f"multipart/form-data with the file in the field {FIELD!r}",
        )
    size = request.content_length
    if size is not None and size > BODY_LIMIT:
        raise ApiError(
            413,
            BAD_REQUEST,
            f"upload too large ({size:,} bytes); send one image file of at most 10 MB",
            headers={"Connection": "close"},  # the body was not read
        )
    storage = request.files.get(FIELD)
    if storage is None:
        sent = sorted({*request.files, *request.form})
        g.body = _summary("no file", sent)
        as_text = f"; {FIELD!r} came as a text field: send it as a file part" * (
            FIELD in request.form
        )
        _reject(
            Problem(
                "upload.file_required",
                f"/{FIELD}",
                f"{FIELD} is required; send the image as a file in the multipart field "
                f"{FIELD!r} (fields sent: {', '.join(sent) or 'none'}){as_text}",
            )
        )
    data = storage.stream.read(images.MAX_BYTES + 1)
    g.body = _summary(f"file {storage.filename!r} ({storage.mimetype or 'no type'})", [], data)
    info, problems = images.check_bytes(data, f"/{FIELD}")
    if info is None or problems:
        _reject(*problems)
    upload = Upload(hashlib.sha256(data).hexdigest()[:32], info.content_type, data)
    config = current_app.config
    extensions.store(current_app).put_upload(
        upload, max_count=config["UPLOADS_KEPT"], max_bytes=config["UPLOADS_KEPT_BYTES"]
    )
    return jsonify({"code": 0, "data": {"url": f"{_base_url()}{FILES_PATH}{_name(upload)}"}})


def _reject(*problems: Problem) -> NoReturn:
    g.problems = problems
    raise validation_error(problems)


def _summary(what: str, fields: list[str], data: bytes = b"") -> bytes:
    """What the journal keeps of an upload: a line, never the multipart body."""
    size = f", {len(data):,} bytes" if data else ""
    listed = f" (fields: {', '.join(fields)})" if fields else ""
    return f"[multipart upload: {what}{size}{listed}]".encode()


@bp.get(f"{FILES_PATH}<name>")
def uploaded_file(name: str) -> Response:
    """Serve an uploaded image with its content type, cacheable, conditional and ranged."""
    match = _NAME.fullmatch(name)
    upload = extensions.store(current_app).get_upload(match.group(1)) if match else None
    if upload is None or _name(upload) != name:
        raise ApiError(
            404,
            NOT_FOUND,
            "no such upload (unknown, or dropped as one of the oldest); upload the image with "
            f"POST {SEND_PATH} and use the URL it answers",
        )
    response = Response(upload.data, mimetype=upload.content_type)
    response.set_etag(upload.id)
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    response.make_conditional(request, accept_ranges=True, complete_length=len(upload.data))
    return response


def _name(upload: Upload) -> str:
    extension = images.EXTENSIONS[images.DATA_TYPES[upload.content_type]]
    return f"{upload.id}.{extension}"


def _base_url() -> str:
    public: str | None = current_app.config["PUBLIC_URL"]
    if public:
        return public.rstrip("/")
    return f"{request.scheme}://{request.environ.get('HTTP_HOST') or request.host}"


def image_lookup() -> images.Lookup:
    """Return the lookup create's validation uses: the stored bytes of this mock's upload
    URLs (by host: the request's own or PUBLIC_URL's), None for any other URL."""
    store = extensions.store(current_app)
    hosts = {urlsplit(_base_url()).netloc.lower(), request.host.lower()}

    def lookup(url: str) -> bytes | None:
        try:
            parts = urlsplit(url)
        except ValueError:
            return None
        name = parts.path.removeprefix(FILES_PATH)
        match = _NAME.fullmatch(name) if parts.path.startswith(FILES_PATH) else None
        if match is None or parts.netloc.lower() not in hosts:
            return None
        upload = store.get_upload(match.group(1))
        if upload is None or _name(upload) != name:
            raise KeyError(url)
        return upload.data

    return lookup
