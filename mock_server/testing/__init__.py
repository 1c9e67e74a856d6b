"""The mock inside a client's tests: a handle, a threaded server, in-process routers, the
callback receiver, response variants, client-contract checks and the pytest plugin.

    with ThreadedServer(create_app(TEST_CONFIG)) as server:
        mock = MockHandle(server.app, server.base_url)
        ...                       # point the client at mock.base_url
        mock.run_all(); mock.check()
"""

from __future__ import annotations

from mock_server.testing.handle import (
    TEST_CONFIG,
    TEST_KEY,
    MockHandle,
    ServerError,
    server_errors,
)
from mock_server.testing.routers import (
    API_URL,
    call_app,
    httpx_handler,
    httpx_transport,
    responses_router,
    respx_router,
)
from mock_server.testing.servers import ThreadedServer

__all__ = [
    "API_URL",
    "TEST_CONFIG",
    "TEST_KEY",
    "MockHandle",
    "ServerError",
    "ThreadedServer",
    "call_app",
    "httpx_handler",
    "httpx_transport",
    "responses_router",
    "respx_router",
    "server_errors",
]
