"""Shared fixtures: the app on each store and a test client; a real redis-server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis_server
from flask import Flask
from flask.testing import FlaskClient

from mock_server import close_app, create_app

STORES = ["memory", "sqlite"]
# Modules whose app tests also run on the Redis store: those that exercise shared state
# (accounts, injections, callbacks, the clock, uploads, the admin API); tests/test_store.py
# runs its whole suite on Redis besides. About 15 s more in all.
REDIS_MODULES = {
    "test_store",
    "test_accounts",
    "test_scenarios",
    "test_faults",
    "test_callbacks_delivery",
    "test_clock",
    "test_admin",
    "test_callbacks",
    "test_uploads",
}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run every test using `store_url` on memory and SQLite, and on Redis in REDIS_MODULES."""
    if "store_url" in metafunc.fixturenames:
        module = metafunc.module.__name__.rsplit(".", 1)[-1]
        stores = [*STORES, "redis"] if module in REDIS_MODULES else STORES
        metafunc.parametrize("store_url", stores, indirect=True)


@pytest.fixture(scope="session")
def redis_server_session() -> Iterator[redis_server.RedisServer]:
    """One redis-server for the session (skips where redis-server is not installed)."""
    if redis_server.find() is None:
        pytest.skip(redis_server.SKIP_REASON)
    with redis_server.running() as server:
        yield server


@pytest.fixture
def redis_url(redis_server_session: redis_server.RedisServer) -> str:
    """The URL of an empty Redis database (flushed before the test)."""
    client = redis_server_session.client()
    client.flushdb()
    client.close()
    return redis_server_session.url()


@pytest.fixture
def store_url(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    """The store a test using the app runs against (parametrized by pytest_generate_tests)."""
    kind = getattr(request, "param", "memory")
    if kind == "redis":
        return str(request.getfixturevalue("redis_url"))
    return "memory" if kind == "memory" else f"sqlite:{tmp_path}/state.db"


@pytest.fixture
def make_app(store_url: str) -> Iterator[Callable[..., Flask]]:
    """Return a factory of apps on the parametrized store, closed after the test."""
    apps: list[Flask] = []

    def make(**config: Any) -> Flask:
        app = create_app({"STORE": store_url, "CLOCK": "manual", **config})
        apps.append(app)
        return app

    yield make
    for app in apps:
        close_app(app)


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    """The mock on a manual clock."""
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client of `app`."""
    return app.test_client()
