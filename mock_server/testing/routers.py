"""In-process routes into the app: `responses` for requests, respx and a transport for httpx."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from flask import Flask

API_URL = "https://api.shortapi.ai"
NEEDS_HTTPX_EXTRA = (
    "shortapi_httpx needs respx, the kit's httpx extra: pip install 'shortapi-mock[httpx]'"
)


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


def import_respx() -> Any:
    """Return the respx module, or raise ImportError naming the extra that installs it."""
    try:
        import respx
    except ImportError as exc:
        raise ImportError(NEEDS_HTTPX_EXTRA) from exc
    return respx


@contextmanager
def respx_router(app: Flask, base_urls: tuple[str, ...] = (API_URL,)) -> Iterator[Any]:
    """Route every httpx call (sync and async) to `base_urls` into `app` with respx."""
    respx = import_respx()
    handle = httpx_handler(app)
    with respx.mock(assert_all_called=False, assert_all_mocked=False) as router:
        for base in base_urls:
            router.route(url__startswith=base.rstrip("/")).mock(side_effect=handle)
        router.route().pass_through()
        yield router
