"""Job scenarios: a job's fate chosen per request, per prompt marker, or for the next N jobs."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from helpers import advance, body, create, query

from mock_server.control import get_control
from mock_server.data import schemas
from mock_server.jobs.scenarios import REASONS


def final(
    client: FlaskClient, job_id: str, seconds: float = 1000, key: str = "test-key-1"
) -> dict[str, Any]:
    advance(client, seconds)
    response = query(client, job_id, key=key)
    schemas.validator("query-response.json").validate(response.json)
    data: dict[str, Any] = response.json["data"]
    return data


def new_job(client: FlaskClient, key: str = "test-key-1", **headers: str) -> str:
    response = client.post(
        "/api/v1/job/create", json=body(), headers={"Authorization": f"Bearer {key}", **headers}
    )
    assert response.status_code == 200, response.json
    job_id: str = response.json["data"]["job_id"]
    return job_id


@pytest.mark.parametrize(
    ("scenario", "reason"),
    [
        ("fail", REASONS["internal_error"]),
        ("fail:content_policy", REASONS["content_policy"]),
        ("fail:internal_error", REASONS["internal_error"]),
        ("fail:timeout", REASONS["timeout"]),
    ],
)
def test_header_fails_a_job_with_its_reason(
    client: FlaskClient, scenario: str, reason: str
) -> None:
    job_id = new_job(client, **{"X-Mock-Scenario": scenario})
    data = final(client, job_id)
    assert (data["id"], data["status"], data["refunded"]) == (job_id, 3, True)
    assert data["error"] == reason
    assert "result" not in data and "reason" not in data


def test_prompt_marker_fails_a_job(client: FlaskClient) -> None:
    response = create(client, body(prompt="a cat [mock:fail:content_policy] walks"))
    data = final(client, response.json["data"]["job_id"])
    assert data["status"] == 3
    assert data["error"] == REASONS["content_policy"]


def test_stuck_job_never_finishes(client: FlaskClient) -> None:
    job_id = new_job(client, **{"X-Mock-Scenario": "stuck"})
    assert final(client, job_id, seconds=10**7)["status"] == 1


@pytest.mark.parametrize(("scenario", "done_after"), [("slow", 82), ("slow:30", 32)])
def test_slow_job(client: FlaskClient, scenario: str, done_after: float) -> None:
    job_id = new_job(client, **{"X-Mock-Scenario": scenario})
    assert final(client, job_id, seconds=done_after - 0.5)["status"] == 1
    assert final(client, job_id, seconds=0.5)["status"] == 2


def test_scenario_for_the_next_n_jobs(client: FlaskClient) -> None:
    response = client.post("/_mock/scenarios", json={"scenario": "fail", "count": 2})
    assert response.status_code == 200
    jobs = [new_job(client) for _ in range(3)]
    advance(client, 10)
    assert [query(client, j).json["data"]["status"] for j in jobs] == [3, 3, 2]
    assert client.get("/_mock/scenarios").json["scenarios"] == []


def test_scenario_scoped_to_one_key_leaves_others_alone(client: FlaskClient) -> None:
    get_control(client.application).add_scenario("fail", count=None, key="key-a")
    a, b = new_job(client, key="key-a"), new_job(client, key="key-b")
    assert final(client, a, key="key-a")["status"] == 3
    assert final(client, b, key="key-b", seconds=0)["status"] == 2


def test_header_wins_over_a_waiting_scenario_which_stays(client: FlaskClient) -> None:
    client.post("/_mock/scenarios", json={"scenario": "fail", "count": 1})
    first = new_job(client, **{"X-Mock-Scenario": "succeed"})
    second = new_job(client)
    advance(client, 10)
    assert query(client, first).json["data"]["status"] == 2
    assert query(client, second).json["data"]["status"] == 3


def test_per_poll_failed_job(make_app: Any) -> None:
    client = make_app(CLOCK="per-poll").test_client()
    job_id = new_job(client, **{"X-Mock-Scenario": "fail"})
    assert [query(client, job_id).json["data"]["status"] for _ in range(3)] == [0, 1, 3]


@pytest.mark.parametrize("bad", ["explode", "fail:gremlins", "slow:fast", "callback:twice"])
def test_unknown_scenario_is_a_clear_400(client: FlaskClient, bad: str) -> None:
    response = create(client, body(), **{"X-Mock-Scenario": bad})
    assert response.status_code == 400
    assert bad in response.json["message"]
    assert "fail:content_policy" in response.json["message"]
    marker = create(client, body(prompt=f"x [mock:{bad}]"))
    assert marker.status_code == 400
    admin = client.post("/_mock/scenarios", json={"scenario": bad})
    assert admin.status_code == 400
    assert client.get("/_mock/jobs").json["jobs"] == []


def test_journal_names_the_scenario(client: FlaskClient) -> None:
    new_job(client, **{"X-Mock-Scenario": "fail:timeout"})
    entry = client.get("/_mock/requests").json["requests"][-1]
    assert entry["scenario"] == "fail:timeout"
