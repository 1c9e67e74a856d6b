"""Accounts: per-key balance, charge on create, refund on failure, jobs in flight."""

from __future__ import annotations

from flask.testing import FlaskClient
from helpers import advance, body, create

from mock_server.keys import fingerprint


def account(client: FlaskClient, key: str = "test-key-1") -> dict[str, object]:
    data: dict[str, object] = client.get(f"/_mock/accounts/{key}").json
    return data


def test_unlimited_by_default(client: FlaskClient) -> None:
    assert [create(client, body()).status_code for _ in range(5)] == [200] * 5
    state = account(client)
    assert state["balance"] is None
    assert state["spent"] == "1.875"  # spending is counted even when unlimited


def test_balance_is_charged_and_refused_when_short(client: FlaskClient) -> None:
    set_to = client.post("/_mock/accounts/test-key-1", json={"balance": "1.00"})
    assert set_to.json["balance"] == "1"
    assert set_to.json["key"] == fingerprint("test-key-1")
    assert create(client, body()).status_code == 200  # 0.375
    assert create(client, body()).status_code == 200  # 0.375
    refused = create(client, body())
    assert refused.status_code == 429
    assert refused.json["code"] == 1102
    assert "0.25" in refused.json["message"]
    state = account(client)
    assert (state["balance"], state["spent"]) == ("0.25", "0.75")
    assert len(client.get("/_mock/jobs").json["jobs"]) == 2


def test_failed_job_is_refunded(client: FlaskClient) -> None:
    client.post("/_mock/accounts/test-key-1", json={"balance": "0.375"})
    create(client, body(), **{"X-Mock-Scenario": "fail"})
    assert create(client, body()).status_code == 429  # nothing left while it runs
    advance(client, 10)
    state = account(client)
    assert (state["balance"], state["refunded"]) == ("0.375", "0.375")
    assert create(client, body()).status_code == 200


def test_jobs_in_flight_limit(client: FlaskClient) -> None:
    client.post("/_mock/accounts/test-key-1", json={"max_in_flight": 2})
    assert [create(client, body()).status_code for _ in range(2)] == [200, 200]
    refused = create(client, body())
    assert (refused.status_code, refused.json["code"]) == (429, 1303)
    assert refused.headers["Retry-After"]
    assert account(client)["in_flight"] == 2
    advance(client, 10)
    assert create(client, body()).status_code == 200
    assert account(client)["in_flight"] == 1


def test_accounts_are_per_key(client: FlaskClient) -> None:
    client.post("/_mock/accounts/test-key-1", json={"balance": "0"})
    other = client.post(
        "/api/v1/job/create", json=body(), headers={"Authorization": "Bearer other"}
    )
    assert other.status_code == 200
    assert create(client, body()).status_code == 429


def test_bad_account_settings_are_a_clear_400(client: FlaskClient) -> None:
    for payload in (
        {"balance": "lots"},
        {"balance": "-1"},
        {"max_in_flight": -1},
        {"max_in_flight": "2"},
        {"balance": True},
    ):
        response = client.post("/_mock/accounts/k", json=payload)
        assert response.status_code == 400, payload
        assert response.json["code"] == 1201
