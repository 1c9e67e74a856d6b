"""The mock inside a client's tests: a threaded server, in-process routers, one control API.

`plugin.py` wires these into pytest fixtures; they work without pytest too:

    with ThreadedServer(create_app(TEST_CONFIG)) as server:
        mock = MockHandle(server.app, server.base_url)
        ...                       # point the client at mock.base_url
        mock.run_all(); mock.check()
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from . import contract
from .callbacks import get_dispatcher
from .control import MockControl, get_control, key_id
from .errors import MockError
from .receiver import BackgroundServer

API_URL = "https://api.shortapi.ai"
TEST_KEY = "sk-test-shortapi-mock"
TEST_CONFIG: dict[str, Any] = {"STORE": "memory", "CLOCK": "manual"}


class ServerError(MockError):
    """An exception raised inside the mock while it served the test (never lost)."""


def server_errors(app: Flask) -> list[BaseException]:
    """Return the exceptions raised in the app's request handlers and background thread."""
    return [*app.extensions.setdefault("shortapi.errors", []), *get_dispatcher(app).errors]


class MockHandle:
    """What a test holds: where the mock is, its key, and every control."""

    def __init__(self, app: Flask, base_url: str, *, api_key: str = TEST_KEY) -> None:
        self.app = app
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.check_on_teardown = True
        self.sleeps: list[float] = []

    @property
    def control(self) -> MockControl:
        """The full Python control API."""
        return get_control(self.app)

    @property
    def headers(self) -> dict[str, str]:
        """The Authorization header with this test's key."""
        return {"Authorization": f"Bearer {self.api_key}"}

    def url(self, path: str) -> str:
        """Return the absolute URL of `path` on the mock."""
        return self.base_url + path

    # time
    def now(self) -> float:
        """Return the mock's clock time."""
        return self.control.now()

    def advance(self, seconds: float) -> float:
        """Move the clock; status changes and due callbacks happen before it returns."""
        return self.control.advance(seconds)

    def sleep(self, seconds: float) -> None:
        """Advance the clock by `seconds`: pass as a client's ``sleep`` (recorded in `sleeps`)."""
        self.sleeps.append(seconds)
        self.control.advance(seconds)

    def run_all(self) -> float:
        """Run every job and callback to completion (stuck jobs aside); return the time."""
        return self.control.run_all()

    def set_clock(self, mode: str, *, speed: float | None = None) -> None:
        """Switch to "manual", "per-poll" or "realtime" (x `speed`)."""
        self.control.set_clock(mode, speed=speed)

    def configure(self, **settings: Any) -> None:
        """Set profile, result_key, callback_events, queued_seconds, processing_seconds."""
        self.control.configure(**settings)

    # fates and faults (scoped to this test's key unless `key` says otherwise)
    def scenario(self, scenario: str, *, count: int | None = 1, key: str | None = "") -> None:
        """Give the next `count` jobs (None: all) this scenario, e.g. "fail:timeout"."""
        self.control.add_scenario(scenario, count=count, key=self._key(key))

    def fault(
        self, fault: str, *, count: int | None = 1, endpoint: str = "any", key: str | None = ""
    ) -> None:
        """Answer the next `count` requests to `endpoint` with `fault`, e.g. "503"."""
        self.control.add_fault(fault, count=count, endpoint=endpoint, key=self._key(key))

    def random_faults(self, spec: dict[str, Any], *, key: str | None = "") -> None:
        """Draw faults at random: {"seed": 1, "create": {"503": 0.1}, "query": {...}}."""
        self.control.set_random_faults(spec, key=self._key(key))

    def account(
        self, *, balance: str | None = None, max_in_flight: int | None = None
    ) -> dict[str, Any]:
        """Set this key's balance and jobs-in-flight limit; None means unlimited."""
        return self.control.set_account(self.api_key, balance=balance, max_in_flight=max_in_flight)

    def _key(self, key: str | None) -> str | None:
        return self.api_key if key == "" else key

    # what happened
    def jobs(self) -> list[dict[str, Any]]:
        """Return this key's jobs, newest first."""
        return self.control.jobs(key=key_id(self.api_key), limit=10_000)

    def requests(self) -> list[dict[str, Any]]:
        """Return the request journal, oldest first."""
        return self.control.journal(limit=100_000)

    def callbacks(self) -> list[dict[str, Any]]:
        """Return every callback delivery with its attempts."""
        return self.control.deliveries(limit=100_000)

    def violations(self) -> list[contract.Violation]:
        """Return the contract breaks in the requests so far."""
        return contract.violations(self.requests())

    def expect_violations(self) -> None:
        """Do not fail the test at teardown for contract breaks (a test of bad requests)."""
        self.check_on_teardown = False

    def check(self) -> None:
        """Raise if the mock raised, or if the client broke the contract (AssertionError)."""
        errors = server_errors(self.app)
        if errors:
            raise ServerError(
                f"the mock raised {len(errors)} error(s) while serving: {errors[0]!r}"
            ) from errors[0]
        found = self.violations()
        if found:
            raise contract.ContractViolation(found)

    def reset(self) -> None:
        """Forget jobs, journal, rules and accounts; restore the configured settings."""
        self.control.reset()
        self.app.extensions.setdefault("shortapi.errors", []).clear()
        get_dispatcher(self.app).errors.clear()
        self.sleeps.clear()


