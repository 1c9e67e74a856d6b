"""The WSGI side of the front worker (`front.py`): a request read in full becomes an
environ, the app's answer is collected whole on a worker thread, and what the loop itself
refuses gets the API's error envelope."""

from __future__ import annotations

import asyncio
import io
import sys
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_to_bytes

import h11

from mock_server.control.faults import CLOSE_KEY
from mock_server.errors import code_for_status, envelope_bytes


def error_answer(status: int, message: str) -> tuple[int, list[tuple[str, str]], bytes]:
    """Return the API's error envelope for a request the parser refused."""
    code = code_for_status(status)
    body = envelope_bytes(code, message)
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    return status, [*headers, ("Connection", "close")], body


class Answer:
    """What the app answered: status, headers and body, or how to drop the connection."""

    def __init__(self) -> None:
        self.status = 500
        self.reason = b""
        self.headers: list[tuple[str, str]] = []
        self.body = b""
        self.drop: str | None = None  # "reset" or "close": no answer at all


def run_app(app: Callable[..., Any], environ: dict[str, Any]) -> Answer:
    """Call the WSGI `app` (on a worker thread) and collect its whole answer."""
    answer = Answer()

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        code, _, reason = status.partition(" ")
        answer.status, answer.reason = int(code), reason.encode("latin-1")
        answer.headers = list(headers)
        return lambda _data: None  # no write() users here

    def close(reset: bool) -> None:
        answer.drop = "reset" if reset else "close"

    environ[CLOSE_KEY] = close
    result = app(environ, start_response)
    try:
        answer.body = b"".join(result)
    finally:
        if hasattr(result, "close"):
            result.close()
    return answer


def wsgi_environ(
    request: h11.Request, body: io.BytesIO, transport: asyncio.Transport
) -> dict[str, Any]:
    """Return the WSGI environ of a request read in full."""
    target = request.target
    path, _, query = target.partition(b"?")
    server = transport.get_extra_info("sockname") or ("", 0)
    peer = transport.get_extra_info("peername") or ("", 0)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": request.method.decode("ascii"),
        "SCRIPT_NAME": "",
        "PATH_INFO": unquote_to_bytes(path).decode("latin-1"),
        "QUERY_STRING": query.decode("latin-1"),
        "RAW_URI": target.decode("latin-1"),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1]),
        "SERVER_PROTOCOL": f"HTTP/{request.http_version.decode('ascii')}",
        "REMOTE_ADDR": str(peer[0]),
        "REMOTE_PORT": str(peer[1]),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": body,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for raw_name, raw_value in request.headers:
        if b"_" in raw_name:  # as gunicorn: X_Forwarded_Proto must not pass for X-Forwarded-Proto
            continue
        name = raw_name.decode("latin-1").upper().replace("-", "_")
        value = raw_value.decode("latin-1")
        if name == "CONTENT_TYPE" or name == "CONTENT_LENGTH":
            environ[name] = value
            continue
        key = f"HTTP_{name}"
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    if "CONTENT_LENGTH" not in environ:
        environ["CONTENT_LENGTH"] = str(body.tell())
    body.seek(0)
    return environ
