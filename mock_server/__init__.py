"""shortapi-mock: a fake of the shortapi.ai job API and a contract-testing kit for it."""

from __future__ import annotations

from mock_server.app import create_app
from mock_server.version import __version__

__all__ = ["__version__", "create_app"]
