"""The API routes: envelopes, auth, ownership, amounts, lifecycle and every error path."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from helpers import AUTH, advance, body, create, query

from mock_server.data import schemas
from mock_server.data.mp4info import probe


def assert_envelope(response: Any, status: int, code: int) -> dict[str, Any]:
    assert response.status_code == status
    assert response.mimetype == "application/json"
    envelope: dict[str, Any] = response.json
    schemas.validator("error.json").validate(envelope)
    assert envelope["code"] == code
    assert envelope["message"] == envelope["info"]
    return envelope


def new_job(client: FlaskClient, **args: Any) -> str:
    response = create(client, body(**args))
    assert response.status_code == 200, response.json
    job_id: str = response.json["data"]["job_id"]
    return job_id


def test_create_answers_documented_envelope(client: FlaskClient) -> None:
    response = create(client, body())
    assert response.status_code == 200
    schemas.validator("create-response.json").validate(response.json)
    assert set(response.json) == {"code", "data"}
    assert set(response.json["data"]) == {"amount", "job_id"}


def test_job_ids_are_unique(client: FlaskClient) -> None:
    assert len({new_job(client) for _ in range(50)}) == 50


@pytest.mark.parametrize(
    ("mode", "duration", "amount"),
    [
        ("std", "5", "0.375"),
        ("std", "10", "0.75"),
        ("pro", "5", "0.5"),
        ("pro", "10", "1"),
        ("std", "3", "0.225"),
        ("pro", "7", "0.7"),
    ],
)
def test_amount_is_price_per_second_times_duration(
    client: FlaskClient, mode: str, duration: str, amount: str
) -> None:
    images = ["https://e.com/a.jpg", "https://e.com/b.jpg"]
    response = create(client, body(mode=mode, duration=duration, images=images))
    assert response.json["data"]["amount"] == amount


def test_price_table_is_configurable(make_app: Any) -> None:
    client = make_app(PRICES={"kwaivgi/kling-o1/image-to-video": {"std": "0.01"}}).test_client()
    assert create(client, body(mode="std")).json["data"]["amount"] == "0.05"


def test_lifecycle_on_manual_clock(client: FlaskClient) -> None:
    job_id = new_job(client, duration="10")
    validator = schemas.validator("query-response.json")
    seen = []
    for step in (0, 1.9, 0.1, 7.9, 0.1, 100):
        advance(client, step)
        response = query(client, job_id)
        validator.validate(response.json)
        seen.append(response.json["data"]["status"])
    assert seen == [0, 0, 1, 1, 2, 2]
    data = query(client, job_id).json["data"]
    assert data["id"] == job_id
    assert data["result"]["videos"][0]["url"].endswith(f"/files/{job_id}.mp4")


def test_per_poll_clock_moves_one_step_per_query(make_app: Any) -> None:
    client = make_app(CLOCK="per-poll").test_client()
    job_id = new_job(client)
    assert [query(client, job_id).json["data"]["status"] for _ in range(4)] == [0, 1, 2, 2]


def test_realtime_clock_uses_injected_wall_time_and_speed(make_app: Any) -> None:
    wall = [1000.0]
    client = make_app(CLOCK="realtime", SPEED=10.0, WALL_CLOCK=lambda: wall[0]).test_client()
    job_id = new_job(client)
    assert query(client, job_id).json["data"]["status"] == 0
    wall[0] += 0.5  # 5 clock seconds
    assert query(client, job_id).json["data"]["status"] == 1
    wall[0] += 0.5
    assert query(client, job_id).json["data"]["status"] == 2


def test_phase_durations_are_configurable(make_app: Any) -> None:
    client = make_app(QUEUED_SECONDS=0, PROCESSING_SECONDS=60).test_client()
    job_id = new_job(client)
    assert query(client, job_id).json["data"]["status"] == 1
    advance(client, 60)
    assert query(client, job_id).json["data"]["status"] == 2


@pytest.mark.parametrize(
    ("setting", "key"), [("auto", "videos"), ("videos", "videos"), ("images", "images")]
)
def test_result_key_is_the_output_kind_unless_forced(make_app: Any, setting: str, key: str) -> None:
    client = make_app(RESULT_KEY=setting).test_client()
    job_id = new_job(client)
    advance(client, 10)
    result = query(client, job_id).json["data"]["result"]
    assert list(result) == [key]


def test_public_url_sets_result_links(make_app: Any) -> None:
    client = make_app(PUBLIC_URL="https://mock.example/").test_client()
    job_id = new_job(client)
    advance(client, 10)
    url = query(client, job_id).json["data"]["result"]["videos"][0]["url"]
    assert url == f"https://mock.example/files/{job_id}.mp4"


@pytest.mark.parametrize(
    ("args", "ratio", "seconds"),
    [
        ({}, (16, 9), 5),
        ({"action": "refer", "aspect_ratio": "9:16", "duration": "7"}, (9, 16), 7),
        ({"action": "refer", "aspect_ratio": "1:1", "duration": "3"}, (1, 1), 3),
    ],
)
def test_result_file_is_an_mp4_of_the_requested_shape(
    client: FlaskClient, args: dict[str, Any], ratio: tuple[int, int], seconds: int
) -> None:
    job_id = new_job(client, **args)
    assert_envelope(client.get(f"/files/{job_id}.mp4"), 404, 1203)  # not finished yet
    advance(client, 10)
    with client.get(f"/files/{job_id}.mp4") as response:
        assert response.status_code == 200
        assert response.mimetype == "video/mp4"
        info = probe(response.data)
    assert info.codec == "avc1"
    assert abs(info.duration_s - seconds) < 0.2
    assert info.width * ratio[1] == info.height * ratio[0]


def test_result_file_supports_range_requests(client: FlaskClient) -> None:
    job_id = new_job(client)
    advance(client, 10)
    with client.get(f"/files/{job_id}.mp4", headers={"Range": "bytes=0-99"}) as response:
        assert response.status_code == 206
        assert len(response.data) == 100


def test_unknown_file_answers_envelope(client: FlaskClient) -> None:
    assert_envelope(client.get("/files/nope.mp4"), 404, 1203)


# --- auth and ownership -----------------------------------------------------------------


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer ", "Basic abc", "token abc"])
def test_missing_or_malformed_auth_is_401(client: FlaskClient, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    response = client.post("/api/v1/job/create", json=body(), headers=headers)
    assert_envelope(response, 401, 1001)
    assert_envelope(client.get("/api/v1/job/query?id=x", headers=headers), 401, 1001)


def test_configured_key_list_rejects_other_keys(make_app: Any) -> None:
    client = make_app(API_KEYS=["good"]).test_client()
    bad = client.post("/api/v1/job/create", json=body(), headers={"Authorization": "Bearer bad"})
    assert_envelope(bad, 401, 1002)
    good = client.post("/api/v1/job/create", json=body(), headers={"Authorization": "Bearer good"})
    assert good.status_code == 200


def test_job_is_visible_only_to_its_key(client: FlaskClient) -> None:
    job_id = new_job(client)
    assert query(client, job_id).status_code == 200
    assert_envelope(query(client, job_id, key="someone-else"), 404, 1203)


# --- error paths --------------------------------------------------------------------------


def test_query_without_id_is_400(client: FlaskClient) -> None:
    envelope = assert_envelope(client.get("/api/v1/job/query", headers=AUTH), 400, 1201)
    assert "id is required" in envelope["message"]
    assert_envelope(client.get("/api/v1/job/query?id=", headers=AUTH), 400, 1201)


def test_query_unknown_id_is_404(client: FlaskClient) -> None:
    assert_envelope(query(client, "0" * 32), 404, 1203)


@pytest.mark.parametrize(
    ("data", "content_type", "status"),
    [
        (b"{not json", "application/json", 400),
        (b"", "application/json", 400),
        (b"\xff\xfe", "application/json", 400),
        (b"[1, 2]", "application/json", 400),
        (b'"text"', "application/json", 400),
        (b"null", "application/json", 400),
        (b"[" * 100_000, "application/json", 400),
        (b'{"model": 1}', "text/plain", 415),
        (b'{"model": 1}', None, 415),
        (b"model=x", "application/x-www-form-urlencoded", 415),
    ],
)
def test_malformed_bodies_answer_envelope(
    client: FlaskClient, data: bytes, content_type: str | None, status: int
) -> None:
    headers = dict(AUTH)
    if content_type:
        headers["Content-Type"] = content_type
    response = client.post("/api/v1/job/create", data=data, headers=headers)
    assert_envelope(response, status, 1200)


def test_body_over_limit_is_413(make_app: Any) -> None:
    client = make_app(MAX_CONTENT_LENGTH=1000).test_client()
    response = client.post(
        "/api/v1/job/create",
        data=b"{" + b" " * 2000 + b"}",
        headers={**AUTH, "Content-Type": "application/json"},
    )
    envelope = assert_envelope(response, 413, 1200)
    assert "1000 bytes" in envelope["message"]
    assert response.headers["Connection"] == "close"  # the unread body ends the connection


def test_unknown_path_is_404_envelope(client: FlaskClient) -> None:
    assert_envelope(client.get("/api/v2/nothing"), 404, 1203)
    assert_envelope(client.post("/"), 404, 1203)


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/api/v1/job/create"), ("DELETE", "/api/v1/job/query"), ("PUT", "/api/v1/job/create")],
)
def test_wrong_method_is_405_envelope(client: FlaskClient, method: str, path: str) -> None:
    response = client.open(path, method=method, headers=AUTH)
    assert_envelope(response, 405, 1200)
    assert response.headers["Allow"]


def test_rejected_create_stores_no_job(app: Flask, client: FlaskClient) -> None:
    create(client, body(mode="bad"))
    assert client.get("/_mock/jobs").json["jobs"] == []


def test_openapi_document_is_served_bundled(client: FlaskClient) -> None:
    document = client.get("/openapi.json").json
    assert document["openapi"].startswith("3.1")
    refs = [r for r in _refs(document) if not r.startswith("#/")]
    assert refs == []  # every file reference is inlined
    branches = document["components"]["schemas"]["CreateRequest"]["oneOf"]
    assert {"const": "kwaivgi/kling-o1/image-to-video"} in [
        b["properties"]["model"] for b in branches
    ]  # one branch per model (tests/test_models.py checks them all)


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for value in node.values() for r in _refs(value)]
    if isinstance(node, list):
        return [r for item in node for r in _refs(item)]
    return []
