"""Hints for the mistakes public clients make (api/hints.py): a placeholder id, the id sent as
job_id, invented routes; always the error envelope with the status and code an unknown id or
route has, never a change to a success answer. And the statuses-as-strings variant."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from helpers import AUTH, advance, body, create, query

from mock_server.errors import INVALID_PARAMETER, NOT_FOUND

QUERY_ROUTE = "GET /api/v1/job/query?id="
JOB_ID = "6a2753bc6797e45ded9f3025"  # Dapappa/paixao's default query id


def _error(response: Any, status: int, code: int) -> str:
    assert response.status_code == status, response.get_data(as_text=True)
    payload = response.json
    assert set(payload) == {"code", "message", "info"} and payload["code"] == code
    text: str = payload["message"]
    assert payload["info"] == text
    return text


@pytest.mark.parametrize("placeholder", ["undefined", "null", "None", "NaN", "nil"])
def test_a_placeholder_id_says_where_the_id_is(client: FlaskClient, placeholder: str) -> None:
    response = client.get(f"/api/v1/job/query?id={placeholder}", headers=AUTH)
    text = _error(response, 404, NOT_FOUND)  # as any unknown id
    assert '{"code": 0, "data": {"amount": "...", "job_id": "..."}}' in text
    assert "data.job_id" in text and placeholder in text


@pytest.mark.parametrize("query_string", ["", "id=", "id=%20"])
def test_an_empty_id_says_where_the_id_is(client: FlaskClient, query_string: str) -> None:
    text = _error(client.get(f"/api/v1/job/query?{query_string}", headers=AUTH), 400, 1201)
    assert text.startswith("id is required") and "data.job_id" in text


def test_the_id_sent_as_job_id_names_the_parameter(client: FlaskClient) -> None:
    response = client.get(f"/api/v1/job/query?job_id={JOB_ID}", headers=AUTH)
    assert "the parameter is id, not job_id" in _error(response, 400, INVALID_PARAMETER)


@pytest.mark.parametrize(
    ("method", "path", "named_id"),
    [
        ("GET", f"/api/v1/job/{JOB_ID}", JOB_ID),
        ("GET", f"/api/v1/job/get?job_id={JOB_ID}", JOB_ID),
        ("GET", f"/api/v1/job/status?id={JOB_ID}", JOB_ID),
        ("GET", f"/api/v1/jobs/{JOB_ID}", JOB_ID),
        ("GET", "/api/v1/job/result", "<data.job_id>"),
    ],
)
def test_invented_job_routes_name_the_query_route(
    client: FlaskClient, method: str, path: str, named_id: str
) -> None:
    text = _error(client.open(path, method=method, headers=AUTH), 404, NOT_FOUND)
    assert f"{QUERY_ROUTE}{named_id}" in text
    assert "POST /api/v1/job/create" in text


def test_v1_run_names_create_then_query(client: FlaskClient) -> None:
    text = _error(client.post("/v1/run", json={"model": "x"}, headers=AUTH), 404, NOT_FOUND)
    assert "POST /api/v1/job/create" in text and QUERY_ROUTE in text


def test_any_unknown_api_path_names_both_routes(client: FlaskClient) -> None:
    text = _error(client.get("/api/v2/anything", headers=AUTH), 404, NOT_FOUND)
    assert "POST /api/v1/job/create" in text and QUERY_ROUTE in text


def test_hints_keep_errors_as_200(client: FlaskClient) -> None:
    client.post("/_mock/settings", json={"error_status": "200"})
    response = client.get("/api/v1/job/query?id=undefined", headers=AUTH)
    assert "data.job_id" in _error(response, 200, NOT_FOUND)


def test_a_success_answer_is_unchanged(client: FlaskClient) -> None:
    created = create(client, body())
    assert set(created.json) == {"code", "data"}
    assert set(created.json["data"]) == {"amount", "job_id"}
    advance(client, 3600)
    data = query(client, created.json["data"]["job_id"]).json["data"]
    assert data["status"] == 2 and "job_id" not in data


def test_statuses_as_strings_answer_words_and_journal_numbers(client: FlaskClient) -> None:
    assert client.post("/_mock/settings", json={"status_form": "string"}).status_code == 200
    job_id = create(client, body()).json["data"]["job_id"]
    assert query(client, job_id).json["data"]["status"] == "queued"
    advance(client, 3600)
    assert query(client, job_id).json["data"]["status"] == "succeeded"
    journal = client.get("/_mock/requests").json["requests"]
    assert [e["job_status"] for e in journal if e["path"] == "/api/v1/job/query"] == [0, 2]
    refused = client.post("/_mock/settings", json={"status_form": "words"})
    assert refused.status_code == 400


def test_serve_status_form_option_sets_the_form() -> None:
    from mock_server import close_app, create_app
    from mock_server.serve import cli

    config = cli.app_config(cli.build_parser().parse_args(["serve", "--status-form", "string"]))
    assert config["STATUS_FORM"] == "string"
    app = create_app({"STORE": "memory", "CLOCK": "manual", "STATUS_FORM": "string"})
    try:
        served = app.test_client()
        job_id = create(served, body()).json["data"]["job_id"]
        assert query(served, job_id).json["data"]["status"] == "queued"
    finally:
        close_app(app)
