"""What one request may cost the mock: kept errors, echoed problems, args, durations, pixels,
strict JSON (mock_server/bounds.py, mock_server/strictjson.py)."""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import pytest
from flask.testing import FlaskClient
from helpers import AUTH, body, create
from pictures import data_uri, declaring

from mock_server import bounds, create_app, extensions
from mock_server.api import routes
from mock_server.catalog.registry import MODELS
from mock_server.control import faults
from mock_server.data import schemas


@pytest.fixture
def app() -> Any:
    return create_app({"CLOCK": "manual", "BACKGROUND": False, "STORE": "memory"})


@pytest.fixture
def client(app: Any) -> FlaskClient:
    return app.test_client()


def raw(client: FlaskClient, text: str | bytes, **headers: str) -> Any:
    return client.post(
        "/api/v1/job/create",
        data=text,
        headers={**AUTH, "Content-Type": "application/json", **headers},
    )


def test_unexpected_errors_kept_bounded_and_without_their_requests(
    app: Any, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(payload: Any, **_: Any) -> Any:
        held = bytes(payload["args"]["prompt"], "ascii") * 4  # a local the frame holds
        raise RuntimeError(f"broken on {len(held)} bytes")

    monkeypatch.setattr(routes, "validate_create", broken)
    sent = bounds.ERRORS_KEPT + 15
    for _ in range(sent):
        assert create(client, body(prompt="x" * 100_000)).status_code == 500
    kept = extensions.errors(app)
    assert len(kept) == bounds.ERRORS_KEPT
    assert kept.dropped == sent - bounds.ERRORS_KEPT
    for error in kept:
        tb = error.__traceback__
        while tb is not None:  # the frames' locals (the body among them) are released
            assert not any(
                isinstance(v, (bytes, str)) and len(v) > 10_000
                for v in tb.tb_frame.f_locals.values()
            ), tb.tb_frame.f_code.co_name
            tb = tb.tb_next


def test_a_5000_digit_integer_is_a_400_not_a_500(client: FlaskClient) -> None:
    payload = json.dumps(body()).replace('"std"', "9" * 5000)
    response = raw(client, payload)
    assert response.status_code == 400
    assert "5,000 digits" in response.json["message"]
    assert "/args/mode" in response.json["message"]


@pytest.mark.parametrize(
    ("text", "pointer"),
    [
        ("NaN", "/args/duration"),
        ("Infinity", "/args/duration"),
        ("-Infinity", "/args/duration"),
        ("1e999", "/args/duration"),
    ],
)
def test_non_json_numbers_refused_with_a_pointer(
    client: FlaskClient, text: str, pointer: str
) -> None:
    payload = json.dumps(body(duration=5)).replace('"duration": 5', f'"duration": {text}')
    response = raw(client, payload)
    assert response.status_code == 400, response.json
    assert pointer in response.json["message"]
    assert "not JSON" in response.json["message"]


@pytest.mark.parametrize(
    "payload",
    [
        '{"model": "kwaivgi/kling-o1/image-to-video", "args": {}, '
        '"callback_url": "https://example.com/\\ud800"}',
        '{"model": "kwaivgi/kling-o1/image-to-video", "args": {"\\udfff": 1}}',
    ],
)
def test_lone_surrogates_refused_at_the_door(client: FlaskClient, payload: str) -> None:
    response = raw(client, payload)
    assert response.status_code == 400
    assert "lone surrogate" in response.json["message"]
    assert client.get("/_mock/ui/requests").status_code == 200
    assert client.get("/_mock/requests").status_code == 200


def test_admin_bodies_are_strict_json(client: FlaskClient) -> None:
    response = client.post(
        "/_mock/faults",
        data='{"random": {"seed": 1, "create": {"503": NaN}}}',
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "NaN" in response.json["message"]


def test_answers_never_hold_nan(app: Any, client: FlaskClient) -> None:
    with app.app_context(), pytest.raises(ValueError, match="JSON compliant"):
        app.json.dumps({"x": float("nan")})


@pytest.mark.parametrize(
    ("header", "value", "bound"),
    [
        ("X-Mock-Fault", "latency:3600000", "LATENCY_MS"),
        ("X-Mock-Fault", "latency:10-3600000", "LATENCY_MS"),
        ("X-Mock-Fault", "latency:" + "9" * 400, "LATENCY_MS"),
        ("X-Mock-Fault", ",".join(["latency:100000"] * 40), "LATENCY_MS"),  # in all
        ("X-Mock-Scenario", "slow:" + "9" * 400, "SCENARIO_SECONDS"),
        ("X-Mock-Scenario", "slow:99999999", "SCENARIO_SECONDS"),
        ("X-Mock-Scenario", "callback:delay:99999999", "SCENARIO_SECONDS"),
    ],
)
def test_durations_above_their_bound_refused_at_once(
    client: FlaskClient, header: str, value: str, bound: str
) -> None:
    response = create(client, body(), **{header: value})
    assert response.status_code == 400
    assert bound in response.json["message"]


@pytest.mark.parametrize(
    ("path", "spec", "bound"),
    [
        ("/_mock/faults", {"fault": "latency:3600000"}, "LATENCY_MS"),
        ("/_mock/scenarios", {"scenario": "slow:99999999"}, "SCENARIO_SECONDS"),
    ],
)
def test_admin_durations_above_their_bound_refused(
    client: FlaskClient, path: str, spec: dict[str, str], bound: str
) -> None:
    response = client.post(path, json=spec)
    assert response.status_code == 400
    assert bound in response.json["message"]


def test_mock_control_refuses_an_hour_of_latency(app: Any) -> None:
    with pytest.raises(Exception, match="LATENCY_MS"):
        extensions.control(app).add_fault("latency:3600000")


def test_latency_ends_when_the_client_hangs_up() -> None:
    slept: list[float] = []
    calls = iter([False, False, True])
    faults.apply(["latency:100000"], sleep=slept.append, gone=lambda: next(calls))
    assert len(slept) == 2 and sum(slept) <= 1.0


def test_200000_unknown_args_refused_small(app: Any, client: FlaskClient) -> None:
    args = {**body()["args"], **{f"unknown_{i}": i for i in range(200_000)}}
    response = create(client, {"model": body()["model"], "args": args})
    assert response.status_code == 400
    assert "ARGS_VALUES" in response.json["message"]
    assert len(response.get_data()) < 64 * 1024
    assert len(response.headers.get("X-Mock-Errors", "")) < 64 * 1024
    entry = client.get("/_mock/requests?limit=1").json["requests"][-1]
    assert len(json.dumps(entry)) < 1024 * 1024


def test_thousands_of_unknown_args_echo_a_bounded_list(app: Any, client: FlaskClient) -> None:
    args = {**body()["args"], **{f"unknown_{i}": i for i in range(5_000)}}
    response = create(client, {"model": body()["model"], "args": args})
    assert response.status_code in (200, 400)
    echoed = response.headers.get("X-Mock-Errors") or response.headers.get("X-Mock-Warnings")
    assert echoed is not None and len(echoed) < 64 * 1024
    listed = json.loads(echoed)
    assert len(listed) == bounds.PROBLEMS_ECHOED + 1
    assert "left out" in listed[-1]["message"]
    assert len(response.get_data()) < 64 * 1024
    entry = client.get("/_mock/requests?limit=1").json["requests"][-1]
    assert len(json.dumps(entry)) < 1024 * 1024
    assert len(entry["problems"]) == bounds.PROBLEMS_ECHOED + 1
    page = client.get("/_mock/ui/requests")
    assert page.status_code == 200 and len(page.get_data()) < 4 * 1024 * 1024


def test_deep_args_refused_with_the_bound(client: FlaskClient) -> None:
    deep: Any = 1
    for _ in range(bounds.ARGS_DEPTH + 5):
        deep = [deep]
    response = create(client, body(prompt=deep))
    assert response.status_code == 400
    assert "ARGS_DEPTH" in response.json["message"]


@pytest.mark.parametrize("fmt", ["WEBP", "PNG", "JPEG"])
def test_pixel_bomb_data_uri_refused_unread(client: FlaskClient, fmt: str) -> None:
    bomb = declaring(8000, 8000, fmt)
    mime = {"WEBP": "image/webp", "PNG": "image/png", "JPEG": "image/jpeg"}[fmt]
    response = create(client, body(images=[data_uri(bomb, mime)]))
    assert response.status_code == 400
    assert "IMAGE_PIXELS" in response.json["message"]


@pytest.mark.parametrize("fmt", ["WEBP", "PNG", "JPEG"])
def test_pixel_bomb_upload_refused_unread(client: FlaskClient, fmt: str) -> None:
    bomb = declaring(8000, 8000, fmt)
    response = client.post(
        "/api/v1/image/send",
        data={"file": (io.BytesIO(bomb), f"bomb.{fmt.lower()}")},
        headers=AUTH,
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "IMAGE_PIXELS" in response.json["message"]


def test_pixel_bomb_never_decoded(monkeypatch: pytest.MonkeyPatch) -> None:
    from PIL import ImageFile

    from mock_server.validation import images

    def refuse(self: Any) -> None:
        raise AssertionError("decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)
    bomb = declaring(8000, 8000, "WEBP")
    assert base64.b64encode(bomb)  # a few bytes declaring 64 MP
    _, problems = images.check_bytes(bomb, "/file")
    assert [p.rule for p in problems] == ["image.max_pixels"]


def test_a_latency_ends_when_its_client_hangs_up() -> None:
    """A served mock stops waiting out latency:60000 once the client closes the connection:
    the request is journaled within seconds, not after a minute."""
    import socket
    import time
    from urllib.parse import urlsplit

    from mock_server import close_app
    from mock_server.testing import TEST_CONFIG, ThreadedServer

    app = create_app({**TEST_CONFIG, "STORE": "memory"})
    try:
        with ThreadedServer(app) as server:
            address = urlsplit(server.base_url)
            payload = json.dumps(body()).encode()
            head = (
                f"POST /api/v1/job/create HTTP/1.1\r\nHost: {address.netloc}\r\n"
                f"Authorization: {AUTH['Authorization']}\r\nContent-Type: application/json\r\n"
                f"X-Mock-Fault: latency:60000\r\nContent-Length: {len(payload)}\r\n\r\n"
            )
            with socket.create_connection((address.hostname, address.port)) as client:
                client.sendall(head.encode() + payload)
            deadline = time.monotonic() + 20  # the latency asked for is 60 s
            while not (entries := extensions.control(app).journal()):
                assert time.monotonic() < deadline, "still waiting out the latency"
                time.sleep(0.05)
            assert entries[-1]["duration_ms"] < 20_000
    finally:
        close_app(app)


@pytest.mark.parametrize(
    ("path", "payload", "bound"),
    [
        ("/_mock/clock", {"mode": "realtime", "speed": 1e308}, "SPEED"),
        ("/_mock/clock/advance", {"seconds": 1e308}, "CLOCK_SECONDS"),
        ("/_mock/settings", {"queued_seconds": 1e308}, "CLOCK_SECONDS"),
        ("/_mock/accounts/test-key-1", {"balance": "1e999999999"}, "BALANCE"),
        ("/_mock/accounts/test-key-1", {"balance": "9" * 5000}, "BALANCE"),
    ],
)
def test_admin_values_that_would_overflow_the_clock_or_money_refused(
    client: FlaskClient, path: str, payload: dict[str, Any], bound: str
) -> None:
    response = client.post(path, json=payload)
    assert response.status_code == 400, response.json
    assert bound in response.json["message"]
    assert client.get("/_mock/clock").status_code == 200
    assert create(client, body()).status_code == 200


@pytest.mark.parametrize(
    ("payload", "headers"),
    [
        ({"model": "m" * 1_000_000, "args": {}}, {}),
        (body(), {"X-Mock-Fault": "x" * 100_000}),
    ],
)
def test_an_error_echoing_a_huge_value_stays_small(
    client: FlaskClient, payload: Any, headers: dict[str, str]
) -> None:
    response = create(client, payload, **headers)
    assert response.status_code == 400
    assert len(response.get_data()) < 64 * 1024
    assert "more characters" in response.json["message"]


def test_background_errors_kept_bounded(app: Any) -> None:
    """A long outage (every tick failing) keeps only the newest errors of the callback thread."""
    kept = extensions.dispatcher(app).errors
    for number in range(500):
        kept.append(RuntimeError(f"store down ({number})"))
    assert len(kept) == bounds.ERRORS_KEPT and kept.dropped == 500 - bounds.ERRORS_KEPT
    assert str(kept[-1]) == "store down (499)"


def test_a_job_of_thousands_of_args_has_a_small_page(client: FlaskClient) -> None:
    """Accepted (unknown args warned of) or not, the dashboard's job page stays small."""
    args = {**body()["args"], **{f"unknown_{i}": "v" * 100 for i in range(9_000)}}
    response = create(client, {"model": body()["model"], "args": args})
    assert response.status_code == 200, response.json
    page = client.get(f"/_mock/ui/jobs/{response.json['data']['job_id']}")
    assert page.status_code == 200 and len(page.get_data()) < 512 * 1024
    assert "more args left out" in page.get_data(as_text=True)


HUGE = "1" * 5_000


@pytest.mark.parametrize(
    ("model", "args"),
    [
        # Undocumented media args are accepted by default (A-envelope-unknown-keys) and read
        # by the result's guesses: none may make a job of a million files or a 500.
        ("openai/gpt-image-2/text-to-image", {"n": 2_000_000}),
        ("openai/gpt-image-2/text-to-image", {"num_images": 10**30}),
        ("shortapi/flux-1.0/text-to-image", {"resolution": HUGE + "p"}),
        ("shortapi/flux-1.0/text-to-image", {"resolution": HUGE + "k"}),
        ("shortapi/flux-1.0/text-to-image", {"resolution": HUGE}),
        ("alibaba/wan-2.6/reference-to-video", {"resolution": HUGE + "k"}),
        ("alibaba/wan-2.6/reference-to-video", {"resolution": HUGE}),
        ("alibaba/wan-2.6/reference-to-video", {"width": 10**30, "height": 1}),
    ],
)
def test_undocumented_media_args_make_bounded_results(
    client: FlaskClient, model: str, args: dict[str, Any]
) -> None:
    example = schemas.load(MODELS[model].args_schema)["examples"][0]
    answer = create(client, {"model": model, "args": {**example, **args}})
    assert answer.status_code == 200, answer.get_json()
    job_id = answer.get_json()["data"]["job_id"]
    client.post("/_mock/clock/advance", json={"seconds": 3600})
    data = client.get(f"/api/v1/job/query?id={job_id}", headers=AUTH).get_json()["data"]
    assert data["status"] == 2
    urls = [entry["url"] for entries in data["result"].values() for entry in entries]
    assert 1 <= len(urls) <= bounds.RESULT_FILES
    for url in urls[:2]:
        assert client.get(url.split("localhost", 1)[-1]).status_code == 200


def test_a_body_of_300000_unknown_keys_is_refused_before_it_is_explained(
    client: FlaskClient,
) -> None:
    payload = {**body(), **{f"k{n}": 1 for n in range(300_000)}}
    answer = create(client, payload)
    assert answer.status_code == 400
    assert "ENVELOPE_KEYS" in answer.get_json()["message"]
    assert len(answer.headers.get("X-Mock-Errors", "")) < 64 * 1024
