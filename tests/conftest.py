"""Shared fixtures: the app on each store and a test client."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mock_server import close_app, create_app


@pytest.fixture(params=["memory", "sqlite"])
def store_url(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    """Every test using the app runs against both stores."""
    return "memory" if request.param == "memory" else f"sqlite:{tmp_path}/state.db"


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
