"""The mock inside a client's tests: a handle, a threaded server, in-process routers, the
callback receiver, response variants, client-contract checks and the pytest plugin.

    with ThreadedServer(create_app(TEST_CONFIG)) as server:
        mock = MockHandle(server.app, server.base_url)
        ...                       # point the client at mock.base_url
        mock.run_all(); mock.check()
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

# Each name is imported from its module on first use (PEP 562): the pytest plugin is a part
# of this package, and a client's test run that never asks for a fixture loads no Flask.
_HOMES = {
    "TEST_CONFIG": "handle",
    "TEST_KEY": "handle",
    "MockHandle": "handle",
    "ServerError": "handle",
    "server_errors": "handle",
    "API_URL": "routers",
    "call_app": "routers",
    "httpx_handler": "routers",
    "httpx_transport": "routers",
    "responses_router": "routers",
    "respx_router": "routers",
    "ThreadedServer": "servers",
}
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


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(import_module(f"mock_server.testing.{_HOMES[name]}"), name)
    raise AttributeError(f"module 'mock_server.testing' has no attribute {name!r}")
