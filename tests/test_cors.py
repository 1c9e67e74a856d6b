"""Browser front-ends (``--cors``) and the container probe (``/healthz``)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from helpers import AUTH, body

from mock_server import close_app, create_app
from mock_server.serve import cli
from mock_server.version import __version__

ORIGIN = "http://localhost:5173"
PREFLIGHT = {
    "Origin": ORIGIN,
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization, content-type, x-mock-scenario, x-other",
}


def make(**config: Any) -> Flask:
    return create_app({"CLOCK": "manual", "BACKGROUND": False, **config})


@pytest.fixture
def cors_app() -> Any:
    app = make(CORS=True)
    yield app
    close_app(app)


def test_a_preflight_is_granted_with_cors_on(cors_app: Flask) -> None:
    answer = cors_app.test_client().options("/api/v1/job/create", headers=PREFLIGHT)
    assert answer.status_code == 204
    assert answer.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert answer.headers["Access-Control-Allow-Methods"] == "OPTIONS, POST"
    allowed = answer.headers["Access-Control-Allow-Headers"]
    assert allowed == "authorization, content-type, x-mock-scenario"  # not x-other


def test_answers_let_the_page_read_the_mocks_headers(cors_app: Flask) -> None:
    client = cors_app.test_client()
    created = client.post("/api/v1/job/create", json=body(), headers={**AUTH, "Origin": ORIGIN})
    assert created.status_code == 200
    assert created.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "X-Mock-Request-Id" in created.headers["Access-Control-Expose-Headers"]
    refused = client.post("/api/v1/job/create", json={}, headers={**AUTH, "Origin": ORIGIN})
    exposed = refused.headers["Access-Control-Expose-Headers"]
    assert refused.status_code == 400 and "X-Mock-Errors" in exposed


def test_the_admin_api_stays_closed_to_other_origins(cors_app: Flask) -> None:
    client = cors_app.test_client()
    answer = client.options("/_mock/health", headers=PREFLIGHT)
    assert answer.status_code == 403 and "Access-Control-Allow-Origin" not in answer.headers
    assert client.get("/_mock/health", headers={"Origin": ORIGIN}).status_code == 403


def test_without_cors_an_options_request_answers_the_envelope_without_grants() -> None:
    app = make()
    answer = app.test_client().options("/api/v1/job/create", headers=PREFLIGHT)
    assert answer.status_code == 200 and answer.is_json  # not Flask's empty HTML
    assert "serve --cors" in answer.json["message"]
    assert answer.headers["Allow"] == "OPTIONS, POST"
    assert not any(name.startswith("Access-Control") for name, _ in answer.headers.items())
    created = app.test_client().post(
        "/api/v1/job/create", json=body(), headers={**AUTH, "Origin": ORIGIN}
    )
    assert "Access-Control-Allow-Origin" not in created.headers
    close_app(app)


def test_serve_cors_reaches_the_config() -> None:
    parser = cli.build_parser()
    assert cli.app_config(parser.parse_args(["serve", "--cors"]))["CORS"] is True
    assert cli.app_config(parser.parse_args(["serve"]))["CORS"] is False


def test_healthz_is_open_on_any_bind_and_not_journaled() -> None:
    app = make(ADMIN_OPEN=False, ADMIN_TOKEN="secret", API_KEYS=frozenset({"k"}))
    client = app.test_client()
    answer = client.get("/healthz", headers={"Host": "mock.example.com"})
    assert answer.status_code == 200
    assert answer.json == {"status": "ok", "version": __version__}
    assert client.get("/_mock/health").status_code in (401, 403)  # the admin API is not open
    client.post("/api/v1/job/create", json=body(), headers={"Authorization": "Bearer k"})
    client.get("/healthz")
    journal = client.get("/_mock/requests", headers={"X-Mock-Admin-Token": "secret"}).json
    assert [entry["path"] for entry in journal["requests"]] == ["/api/v1/job/create"]
    close_app(app)


def test_a_preflight_is_journaled_as_what_it_is(cors_app: Flask) -> None:
    client = cors_app.test_client()
    client.options("/api/v1/job/create", headers=PREFLIGHT)
    (entry,) = [
        e for e in client.get("/_mock/requests").get_json()["requests"] if e["method"] == "OPTIONS"
    ]
    assert entry["outcome"] == "ok"  # not an accepted create
    assert 0 <= entry["duration_ms"] < 60_000  # not the time since the process started