class _QuietHandler(WSGIRequestHandler):
    """werkzeug's handler without a log line per request (the journal has them)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Log nothing."""


class ThreadedServer:
    """The app served by werkzeug's threaded server on a random loopback port."""

    def __init__(
        self, app: Flask, *, host: str = "127.0.0.1", port: int = 0, poll_interval: float = 0.05
    ) -> None:
        self.app = app
        self._server: BaseWSGIServer = make_server(
            host, port, app, threaded=True, request_handler=_QuietHandler
        )
        self._background = BackgroundServer(
            self._server, name="shortapi-mock-server", poll_interval=poll_interval
        )

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://{self._server.host}:{self._server.port}"

    def start(self) -> ThreadedServer:
        """Serve in a daemon thread."""
        self._background.start()
        return self

    def stop(self) -> None:
        """Stop serving, close the port and stop the callback thread."""
        self._background.stop()
        get_dispatcher(self.app).stop()

    def __enter__(self) -> ThreadedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def call_app(
    app: Flask, method: str, url: str, headers: Mapping[str, str], body: bytes | None
) -> tuple[int, list[tuple[str, str]], bytes]:
    """Run one request through the WSGI app in process; return status, headers, body.

    A dropped-connection fault raises ConnectionResetError / ConnectionAbortedError.
    """
    parts = urlsplit(url)
    environ_base = {"REMOTE_ADDR": "127.0.0.1"}
    client = app.test_client()
    response = client.open(
        parts.path or "/",
        method=method,
        query_string=parts.query,
        headers=dict(headers),
        data=body or b"",
        base_url=f"{parts.scheme}://{parts.netloc}",
        environ_base=environ_base,
    )
    try:
        return response.status_code, list(response.headers.items()), response.get_data()
    finally:
        response.close()


@contextmanager
def responses_router(app: Flask, base_urls: tuple[str, ...] = (API_URL,)) -> Iterator[Any]:
    """Route `requests` calls to `base_urls` into `app` with `responses`; yield the mock."""
    import requests
    import responses

    def dispatch(request: Any) -> tuple[int, dict[str, str], bytes]:
        body = request.body.encode() if isinstance(request.body, str) else request.body
        try:
            status, headers, content = call_app(
                app, request.method, request.url, request.headers, body
            )
        except (ConnectionResetError, ConnectionAbortedError) as exc:
            raise requests.ConnectionError(str(exc), request=request) from exc
        return status, dict(headers), content

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        for base in base_urls:
            pattern = re.compile(re.escape(base.rstrip("/")) + r"(/.*)?$")
            for method in ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"):
                mock.add_callback(method, pattern, callback=dispatch)
        yield mock


def httpx_handler(app: Flask) -> Any:
    """Return a function turning an ``httpx.Request`` into an ``httpx.Response`` via `app`."""
    import httpx

    def handle(request: httpx.Request) -> httpx.Response:
        try:
            status, headers, content = call_app(
                app, request.method, str(request.url), request.headers, request.read()
            )
        except (ConnectionResetError, ConnectionAbortedError) as exc:
            raise httpx.RemoteProtocolError(str(exc), request=request) from exc
        return httpx.Response(status, headers=headers, content=content, request=request)

    return handle


def httpx_transport(app: Flask) -> Any:
    """Return an ``httpx.MockTransport`` serving `app` (use with Client and AsyncClient)."""
    import httpx

    return httpx.MockTransport(httpx_handler(app))


@contextmanager
def respx_router(app: Flask, base_urls: tuple[str, ...] = (API_URL,)) -> Iterator[Any]:
    """Route every httpx call (sync and async) to `base_urls` into `app` with respx."""
    import respx

    handle = httpx_handler(app)
    with respx.mock(assert_all_called=False, assert_all_mocked=False) as router:
        for base in base_urls:
            router.route(url__startswith=base.rstrip("/")).mock(side_effect=handle)
        router.route().pass_through()
        yield router


__all__ = [
    "API_URL",
    "TEST_CONFIG",
    "TEST_KEY",
    "MockHandle",
    "ServerError",
    "ThreadedServer",
    "call_app",
    "httpx_transport",
    "responses_router",
    "respx_router",
]
