"""shortapi-mock: a fake of the shortapi.ai job API and a contract-testing kit for it.

`create_app` is imported on first use, so importing a part (`mock_server.validation`, say)
does not load Flask and the whole app.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mock_server.version import __version__

if TYPE_CHECKING:
    from mock_server.app import close_app, create_app

__all__ = ["__version__", "close_app", "create_app"]


def __getattr__(name: str) -> Any:
    if name in ("create_app", "close_app"):
        from mock_server import app

        return getattr(app, name)
    raise AttributeError(f"module 'mock_server' has no attribute {name!r}")
