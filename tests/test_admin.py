"""The admin API under /_mock/ and the request journal."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient
from helpers import KEY, advance, body, create, query

from mock_server.control import get_control
from mock_server.keys import fingerprint


def test_health(client: FlaskClient) -> None:
    health = client.get("/_mock/health").json
    assert health["status"] == "ok"
    assert health["runtime"]["clock"] == "manual"
    assert health["jobs"] == 0


def test_clock_advance_and_switch(client: FlaskClient) -> None:
    assert client.post("/_mock/clock/advance", json={"seconds": 2.5}).json == {"now": 2.5}
    switched = client.post("/_mock/clock", json={"mode": "per-poll"}).json
    assert switched["clock"] == "per-poll"
    assert switched["now"] == 2.5


@pytest.mark.parametrize(
    "payload",
    [{}, {"seconds": -1}, {"seconds": "5"}, {"seconds": True}, {"seconds": float("inf")}, [], "x"],
)
def test_bad_advance_answers_envelope(client: FlaskClient, payload: Any) -> None:
    # Encoded as a lax client would (the test client's own JSON refuses infinities).
    response = client.post(
        "/_mock/clock/advance", data=json.dumps(payload), content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json["code"] != 0 and response.json["message"]


def test_bad_clock_mode_answers_envelope(client: FlaskClient) -> None:
    response = client.post("/_mock/clock", json={"mode": "warp"})
    assert response.status_code == 400
    assert "realtime, manual, per-poll" in response.json["message"]


def test_advance_from_python(client: FlaskClient) -> None:
    job_id = create(client, body()).json["data"]["job_id"]
    get_control(client.application).advance(10)
    assert query(client, job_id).json["data"]["status"] == 2


def test_jobs_list_and_detail(client: FlaskClient) -> None:
    first = create(client, body()).json["data"]["job_id"]
    second = create(client, body(mode="pro")).json["data"]["job_id"]
    advance(client, 2)
    jobs = client.get("/_mock/jobs").json["jobs"]
    assert [j["id"] for j in jobs] == [second, first]
    assert jobs[0]["key"] == fingerprint(KEY)
    assert jobs[0]["status"] == 1
    assert [t["status"] for t in jobs[0]["timeline"]] == [0, 1]
    detail = client.get(f"/_mock/jobs/{first}").json
    assert detail["args"] == body()["args"]
    assert detail["amount"] == "0.375"
    assert client.get("/_mock/jobs/nope").status_code == 404
    assert client.get(f"/_mock/jobs?key={fingerprint('other')}").json["jobs"] == []


def test_reset_forgets_jobs_and_restores_settings(client: FlaskClient) -> None:
    create(client, body())
    client.post("/_mock/settings", json={"result_key": "videos"})
    advance(client, 5)
    assert client.post("/_mock/reset").status_code == 200
    health = client.get("/_mock/health").json
    assert health["jobs"] == 0
    assert health["runtime"]["result_key"] == "auto"
    assert health["runtime"]["now"] == 0
    assert client.get("/_mock/requests").json["requests"] == []


def test_settings_change_profile_at_runtime(client: FlaskClient) -> None:
    assert create(client, body(prompt="[@image2]")).status_code == 200
    client.post("/_mock/settings", json={"profile": "strict"})
    assert create(client, body(prompt="[@image2]")).status_code == 400
    bad = client.post("/_mock/settings", json={"profile": "lax"})
    assert bad.status_code == 400
    assert client.post("/_mock/settings", json={"colour": "red"}).status_code == 400


def test_journal_records_outcomes_and_problems_without_keys(client: FlaskClient) -> None:
    create(client, body())
    create(client, body(mode="ultra"))
    query(client, "missing")
    entries = client.get("/_mock/requests").json["requests"]
    assert [(e["path"], e["status"], e["outcome"]) for e in entries] == [
        ("/api/v1/job/create", 200, "accepted"),
        ("/api/v1/job/create", 400, "rejected"),
        ("/api/v1/job/query", 404, "rejected"),
    ]
    assert entries[0]["job_id"]
    assert entries[1]["problems"][0]["pointer"] == "/args/mode"
    assert entries[1]["code"] == 1201
    assert all(e["key"] == fingerprint(KEY) for e in entries)
    assert KEY not in str(entries)
    rejected = client.get("/_mock/requests?outcome=rejected").json["requests"]
    assert len(rejected) == 2


def test_journal_redacts_a_key_sent_in_the_query_string(client: FlaskClient) -> None:
    client.get(f"/api/v1/job/query?id=x&token={KEY}", headers={"Authorization": f"Bearer {KEY}"})
    entries = client.get("/_mock/requests").json["requests"]
    assert KEY not in str(entries)


def test_response_names_its_journal_entry(client: FlaskClient) -> None:
    response = create(client, body())
    request_id = response.headers["X-Mock-Request-Id"]
    entries = client.get(f"/_mock/requests?request_id={request_id}").json["requests"]
    assert [e["job_id"] for e in entries] == [response.json["data"]["job_id"]]
    later = client.get(f"/_mock/requests?after={entries[0]['id']}").json["requests"]
    assert later == []


@pytest.mark.parametrize("query_string", ["limit=x", "limit=-1", "after=abc", "limit=99999"])
def test_bad_journal_query_answers_envelope(client: FlaskClient, query_string: str) -> None:
    response = client.get(f"/_mock/requests?{query_string}")
    assert response.status_code == 400
    assert response.json["code"] == 1201


def test_complete_a_job_now(client: FlaskClient) -> None:
    job_id = create(client, body()).json["data"]["job_id"]
    ended = client.post(f"/_mock/jobs/{job_id}/complete")
    assert ended.status_code == 200
    assert ended.json["status"] == 2
    assert query(client, job_id).json["data"]["status"] == 2
    again = client.post(f"/_mock/jobs/{job_id}/complete")
    assert again.status_code == 404  # already over


def test_fail_a_job_now_refunds_it(client: FlaskClient) -> None:
    client.post("/_mock/accounts/test-key-1", json={"balance": "1"})
    job_id = create(client, body()).json["data"]["job_id"]
    advance(client, 3)  # processing
    ended = client.post(f"/_mock/jobs/{job_id}/fail", json={"reason": "timeout"})
    assert ended.json["status"] == 3
    data = query(client, job_id).json["data"]
    assert (data["status"], data["error"]) == (3, "generation timed out")
    assert client.get("/_mock/accounts/test-key-1").json["balance"] == "1"
    assert client.post("/_mock/jobs/nope/fail").status_code == 404
    bad = client.post(
        f"/_mock/jobs/{create(client, body()).json['data']['job_id']}/fail",
        json={"reason": "gremlins"},
    )
    assert bad.status_code == 400


def test_finishing_a_per_poll_job(make_app: Any) -> None:
    client = make_app(CLOCK="per-poll").test_client()
    job_id = create(client, body()).json["data"]["job_id"]
    client.post(f"/_mock/jobs/{job_id}/fail")
    assert query(client, job_id).json["data"]["status"] == 3


def test_job_detail_says_when_it_finishes(client: FlaskClient) -> None:
    job_id = create(client, body()).json["data"]["job_id"]
    detail = client.get(f"/_mock/jobs/{job_id}").json
    assert (detail["queued_for"], detail["processing_for"], detail["finishes_at"]) == (2, 8, 10)


def test_journal_filters_apply_before_the_limit(client: FlaskClient) -> None:
    create(client, body(mode="bad"))
    for _ in range(5):
        create(client, body())
    rejected = client.get("/_mock/requests?outcome=rejected&limit=1").json["requests"]
    assert [e["status"] for e in rejected] == [400]


def test_journal_ids_never_repeat_after_reset(client: FlaskClient) -> None:
    create(client, body())
    last = client.get("/_mock/requests").json["requests"][-1]["id"]
    client.post("/_mock/reset")
    create(client, body())
    assert [
        e["id"] > last for e in client.get(f"/_mock/requests?after={last}").json["requests"]
    ] == [True]


def test_the_key_filters_take_the_api_key_or_its_fingerprint(client: FlaskClient) -> None:
    mine = create(client, body()).json["data"]["job_id"]
    client.post("/api/v1/job/create", json=body(), headers={"Authorization": "Bearer other"})
    for given in (KEY, fingerprint(KEY)):
        jobs = client.get("/_mock/jobs", query_string={"key": given}).json["jobs"]
        assert [job["id"] for job in jobs] == [mine]
        entries = client.get("/_mock/requests", query_string={"key": given}).json["requests"]
        assert [entry["job_id"] for entry in entries] == [mine]
    assert KEY not in json.dumps(client.get("/_mock/requests").json)  # never stored
