"""The parts an app carries in `app.extensions`: the only place their keys are spelled.

Each part attaches once in `create_app` (`app.py`) and is read back with the typed getter
here. The imports below are for type checking only, so any layer may import this module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from flask import Flask

    from mock_server.bounds import KeptErrors
    from mock_server.callbacks.dispatcher import Dispatcher
    from mock_server.clock import Clock
    from mock_server.control.mock_control import MockControl
    from mock_server.state.protocol import Store

STORE = "shortapi.store"
CLOCK = "shortapi.clock"
DISPATCHER = "shortapi.callbacks"
CONTROL = "shortapi.control"
ERRORS = "shortapi.errors"  # exceptions raised while serving, kept for `MockHandle.check()`


def attach(app: Flask, name: str, part: Any) -> None:
    """Attach `part` to `app` under `name` (one of the keys above)."""
    app.extensions[name] = part


def _part(app: Flask, name: str) -> Any:
    return app.extensions[name]


def store(app: Flask) -> Store:
    """Return the app's store."""
    return cast("Store", _part(app, STORE))


def clock(app: Flask) -> Clock:
    """Return the app's clock."""
    return cast("Clock", _part(app, CLOCK))


def dispatcher(app: Flask) -> Dispatcher:
    """Return the app's callback dispatcher."""
    return cast("Dispatcher", _part(app, DISPATCHER))


def control(app: Flask) -> MockControl:
    """Return the app's control API."""
    return cast("MockControl", _part(app, CONTROL))


def errors(app: Flask) -> KeptErrors:
    """Return the newest exceptions raised while serving (kept until a test checks them)."""
    return cast("KeptErrors", _part(app, ERRORS))
