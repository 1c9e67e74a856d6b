"""Run the app under granian (a Rust HTTP server with a WSGI interface), programmatically.

`serve --server granian`. Each worker process builds the app with the config `serve` passes
(`load`, handed to granian as its loader: no import string or environment carries it). The
access log is ours (`RedactingAccessLog`): granian's own prints the request line with the
keys in it, so it stays off. A granian worker gives WSGI no socket, so the connection cannot
be dropped: the faults ``reset``, ``empty`` and ``ack-lost`` answer the API's 500 envelope
instead (`NoDrops`; ``ack-lost`` still stores the job first).
"""

from __future__ import annotations

import errno
import logging
import re
import socket
import sys
import time
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

from mock_server.errors import SERVER_ERROR, envelope_bytes
from mock_server.keys import auth_secrets, redact

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
# Requests a worker takes in at once, per Python thread: enough to keep every thread busy
# at 16 connections, few enough that a queued request does not wait behind a long line.
BACKPRESSURE_PER_THREAD = 8
GRACEFUL_SECONDS = 5  # as gunicorn's graceful_timeout (gunicorn_app.options)
_ACCOUNT_PATH = re.compile(r"(/_mock/accounts/)(?!key_[0-9a-f]{12}\b)[^/?\s]+")


def redact_line(text: str, keys: list[str]) -> str:
    """Mask API keys in a request line: `keys`, Bearer tokens, /_mock/accounts/<key>."""
    return _ACCOUNT_PATH.sub(r"\1***", redact(text, keys))


def granian_flags(workers: int, threads: int) -> list[str]:
    """Return the granian command-line flags of `run`'s settings (the bench's bare app)."""
    return [
        "--interface",
        "wsgi",
        "--workers",
        str(workers),
        "--blocking-threads",
        str(threads),
        "--backpressure",
        str(threads * BACKPRESSURE_PER_THREAD),
        "--loop",
        "asyncio",
        "--log-level",
        "warning",
    ]


class NoDrops:
    """WSGI middleware: a connection-dropping fault, which granian cannot carry out, answers
    the API's 500 envelope (never granian's bare, empty 500)."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        try:
            return self.app(environ, start_response)
        except (ConnectionResetError, ConnectionAbortedError) as error:
            text = f"{error}; granian cannot drop a connection: serve with --server gunicorn"
            body = envelope_bytes(SERVER_ERROR, text)
            headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
            # Flask has called start_response already; nothing was sent, so it is replaced.
            start_response("500 INTERNAL SERVER ERROR", headers, sys.exc_info())
            return [body]


class RedactingAccessLog:
    """WSGI middleware: one access log line per request on stdout, API keys masked."""

    def __init__(self, app: WSGIApp, stream: Any = None) -> None:
        self.app = app
        self.stream = stream or sys.stdout

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        started = time.perf_counter()
        seen: list[str] = []

        def recording_start(status: str, headers: Any, exc_info: Any = None) -> Any:
            seen.append(status.split(" ", 1)[0])
            return start_response(status, headers, exc_info)

        result = self.app(environ, recording_start)
        keys = auth_secrets(environ.get("HTTP_AUTHORIZATION"))  # a malformed header's too
        query = environ.get("QUERY_STRING", "")
        line = (
            f"{environ.get('REQUEST_METHOD', '-')} {environ.get('PATH_INFO', '')}"
            f"{'?' + query if query else ''} {environ.get('SERVER_PROTOCOL', '-')}"
        )
        millis = (time.perf_counter() - started) * 1000
        status = seen[0] if seen else "-"
        client = environ.get("REMOTE_ADDR", "-")
        print(
            f'{client} "{redact_line(line, keys)}" {status} {millis:.1f}ms',
            file=self.stream,
            flush=True,
        )
        return result


def load(config: dict[str, Any], access_log: bool, *_target: Any) -> WSGIApp:
    """Build the app in a granian worker (the loader granian calls with its target)."""
    from mock_server import create_app

    app: WSGIApp = NoDrops(create_app(config))
    return RedactingAccessLog(app) if access_log else app


def bind_problem(host: str, port: int) -> str | None:
    """Say in one line why `serve` cannot listen on host:port (in use, no such address),
    or None: checked once before any worker starts, for every server."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host.strip("[]"), port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return (
                    f"{host}:{port} is in use (another server?): stop it, or pick another "
                    "--port (0 picks a free one)"
                )
            return f"cannot listen on {host}:{port}: {error.strerror or error}"
    return None


def resolve_port(host: str, port: int) -> int:
    """Return `port`, or a port free right now when it is 0 (granian binds a fixed port)."""
    if port:
        return port
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host.strip("[]"), 0))
        free: int = sock.getsockname()[1]
        return free


def run(
    config: dict[str, Any],
    *,
    host: str,
    port: int,
    workers: int,
    threads: int,
    access_log: bool,
    on_ready: Callable[[str], None],
) -> None:
    """Serve the app under granian with `workers` processes of `threads` Python threads."""
    from granian.constants import Interfaces, Loops
    from granian.log import LogLevels
    from granian.server import Server

    address = host.strip("[]")
    port = resolve_port(address, port)
    server = Server(
        "mock_server:create_app",  # not imported: `load` builds the app
        address=address,
        port=port,
        interface=Interfaces.WSGI,
        workers=workers,
        blocking_threads=threads,
        backpressure=threads * BACKPRESSURE_PER_THREAD,
        loop=Loops.asyncio,
        log_level=LogLevels.warning,
        log_access=False,
        # On SIGTERM the master waits this long for each worker, then kills it (without it,
        # a worker still finishing a callback attempt kept the master up, serving nothing).
        workers_kill_timeout=GRACEFUL_SECONDS,
    )
    logging.getLogger("_granian").setLevel(logging.WARNING)
    on_ready(f"http://[{address}]:{port}" if ":" in address else f"http://{address}:{port}")
    server.serve(target_loader=partial(load, config, access_log), wrap_loader=True)
