"""The job record as public clients decode it: fields, JSON types, ids, times, key names
(A-query-data-id, A-job-id-format, A-job-timestamps, A-key-name, A-credit-field)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from helpers import AUTH, MODEL, VALID_ARGS, advance, body, create, query
from serving import ServedMock, serve_args, served_mock

from mock_server.data import schemas
from mock_server.jobs.service import new_job_id
from mock_server.testing.receiver import CallbackReceiver

WALL = 1_765_000_000.25  # 2025-12-06T05:46:40.250Z
ID = re.compile(r"^[0-9a-f]{24}$")
# The Go client's struct: every field and the JSON type it decodes into.
TYPES: dict[str, type] = {
    "id": str,
    "key_name": str,
    "model": str,
    "args": dict,
    "status": int,
    "credit": str,
    "refunded": bool,
    "created_at": str,
    "updated_at": str,
}


def iso(wall: float) -> str:
    moment = datetime.fromtimestamp(wall, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@pytest.fixture
def fixed(make_app: Callable[..., Flask]) -> Flask:
    """The mock on a manual clock whose wall time stands at WALL."""
    return make_app(WALL_CLOCK=lambda: WALL)


@pytest.fixture
def receiver() -> Iterator[CallbackReceiver]:
    with CallbackReceiver() as started:
        yield started


def assert_typed(data: dict[str, Any]) -> None:
    for name, kind in TYPES.items():
        assert isinstance(data[name], kind), (name, data[name])
    assert not any(value is None for value in data.values()), data


def test_a_queued_job_carries_the_whole_record(fixed: Flask) -> None:
    client = fixed.test_client()
    created = create(client, body(duration="5")).json["data"]
    data = query(client, created["job_id"]).json["data"]
    assert_typed(data)
    assert data["id"] == created["job_id"]
    assert (data["model"], data["args"]) == (MODEL, {**VALID_ARGS, "duration": "5"})
    assert data["credit"] == created["amount"] == "0.375"
    assert (data["status"], data["refunded"]) == (0, False)
    assert data["created_at"] == data["updated_at"] == iso(WALL)
    assert not {"finished_at", "error", "result", "reason"} & set(data)


def test_times_follow_the_mock_clock(fixed: Flask) -> None:
    client = fixed.test_client()
    job_id = create(client, body()).json["data"]["job_id"]
    advance(client, 3)  # processing since clock second 2
    data = query(client, job_id).json["data"]
    assert (data["status"], data["updated_at"]) == (1, iso(WALL + 2))
    assert "finished_at" not in data
    advance(client, 100)  # finished at clock second 10, however late it is asked
    data = query(client, job_id).json["data"]
    assert data["status"] == 2
    assert data["created_at"] == iso(WALL)
    assert data["updated_at"] == data["finished_at"] == iso(WALL + 10)
    assert list(data["result"]) == ["videos"]
    schemas.validator("query-response.json").validate({"code": 0, "data": data})


def test_a_failed_job_says_error_and_refunded(fixed: Flask) -> None:
    client = fixed.test_client()
    job_id = create(client, body(), **{"X-Mock-Scenario": "fail:timeout"}).json["data"]["job_id"]
    advance(client, 10)
    data = query(client, job_id).json["data"]
    assert_typed(data)
    assert (data["status"], data["refunded"], data["error"]) == (3, True, "generation timed out")
    assert data["credit"] == "0.375"  # what was charged, refunded
    assert "result" not in data and "reason" not in data


def test_the_failed_status_variant_reports_4(fixed: Flask) -> None:
    client = fixed.test_client()
    client.post("/_mock/settings", json={"failed_status": 4})
    job_id = create(client, body(), **{"X-Mock-Scenario": "fail"}).json["data"]["job_id"]
    advance(client, 10)
    data = query(client, job_id).json["data"]
    assert (data["status"], data["refunded"]) == (4, True)
    schemas.validator("query-response.json").validate({"code": 0, "data": data})


def test_job_ids_look_like_object_ids_and_never_repeat(fixed: Flask) -> None:
    client = fixed.test_client()
    ids = {create(client, body()).json["data"]["job_id"] for _ in range(200)}
    assert len(ids) == 200
    assert all(ID.match(job_id) for job_id in ids)
    assert {job_id[:8] for job_id in ids} == {f"{int(WALL):08x}"}  # seconds, then random


def test_new_job_ids_sort_by_creation_second() -> None:
    assert new_job_id(1_000) < new_job_id(2_000)
    assert new_job_id(0).startswith("00000000")


def test_key_name_is_the_configured_name_never_the_key(make_app: Callable[..., Flask]) -> None:
    client = make_app(API_KEYS={"test-key-1": "ci-runner"}).test_client()
    job_id = create(client, body()).json["data"]["job_id"]
    assert query(client, job_id).json["data"]["key_name"] == "ci-runner"
    unnamed = make_app().test_client()
    job_id = create(unnamed, body()).json["data"]["job_id"]
    data = query(unnamed, job_id).json["data"]
    assert data["key_name"] == "default"
    assert "test-key-1" not in str(data)


def test_the_callback_carries_the_same_record(fixed: Flask, receiver: CallbackReceiver) -> None:
    client = fixed.test_client()
    payload = {**body(), "callback_url": receiver.url}
    job_id = create(client, payload).json["data"]["job_id"]
    advance(client, 10)
    sent = receiver.received[0].json()["data"]
    answered = query(client, job_id).json["data"]
    assert {**answered, "job_id": job_id} == sent


def test_the_admin_view_shows_what_query_answers(fixed: Flask) -> None:
    client = fixed.test_client()
    job_id = create(client, body()).json["data"]["job_id"]
    advance(client, 10)
    view = client.get(f"/_mock/jobs/{job_id}").json
    assert view["answer"] == query(client, job_id).json["data"]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedMock]:
    workdir: Path = tmp_path_factory.mktemp("record")
    with served_mock(workdir, serve_args(workdir / "s.db")) as mock:
        yield mock


def test_served_mock_answers_the_record_over_http(served: ServedMock) -> None:
    created = requests.post(
        served.url("/api/v1/job/create"), headers=AUTH, json=body(), timeout=10
    ).json()["data"]
    assert ID.match(created["job_id"])
    served.advance(10)
    answer = requests.get(
        served.url(f"/api/v1/job/query?id={created['job_id']}"), headers=AUTH, timeout=10
    )
    data = answer.json()["data"]
    assert_typed(data)
    assert (data["status"], data["credit"]) == (2, created["amount"])
    assert data["result"]["videos"][0]["url"].endswith(f"/files/{created['job_id']}.mp4")
    schemas.validator("query-response.json").validate(answer.json())
