"""HTTP faults: per-request headers, scripted sequences, seeded random draws."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import pytest
from flask.testing import FlaskClient
from helpers import AUTH, body, create, query

from mock_server.control.faults import draw
from mock_server.data import schemas


@pytest.mark.parametrize(
    ("fault", "status", "code"),
    [
        ("429", 429, 1302),
        ("429:concurrency", 429, 1303),
        ("429:balance", 429, 1102),
        ("500", 500, 5000),
        ("502", 502, 5000),
        ("503", 503, 5001),
        ("504", 504, 5002),
        ("3000", 502, 3000),
    ],
)
def test_header_fault_answers_status_with_envelope(
    client: FlaskClient, fault: str, status: int, code: int
) -> None:
    response = create(client, body(), **{"X-Mock-Fault": fault})
    assert response.status_code == status
    schemas.validator("error.json").validate(response.json)
    assert response.json["code"] == code
    if status in (429, 503):
        assert response.headers["Retry-After"] == "1"
    assert client.get("/_mock/jobs").json["jobs"] == []  # nothing was created


def test_retry_after_is_settable(client: FlaskClient) -> None:
    response = create(client, body(), **{"X-Mock-Fault": "429, retry-after:7"})
    assert response.headers["Retry-After"] == "7"


def test_fault_on_query(client: FlaskClient) -> None:
    job_id = create(client, body()).json["data"]["job_id"]
    response = client.get(f"/api/v1/job/query?id={job_id}", headers={**AUTH, "X-Mock-Fault": "503"})
    assert response.status_code == 503


def test_latency_is_added(client: FlaskClient) -> None:
    started = time.monotonic()
    response = create(client, body(), **{"X-Mock-Fault": "latency:120"})
    assert response.status_code == 200
    assert time.monotonic() - started >= 0.12  # a lower bound: slow machines pass too


@pytest.mark.parametrize(
    ("fault", "error"), [("reset", ConnectionResetError), ("empty", ConnectionAbortedError)]
)
def test_dropped_connection_in_process(client: FlaskClient, fault: str, error: type) -> None:
    with pytest.raises(error):
        create(client, body(), **{"X-Mock-Fault": fault})
    entry = client.get("/_mock/requests").json["requests"][-1]
    assert entry["outcome"] == "fault"
    assert entry["fault"] == fault


def test_scripted_faults_fail_the_next_creates_then_succeed(client: FlaskClient) -> None:
    response = client.post("/_mock/faults", json={"fault": "503", "count": 2, "endpoint": "create"})
    assert response.status_code == 200
    assert [create(client, body()).status_code for _ in range(3)] == [503, 503, 200]
    job_id = create(client, body()).json["data"]["job_id"]
    assert query(client, job_id).status_code == 200


def test_scripted_fault_scoped_to_a_key(client: FlaskClient) -> None:
    client.post("/_mock/faults", json={"fault": "429", "count": None, "key": "key-a"})
    a = client.post("/api/v1/job/create", json=body(), headers={"Authorization": "Bearer key-a"})
    b = client.post("/api/v1/job/create", json=body(), headers={"Authorization": "Bearer key-b"})
    assert (a.status_code, b.status_code) == (429, 200)
    client.delete("/_mock/faults")
    again = client.post(
        "/api/v1/job/create", json=body(), headers={"Authorization": "Bearer key-a"}
    )
    assert again.status_code == 200


def _statuses(client: FlaskClient, n: int) -> list[int]:
    return [create(client, body()).status_code for _ in range(n)]


def test_random_faults_are_seeded_and_repeatable(make_app: Any) -> None:
    spec = {"random": {"seed": 7, "create": {"503": 0.3, "429": 0.2}}}
    runs = []
    for _ in range(2):
        client = make_app().test_client()
        assert client.post("/_mock/faults", json=spec).status_code == 200
        runs.append(_statuses(client, 60))
    assert runs[0] == runs[1]
    assert {503, 429, 200} == set(runs[0])
    expected = [
        {"503": 503, "429": 429, None: 200}[draw(spec["random"], "create", n)] for n in range(1, 61)
    ]
    assert runs[0] == expected


def test_random_fault_rates_are_about_right() -> None:
    spec = {"seed": 1, "create": {"503": 0.1}}
    hits = sum(draw(spec, "create", n) == "503" for n in range(1, 20_001))
    assert 1700 < hits < 2300


@pytest.mark.parametrize(
    "payload",
    [
        {"fault": "418"},
        {"fault": ""},
        {"fault": "503", "endpoint": "delete"},
        {"fault": "503", "count": 0},
        {"random": {"seed": 1, "create": {"503": 1.5}}},
        {"random": {"seed": 1, "create": {"503": 0.6, "429": 0.6}}},
        {"random": "often"},
    ],
)
def test_bad_fault_settings_are_a_clear_400(client: FlaskClient, payload: Any) -> None:
    response = client.post("/_mock/faults", json=payload)
    assert response.status_code == 400
    assert response.json["code"] == 1201


def test_unknown_fault_header_is_a_clear_400(client: FlaskClient) -> None:
    response = create(client, body(), **{"X-Mock-Fault": "teapot"})
    assert response.status_code == 400
    assert "teapot" in response.json["message"]


def test_clearing_faults_of_one_key_leaves_the_others(client: FlaskClient) -> None:
    for key in ("key-a", "key-b"):
        client.post("/_mock/faults", json={"fault": "503", "count": None, "key": key})
    client.delete("/_mock/faults?key=key-a")
    statuses = [
        client.post(
            "/api/v1/job/create", json=body(), headers={"Authorization": f"Bearer {key}"}
        ).status_code
        for key in ("key-a", "key-b")
    ]
    assert statuses == [200, 503]


def _charged(client: FlaskClient) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    jobs = client.get("/_mock/jobs").json["jobs"]
    account = client.get("/_mock/accounts/" + AUTH["Authorization"].removeprefix("Bearer ")).json
    return jobs, account


@pytest.mark.parametrize("how", ["header", "scripted", "random"])
def test_ack_lost_creates_and_charges_the_job_then_drops_the_answer(
    client: FlaskClient, how: str
) -> None:
    headers = {"X-Mock-Fault": "ack-lost"} if how == "header" else {}
    if how == "scripted":
        client.post("/_mock/faults", json={"fault": "ack-lost", "endpoint": "create"})
    if how == "random":
        client.post("/_mock/faults", json={"random": {"seed": 1, "create": {"ack-lost": 1}}})
    with pytest.raises(ConnectionAbortedError, match="ack-lost"):
        create(client, body(), **headers)
    [job], account = _charged(client)
    assert Decimal(account["spent"]) == Decimal(job["amount"]) > 0
    entry = client.get("/_mock/requests").json["requests"][-1]
    assert (entry["fault"], entry["outcome"], entry["job_id"]) == ("ack-lost", "fault", job["id"])
    assert (entry["status"], entry["code"]) == (200, 0)  # the answer the client never got
    assert query(client, job["id"]).json["data"]["status"] == 0  # the job is there to query


def test_ack_lost_on_a_refused_create_stores_nothing(client: FlaskClient) -> None:
    with pytest.raises(ConnectionAbortedError):
        create(client, body(mode="ultra"), **{"X-Mock-Fault": "ack-lost"})
    assert client.get("/_mock/jobs").json["jobs"] == []
    entry = client.get("/_mock/requests").json["requests"][-1]
    assert (entry["fault"], entry["status"], entry["job_id"]) == ("ack-lost", 400, None)


def test_ack_lost_on_query_answers_nothing_after_the_query(client: FlaskClient) -> None:
    job_id = create(client, body()).json["data"]["job_id"]
    with pytest.raises(ConnectionAbortedError, match="ack-lost"):
        client.get(f"/api/v1/job/query?id={job_id}", headers={**AUTH, "X-Mock-Fault": "ack-lost"})
    entry = client.get("/_mock/requests").json["requests"][-1]
    assert (entry["fault"], entry["job_id"], entry["job_status"]) == ("ack-lost", job_id, 0)


def test_upstream_unstable_3000_scripted_and_random(client: FlaskClient) -> None:
    client.post("/_mock/faults", json={"fault": "3000", "count": 1, "endpoint": "create"})
    first = create(client, body())
    assert (first.status_code, first.json["code"]) == (502, 3000)
    assert first.json["info"] == "upstream unstable; retry later"
    assert "Retry-After" not in first.headers
    assert create(client, body()).status_code == 200  # the retry succeeds
    client.post("/_mock/faults", json={"random": {"seed": 3, "create": {"3000": 1}}})
    assert create(client, body()).json["code"] == 3000
    assert [e["fault"] for e in client.get("/_mock/requests").json["requests"]] == [
        "3000",
        None,
        "3000",
    ]
