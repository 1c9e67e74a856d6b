"""`--error-status 200`: every error of the API answers HTTP 200 with its non-zero code
(A-error-http-status), in process and over HTTP; the admin API keeps its statuses."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from helpers import AUTH, KEY, body, create, query
from serving import ServedMock, serve_args, served_mock

from mock_server import create_app
from mock_server.data import schemas
from mock_server.errors import ConfigError
from mock_server.serve.cli import app_config, build_parser
from mock_server.testing import MockHandle


@pytest.fixture
def client200(make_app: Callable[..., Flask]) -> FlaskClient:
    """A mock whose errors answer HTTP 200."""
    return make_app(ERROR_STATUS="200").test_client()


def _error(response: Any, code: int, was: int) -> None:
    """Assert `response` is the envelope of error `code` sent as HTTP 200 (else `was`)."""
    assert response.status_code == 200
    schemas.validator("error.json").validate(response.json)
    assert response.json["code"] == code
    assert response.headers["X-Mock-Error-Status"] == str(was)


@pytest.mark.parametrize(
    ("send", "code", "was"),
    [
        (lambda c: c.post("/api/v1/job/create", json=body()), 1001, 401),
        (lambda c: create(c, body(mode="ultra")), 1201, 400),
        (lambda c: create(c, {"model": "no/such/model", "args": {}}), 1201, 400),
        (lambda c: query(c, "nope"), 1203, 404),
        (lambda c: c.get("/api/v1/job/query", headers=AUTH), 1201, 400),
        (lambda c: c.put("/api/v1/job/create", headers=AUTH), 1200, 405),
        (lambda c: c.get("/api/v1/nothing-here", headers=AUTH), 1203, 404),
        (lambda c: create(c, body(), **{"X-Mock-Fault": "500"}), 5000, 500),
        (lambda c: create(c, body(), **{"X-Mock-Fault": "3000"}), 3000, 502),
        (lambda c: create(c, body(), **{"X-Mock-Fault": "504"}), 5002, 504),
    ],
)
def test_every_api_error_answers_200_with_its_code(
    client200: FlaskClient, send: Callable[[FlaskClient], Any], code: int, was: int
) -> None:
    _error(send(client200), code, was)


def test_rejected_create_keeps_its_diagnostics(client200: FlaskClient) -> None:
    response = create(client200, body(mode="ultra"))
    _error(response, 1201, 400)
    assert "/args/mode" in response.headers["X-Mock-Errors"]


@pytest.mark.parametrize(("fault", "code"), [("503", 5001), ("429", 1302)])
def test_faults_answer_200_and_keep_retry_after(
    client200: FlaskClient, fault: str, code: int
) -> None:
    response = create(client200, body(), **{"X-Mock-Fault": f"{fault}, retry-after:4"})
    _error(response, code, int(fault[:3]))
    assert response.headers["Retry-After"] == "4"


def test_a_refused_create_answers_200_with_1102(client200: FlaskClient) -> None:
    client200.post(f"/_mock/accounts/{KEY}", json={"balance": "0"})
    _error(create(client200, body()), 1102, 429)
    assert client200.get("/_mock/jobs").json["jobs"] == []


def test_successes_and_dropped_connections_are_unchanged(client200: FlaskClient) -> None:
    created = create(client200, body())
    assert (created.status_code, created.json["code"]) == (200, 0)
    assert "X-Mock-Error-Status" not in created.headers
    with pytest.raises(ConnectionAbortedError):
        create(client200, body(), **{"X-Mock-Fault": "empty"})


def test_admin_routes_and_files_keep_their_statuses(client200: FlaskClient) -> None:
    assert client200.post("/_mock/faults", json={"fault": "418"}).status_code == 400
    assert client200.get("/_mock/jobs/nope").status_code == 404
    assert client200.get("/files/nope.mp4").status_code == 404
    assert client200.get("/_mock/settings").json["error_status"] == "200"


def test_the_journal_keeps_the_errors_own_status(client200: FlaskClient) -> None:
    query(client200, "nope")
    create(client200, body(), **{"X-Mock-Fault": "503"})
    create(client200, body())
    entries = client200.get("/_mock/requests").json["requests"]
    seen = [(e["status"], e["sent_status"], e["code"], e["outcome"]) for e in entries]
    assert seen == [
        (404, 200, 1203, "rejected"),
        (503, 200, 5001, "fault"),
        (200, 200, 0, "accepted"),
    ]


def test_client_checks_catch_an_unknown_id_under_200(make_app: Callable[..., Flask]) -> None:
    app = make_app(ERROR_STATUS="200")
    handle = MockHandle(app, "http://localhost", api_key=KEY)
    app.test_client().get("/api/v1/job/query?id=None", headers=AUTH)
    assert [v.rule for v in handle.violations()] == ["query.unknown_job"]


def test_error_status_switches_at_runtime(client: FlaskClient) -> None:
    assert query(client, "nope").status_code == 404  # the default: http
    settings = client.post("/_mock/settings", json={"error_status": "200"})
    assert (settings.status_code, settings.json["error_status"]) == (200, "200")
    _error(query(client, "nope"), 1203, 404)
    client.post("/_mock/settings", json={"error_status": "http"})
    assert query(client, "nope").status_code == 404
    client.post("/_mock/settings", json={"error_status": "200"})
    client.post("/_mock/reset")  # back to the configured setting
    assert query(client, "nope").status_code == 404


@pytest.mark.parametrize("payload", [{"error_status": "201"}, {"error_status": 200}])
def test_bad_error_status_setting_is_a_clear_400(client: FlaskClient, payload: Any) -> None:
    response = client.post("/_mock/settings", json=payload)
    assert response.status_code == 400
    assert "error_status" in response.json["message"]


def test_bad_error_status_config_is_refused() -> None:
    with pytest.raises(ConfigError, match="error status"):
        create_app({"ERROR_STATUS": "201"})


def test_cli_option_maps_to_the_config() -> None:
    parser = build_parser()
    assert app_config(parser.parse_args(["serve"]))["ERROR_STATUS"] == "http"
    args = parser.parse_args(["serve", "--error-status", "200"])
    assert app_config(args)["ERROR_STATUS"] == "200"
    with pytest.raises(SystemExit):
        parser.parse_args(["serve", "--error-status", "404"])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedMock]:
    workdir = tmp_path_factory.mktemp("served-200")
    args = [*serve_args(workdir / "s.db", workers=1), "--error-status", "200"]
    with served_mock(workdir, args) as mock:
        yield mock


@pytest.mark.slow
def test_served_errors_answer_200_with_their_code(served: ServedMock) -> None:
    assert "errors as HTTP 200" in served.stdout()
    auth = {"Authorization": "Bearer served-200"}
    unknown = requests.get(served.url("/api/v1/job/query?id=nope"), headers=auth, timeout=5)
    assert (unknown.status_code, unknown.json()["code"]) == (200, 1203)
    faulted = requests.post(
        served.url("/api/v1/job/create"),
        json=body(),
        headers={**auth, "X-Mock-Fault": "503"},
        timeout=5,
    )
    assert (faulted.status_code, faulted.json()["code"]) == (200, 5001)
    assert faulted.headers["Retry-After"] == "1"
    assert faulted.headers["X-Mock-Error-Status"] == "503"
    created = requests.post(served.url("/api/v1/job/create"), json=body(), headers=auth, timeout=5)
    assert (created.status_code, created.json()["code"]) == (200, 0)
    assert "job_id" in created.json()["data"]
    admin = requests.post(served.url("/_mock/faults"), json={"fault": "418"}, timeout=5)
    assert admin.status_code == 400
