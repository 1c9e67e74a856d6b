"""Callbacks: delivery on the mock's clock, retries, policy, adversarial variants."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from helpers import advance, body, create, query

from mock_server import extensions
from mock_server.control import get_control
from mock_server.data import schemas
from mock_server.testing.receiver import CallbackReceiver


@pytest.fixture
def receiver() -> Iterator[CallbackReceiver]:
    with CallbackReceiver() as started:
        yield started


def job_with_callback(client: Any, url: str, **headers: str) -> str:
    payload = {**body(), "callback_url": url}
    response = create(client, payload, **headers)
    assert response.status_code == 200, response.json
    job_id: str = response.json["data"]["job_id"]
    return job_id


def deliveries(client: Any, job_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = client.get(f"/_mock/callbacks?job_id={job_id}").json["callbacks"]
    return found


def test_callback_arrives_before_advance_returns_and_matches_query(
    app: Flask, receiver: CallbackReceiver
) -> None:
    client = app.test_client()
    job_id = job_with_callback(client, receiver.url)
    advance(client, 9.9)
    assert receiver.received == []
    advance(client, 0.1)
    assert len(receiver.received) == 1  # no waiting: delivered inside the advance call
    got = receiver.received[0]
    assert got.headers["Content-Type"] == "application/json"
    callback = got.json()
    schemas.validator("callback.json").validate(callback)
    final = query(client, job_id).json
    assert callback["data"]["job_id"] == job_id
    assert {k: v for k, v in callback["data"].items() if k != "job_id"} == final["data"]
    [delivery] = deliveries(client, job_id)
    assert delivery["state"] == "delivered"
    assert delivery["attempts"][0]["status"] == 200
    assert delivery["attempts"][0]["duration_ms"] >= 0


def test_failed_job_callback_carries_refund_and_error(
    app: Flask, receiver: CallbackReceiver
) -> None:
    client = app.test_client()
    job_with_callback(client, receiver.url, **{"X-Mock-Scenario": "fail:timeout"})
    advance(client, 10)
    data = receiver.received[0].json()["data"]
    assert data["status"] == 3
    assert data["refunded"] is True
    assert data["error"] == "generation timed out"


def test_receiver_failing_twice_gets_the_third_attempt(app: Flask) -> None:
    client = app.test_client()
    with CallbackReceiver(statuses=[500, 503]) as receiver:
        job_id = job_with_callback(client, receiver.url)
        advance(client, 10)  # attempt 1 at t=10 fails; retries fall due at 11 and 13
        assert [r.status for r in receiver.received] == [500]
        advance(client, 5)
        assert [r.status for r in receiver.received] == [500, 503, 200]
        assert [r.headers["X-Mock-Attempt"] for r in receiver.received] == ["1", "2", "3"]
    [delivery] = deliveries(client, job_id)
    assert delivery["state"] == "delivered"
    assert [(a["status"], a["clock"]) for a in delivery["attempts"]] == [
        (500, 10.0),
        (503, 11.0),
        (200, 13.0),
    ]


def test_unreachable_receiver_is_retried_then_given_up(make_app: Any) -> None:
    client = make_app(CALLBACK_ATTEMPTS=3, CALLBACK_CONNECT_TIMEOUT=0.5).test_client()
    with CallbackReceiver() as receiver:
        url = receiver.url  # a port nobody listens on once the receiver stops
    job_id = job_with_callback(client, url)
    advance(client, 100)
    [delivery] = deliveries(client, job_id)
    assert delivery["state"] == "failed"
    assert len(delivery["attempts"]) == 3
    assert all("error" in a for a in delivery["attempts"])
    assert client.get("/_mock/health").status_code == 200


def test_redirects_are_not_followed(app: Flask) -> None:
    client = app.test_client()
    with CallbackReceiver(statuses=[302], headers={"Location": "http://127.0.0.1:9/x"}) as rec:
        job_id = job_with_callback(client, rec.url)
        advance(client, 10)
        assert len(rec.received) == 1
    delivery = deliveries(client, job_id)[0]
    assert delivery["attempts"][0]["status"] == 302
    assert delivery["state"] == "pending"  # a retry is scheduled


def test_a_huge_answer_is_read_only_up_to_the_cap(make_app: Any) -> None:
    client = make_app(CALLBACK_RESPONSE_LIMIT=1024).test_client()
    with CallbackReceiver(answer=b"x" * 5_000_000) as receiver:
        job_id = job_with_callback(client, receiver.url)
        advance(client, 10)
    assert deliveries(client, job_id)[0]["state"] == "delivered"


def test_a_slow_receiver_times_out(make_app: Any) -> None:
    client = make_app(CALLBACK_TIMEOUT=0.3, CALLBACK_ATTEMPTS=1).test_client()
    with CallbackReceiver(delay=1.0) as receiver:
        job_id = job_with_callback(client, receiver.url)
        advance(client, 10)
    attempt = deliveries(client, job_id)[0]["attempts"][0]
    assert "Timeout" in attempt["error"] or "timed out" in attempt["error"]


@pytest.mark.parametrize(
    "url", ["http://169.254.169.254/latest/meta-data", "http://[fd00:ec2::254]/latest"]
)
def test_metadata_addresses_are_refused_and_journaled(app: Flask, url: str) -> None:
    client = app.test_client()
    job_id = job_with_callback(client, url)  # the creator gets no error
    advance(client, 10)
    [delivery] = deliveries(client, job_id)
    assert delivery["state"] == "refused"
    assert "blocked network" in delivery["attempts"][0]["error"]


def test_host_deny_and_allow_lists(make_app: Any, receiver: CallbackReceiver) -> None:
    denied = make_app(CALLBACK_DENY_HOSTS=["127.0.0.*"]).test_client()
    job_id = job_with_callback(denied, receiver.url)
    advance(denied, 10)
    assert deliveries(denied, job_id)[0]["state"] == "refused"
    allowed = make_app(CALLBACK_ALLOW_HOSTS=["example.com"]).test_client()
    job_id = job_with_callback(allowed, receiver.url)
    advance(allowed, 10)
    assert "allow list" in deliveries(allowed, job_id)[0]["attempts"][0]["error"]
    assert receiver.received == []


def test_callback_on_every_status_change(make_app: Any, receiver: CallbackReceiver) -> None:
    client = make_app(CALLBACK_EVENTS="all").test_client()
    job_with_callback(client, receiver.url)
    advance(client, 2)
    assert [b["data"]["status"] for b in receiver.bodies()] == [1]
    advance(client, 8)
    assert [b["data"]["status"] for b in receiver.bodies()] == [1, 2]


def test_a_late_first_background_round_leaves_the_advance_its_work(
    make_app: Any, receiver: CallbackReceiver
) -> None:
    """On the manual clock the background's first round sends only what was due when the
    mock started, even when it comes after an advance moved the clock (a busy machine):
    the advance settles and sends what it made due, in order, alone."""
    app = make_app(CALLBACK_EVENTS="all", TICK_SECONDS=3600.0)  # no round of its own
    client = app.test_client()
    job_id = job_with_callback(client, receiver.url, **{"X-Mock-Scenario": "callback:out-of-order"})
    extensions.clock(app).advance(20)  # the advance moved the clock, not yet settled
    extensions.dispatcher(app).tick()  # the background's first round, late
    assert extensions.store(app).list_deliveries(job_id=job_id) == []
    advance(client, 0)
    assert [b["data"]["status"] for b in receiver.bodies()] == [2, 1]


def test_non_http_callback_url_gets_no_delivery(app: Flask) -> None:
    client = app.test_client()
    job_id = job_with_callback(client, "CALLBACK_URL")
    advance(client, 10)
    assert deliveries(client, job_id) == []


# --- adversarial callbacks --------------------------------------------------------------


def test_duplicate_delivery(app: Flask, receiver: CallbackReceiver) -> None:
    client = app.test_client()
    job_with_callback(client, receiver.url, **{"X-Mock-Scenario": "callback:duplicate"})
    advance(client, 10)
    first, second = receiver.bodies()
    assert first == second


def test_delayed_delivery(app: Flask, receiver: CallbackReceiver) -> None:
    client = app.test_client()
    job_with_callback(client, receiver.url, **{"X-Mock-Scenario": "callback:delay:30"})
    advance(client, 39)
    assert receiver.received == []
    advance(client, 1)
    assert len(receiver.received) == 1


def test_out_of_order_delivery(make_app: Any, receiver: CallbackReceiver) -> None:
    client = make_app(CALLBACK_EVENTS="all").test_client()
    job_with_callback(client, receiver.url, **{"X-Mock-Scenario": "callback:out-of-order"})
    advance(client, 20)
    assert [b["data"]["status"] for b in receiver.bodies()] == [2, 1]


def test_dropped_delivery_is_journaled_not_sent(app: Flask, receiver: CallbackReceiver) -> None:
    client = app.test_client()
    job_id = job_with_callback(client, receiver.url, **{"X-Mock-Scenario": "callback:drop"})
    advance(client, 10)
    assert receiver.received == []
    assert [d["state"] for d in deliveries(client, job_id)] == ["dropped"]


# --- other clock modes ------------------------------------------------------------------


def test_realtime_clock_delivers_in_the_background(
    make_app: Any, receiver: CallbackReceiver
) -> None:
    client = make_app(CLOCK="realtime", SPEED=100.0).test_client()  # a job lasts 0.1 s
    job_with_callback(client, receiver.url)
    [got] = receiver.wait_for(1, timeout=10)
    assert got.json()["data"]["status"] == 2


def test_per_poll_clock_delivers_after_the_final_query(
    make_app: Any, receiver: CallbackReceiver
) -> None:
    client = make_app(CLOCK="per-poll").test_client()
    job_id = job_with_callback(client, receiver.url)
    statuses = [query(client, job_id).json["data"]["status"] for _ in range(3)]
    assert statuses == [0, 1, 2]
    [got] = receiver.wait_for(1, timeout=10)
    assert got.json()["data"]["job_id"] == job_id


def test_run_all_finishes_jobs_and_callbacks(app: Flask) -> None:
    client = app.test_client()
    with CallbackReceiver(statuses=[500, 500, 500]) as receiver:
        job_ids = [job_with_callback(client, receiver.url) for _ in range(3)]
        started = time.monotonic()
        get_control(app).run_all()
        assert time.monotonic() - started < 30  # bounded, never a wall-clock wait per job
        states = {d["job_id"]: d["state"] for d in get_control(app).deliveries()}
    assert states == dict.fromkeys(job_ids, "delivered")
    assert all(query(client, j).json["data"]["status"] == 2 for j in job_ids)
