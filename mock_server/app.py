"""The app factory: `create_app` wires every part into one Flask app; `close_app` ends it."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from flask import Flask


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Create the mock's Flask app; `config` overrides `mock_server.config.DEFAULTS`."""
    from mock_server import clock, errors
    from mock_server import config as settings
    from mock_server.api import admin, dashboard, journal, routes
    from mock_server.callbacks import dispatcher as callbacks
    from mock_server.control.faults import DropConnection
    from mock_server.control.mock_control import MockControl
    from mock_server.state import records as store

    app = Flask("mock_server", static_folder=None)  # the dashboard serves its own under /_mock/
    app.config.from_mapping(settings.DEFAULTS)
    app.config.update(config or {})
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.compact = True  # type: ignore[attr-defined]
    app.url_map.strict_slashes = False
    settings.check(app.config)
    store.init_app(app)
    clock.init_app(app)
    app.extensions["shortapi.control"] = MockControl(app)
    if app.config["STORE_INIT"]:
        wall = app.extensions["shortapi.clock"].wall()
        _init_runtime(app, settings.runtime_from(app.config, wall))
    callbacks.init_app(app)
    errors.init_app(app)
    journal.init_app(app)
    app.wsgi_app = DropConnection(app.wsgi_app)  # type: ignore[method-assign]
    app.register_blueprint(routes.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(dashboard.bp)
    return app


def _init_runtime(app: Flask, configured: Any) -> None:
    """Apply configured settings, keeping the clock's time if the store has one (restart)."""
    from mock_server.clock import now_of
    from mock_server.state.records import get_store

    def merge(current: Any) -> Any:
        if current.origin_wall == 0.0:  # a new store
            return configured
        configured.offset = now_of(
            current, time.time() if configured.origin_wall == 0 else configured.origin_wall
        )
        return configured

    get_store(app).update_runtime(merge)
