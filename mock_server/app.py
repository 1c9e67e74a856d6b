"""The app factory: `create_app` wires every part into one Flask app; `close_app` ends it."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from flask import Flask

from mock_server import config as settings
from mock_server import extensions
from mock_server.api import (
    admin,
    cors,
    dashboard,
    envelope,
    files,
    forwarded,
    health,
    journal,
    replay,
    routes,
    skill,
    uploads,
)
from mock_server.bounds import KeptErrors
from mock_server.callbacks.dispatcher import Dispatcher
from mock_server.catalog import registry
from mock_server.clock import Clock, WallClock, now_of
from mock_server.control.faults import DropConnection
from mock_server.control.mock_control import MockControl
from mock_server.state import open_store
from mock_server.state.records import Runtime
from mock_server.validation import rules


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Create the mock's Flask app; `config` overrides `mock_server.config.DEFAULTS`."""
    app = Flask("mock_server", static_folder=None)  # the dashboard serves its own under /_mock/
    app.config.from_mapping(settings.DEFAULTS)
    app.config.update(config or {})
    app.json = envelope.StrictJSONProvider(app)  # no bare NaN in any answer
    app.json.sort_keys = False
    app.json.compact = True
    app.url_map.strict_slashes = False
    settings.check(app.config)
    if app.config["MODELS_DIR"]:  # user model files join the process's catalogue
        registry.load_models_dir(app.config["MODELS_DIR"], known_rules=rules.RULES)
    store = open_store(
        app.config["STORE"],
        journal_limit=app.config["JOURNAL_LIMIT"],
        max_jobs=app.config["MAX_JOBS"],
    )
    extensions.attach(app, extensions.STORE, store)
    extensions.attach(app, extensions.ERRORS, KeptErrors())
    wall: WallClock = app.config.get("WALL_CLOCK") or time.time
    extensions.attach(app, extensions.CLOCK, Clock(store, wall))
    extensions.attach(app, extensions.CONTROL, MockControl(app))
    if app.config["STORE_INIT"]:
        _init_runtime(app, settings.runtime_from(app.config, wall()))
    dispatcher = Dispatcher(app)
    extensions.attach(app, extensions.DISPATCHER, dispatcher)
    if app.config["BACKGROUND"]:
        dispatcher.start()
    envelope.init_app(app)
    cors.init_app(app)  # before the journal: its after-request hook runs after the journal's
    journal.init_app(app)
    if app.config["REPLAY_FILE"]:  # serve --replay: recorded jobs answer as recorded
        replay.init_app(app, app.config["REPLAY_FILE"])
    app.wsgi_app = DropConnection(app.wsgi_app)  # type: ignore[method-assign]
    app.wsgi_app = forwarded.ForwardedProto(app.wsgi_app)  # type: ignore[method-assign]
    app.register_blueprint(routes.bp)
    app.register_blueprint(files.bp)
    app.register_blueprint(uploads.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(skill.bp)
    app.register_blueprint(health.bp)
    return app


def close_app(app: Flask) -> None:
    """Stop the app's callback thread and close its store (flushing what it buffers)."""
    extensions.dispatcher(app).stop()
    extensions.store(app).close()


def _init_runtime(app: Flask, configured: Runtime) -> None:
    """Apply configured settings, keeping the clock's time if the store has one (restart)."""

    def merge(current: Runtime) -> Runtime:
        if current.origin_wall == 0.0:  # a new store
            return configured
        configured.offset = now_of(
            current, time.time() if configured.origin_wall == 0 else configured.origin_wall
        )
        return configured

    extensions.store(app).update_runtime(merge)
