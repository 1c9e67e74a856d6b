"""The proxy in front of a mock served on 127.0.0.1: pass-through, the mock's validation on
the way, --block-invalid, --budget-usd, the recording (keys redacted), the dashboard and
callbacks rewritten, checked, recorded and forwarded."""

from __future__ import annotations

import contextlib
import io
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from helpers import AUTH, KEY, body
from pictures import image_bytes
from serving import free_port
from werkzeug.datastructures import FileStorage
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.test import encode_multipart

from mock_server import close_app, create_app
from mock_server.contract.targets import HttpTarget
from mock_server.contract.wire import json_or_none
from mock_server.keys import fingerprint
from mock_server.proxy import close_proxy_app, create_proxy_app
from mock_server.proxy.callbacks import CallbackRelay
from mock_server.proxy.parts import parts
from mock_server.proxy.recorder import SAVE_SECONDS
from mock_server.testing import TEST_CONFIG, MockHandle, ThreadedServer
from mock_server.testing.receiver import BackgroundServer, CallbackReceiver

CREATE = "/api/v1/job/create"
SECRET = "sk-live-PROXY-SECRET-0123456789"


class _Quiet(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Log nothing."""


@contextlib.contextmanager
def serving(app: Flask, port: int = 0) -> Iterator[str]:
    """Serve `app` on a loopback port (0: a free one) in a thread; yield its base URL."""
    server = make_server("127.0.0.1", port, app, threaded=True, request_handler=_Quiet)
    background = BackgroundServer(server, name="test-proxy")
    background.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        background.stop()


@pytest.fixture
def mock() -> Iterator[MockHandle]:
    """A real mock (manual clock) served on 127.0.0.1: the proxy's target."""
    app = create_app(TEST_CONFIG)
    with ThreadedServer(app) as server:
        yield MockHandle(app, server.base_url)
    close_app(app)


@pytest.fixture
def make_proxy(mock: MockHandle) -> Iterator[Callable[..., Flask]]:
    """Return a factory of proxy apps aimed at the served mock, closed after the test."""
    apps: list[Flask] = []

    def make(**config: Any) -> Flask:
        app = create_proxy_app({"TARGET": mock.base_url, **config})
        apps.append(app)
        return app

    yield make
    for app in apps:
        close_proxy_app(app)


def _create(client: FlaskClient, payload: Any, key: str = KEY) -> Any:
    return client.post(CREATE, json=payload, headers={"Authorization": f"Bearer {key}"})


def _query(client: FlaskClient, job_id: str, key: str = KEY) -> Any:
    return client.get(f"/api/v1/job/query?id={job_id}", headers={"Authorization": f"Bearer {key}"})


def test_proxy_passes_create_query_and_upload_through_unchanged(
    mock: MockHandle, make_proxy: Callable[..., Flask]
) -> None:
    """What the app gets through the proxy is what the mock answers, key and all."""
    client = make_proxy().test_client()
    created = _create(client, body())
    assert created.status_code == 200, created.json
    assert created.json["data"]["amount"] == "0.375"
    assert "X-Mock-Errors" not in created.headers and "X-Mock-Drift" not in created.headers
    job_id = created.json["data"]["job_id"]
    assert mock.requests()[-1]["key"] == fingerprint(KEY)  # Authorization went through
    mock.advance(10)
    proxied = _query(client, job_id)
    direct = requests.get(mock.url(f"/api/v1/job/query?id={job_id}"), headers=AUTH, timeout=5)
    assert proxied.status_code == 200 and proxied.data == direct.content
    assert proxied.json["data"]["status"] == 2 and "X-Mock-Drift" not in proxied.headers
    boundary, data = encode_multipart(
        {"file": FileStorage(io.BytesIO(image_bytes()), filename="a.png")}
    )
    upload = client.post(
        "/api/v1/image/send",
        data=data,
        content_type=f"multipart/form-data; boundary={boundary}",
        headers=AUTH,
    )
    assert upload.status_code == 200, upload.json
    assert upload.json["data"]["url"].startswith(mock.base_url)
    assert "X-Mock-Drift" not in upload.headers  # the mock's upload answer has our shape
    missing = _query(client, "0" * 24)
    assert missing.status_code == 404 and missing.json["code"] == 1203


def test_an_invalid_create_is_forwarded_with_the_mocks_problems(
    mock: MockHandle, make_proxy: Callable[..., Flask]
) -> None:
    """The proxy's X-Mock-Errors are the mock's own; the journal at /_mock/ has them too."""
    client = make_proxy().test_client()
    wrong = body(duration=5, mode="ultra")
    answer = _create(client, wrong)
    direct = requests.post(mock.url(CREATE), json=wrong, headers=AUTH, timeout=5)
    assert answer.status_code == 400 == direct.status_code
    assert json.loads(answer.headers["X-Mock-Errors"]) == json.loads(
        direct.headers["X-Mock-Errors"]
    )
    creates = [e for e in mock.requests() if e["path"] == CREATE]
    assert len(creates) == 2  # the proxy's and ours: it was forwarded
    entry = client.get("/_mock/requests").json["requests"][-1]
    assert entry["path"] == CREATE and entry["status"] == 400
    assert {p["pointer"] for p in entry["problems"]} >= {"/args/duration", "/args/mode"}
    lenient = _create(client, body(prompt="[@image3] walks"))
    assert lenient.status_code == 200 and "X-Mock-Warnings" in lenient.headers


def test_block_invalid_answers_the_mocks_400_and_never_forwards(
    mock: MockHandle, make_proxy: Callable[..., Flask]
) -> None:
    """--block-invalid: the mock's own error answer; the target never sees the request."""
    client = make_proxy(BLOCK_INVALID=True).test_client()
    wrong = body(duration=5)
    answer = _create(client, wrong)
    reference = create_app(TEST_CONFIG)
    try:
        expected = reference.test_client().post(CREATE, json=wrong, headers=AUTH)
    finally:
        close_app(reference)
    assert answer.status_code == 400 and answer.json == expected.json
    assert answer.headers["X-Mock-Errors"] == expected.headers["X-Mock-Errors"]
    assert mock.requests() == []
    assert _create(client, body()).status_code == 200  # valid ones still go through
    assert [e["path"] for e in mock.requests()] == [CREATE]


def test_budget_refuses_the_create_that_would_pass_the_cap(
    mock: MockHandle, make_proxy: Callable[..., Flask]
) -> None:
    """--budget-usd 0.5: a 0.375 job goes; the next would make 0.75, so it is refused."""
    client = make_proxy(BUDGET_USD="0.5").test_client()
    assert _create(client, body()).status_code == 200
    refused = _create(client, body())
    assert refused.status_code == 402
    assert refused.json["code"] == 1102 and refused.json["message"] == refused.json["info"]
    assert "--budget-usd cap of $0.5" in refused.json["message"]
    assert "$0.375 is spent" in refused.json["message"]
    assert len([e for e in mock.requests() if e["path"] == CREATE]) == 1
    assert _create(client, body(duration=None, mode="std")).status_code == 402


def test_recording_keeps_every_exchange_and_no_key(
    mock: MockHandle, make_proxy: Callable[..., Flask], tmp_path: Path
) -> None:
    """--record: creates as plan items with their queries; the key is nowhere in the file."""
    path = tmp_path / "traffic.json"
    client = make_proxy(RECORD=str(path)).test_client()
    job_id = _create(client, body(), key=SECRET).json["data"]["job_id"]
    _query(client, job_id, key=SECRET)
    mock.advance(10)
    _query(client, job_id, key=SECRET)
    _create(client, body(duration=5), key=SECRET)
    client.get(f"/api/v1/other?api_key={SECRET}", headers={"Authorization": f"Bearer {SECRET}"})
    # Written at most once a second while the proxy runs: the last exchange lands within that.
    deadline = time.monotonic() + 10 * SAVE_SECONDS
    while not json.loads(path.read_text())["other"] and time.monotonic() < deadline:
        time.sleep(0.05)
    text = path.read_text()
    assert SECRET not in text and "PROXY-SECRET" not in text
    data = json.loads(text)
    assert data["format"] == "shortapi-recording/1"
    job, invalid = data["items"]
    assert job["item"]["kind"] == "job" and job["job_id"] == job_id
    assert [e["request"]["path"] for e in job["exchanges"]] == [CREATE] + 2 * ["/api/v1/job/query"]
    assert job["exchanges"][0]["request"]["authorization"] == "Bearer $SHORTAPI_KEY"
    assert invalid["item"]["kind"] == "invalid"
    assert invalid["item"]["expected"] == {"status": 400, "code": 1201}
    assert data["other"][0]["request"]["query"] == "api_key=***"


def test_the_dashboard_shows_proxied_requests(
    mock: MockHandle, make_proxy: Callable[..., Flask]
) -> None:
    """GET /_mock/ui/requests on the proxy lists the proxied create and its job."""
    client = make_proxy().test_client()
    job_id = _create(client, body()).json["data"]["job_id"]
    page = client.get("/_mock/ui/requests")
    assert page.status_code == 200
    assert job_id in page.text and CREATE in page.text


def test_a_shared_sqlite_store_shows_proxied_requests_on_the_mocks_dashboard(
    make_proxy: Callable[..., Flask], tmp_path: Path
) -> None:
    """--store sqlite:PATH: a mock served on the same file lists the proxy's traffic."""
    store = f"sqlite:{tmp_path}/state.db"
    client = make_proxy(STORE=store).test_client()
    job_id = _create(client, body()).json["data"]["job_id"]
    dashboard = create_app({"STORE": store, "BACKGROUND": False})
    try:
        page = dashboard.test_client().get("/_mock/ui/requests")
    finally:
        close_app(dashboard)
    assert page.status_code == 200 and job_id in page.text


def test_callbacks_are_rewritten_checked_recorded_and_forwarded(
    mock: MockHandle, tmp_path: Path
) -> None:
    """--public-url: the target calls the proxy, which posts the body on to the app's URL."""
    path, reports = tmp_path / "traffic.json", tmp_path / "reports"
    resolver_calls: list[str] = []

    def resolver(host: str, port: int) -> list[str]:
        resolver_calls.append(host)
        return ["127.0.0.1"] if host == "app.test" else []

    with CallbackReceiver() as receiver:
        app_url = receiver.url.replace("127.0.0.1", "app.test")
        port = free_port()
        proxy_url = f"http://127.0.0.1:{port}"
        proxy = create_proxy_app(
            {
                "TARGET": mock.base_url,
                "RECORD": str(path),
                "REPORT_DIR": str(reports),
                "PUBLIC_URL": proxy_url,
                "CALLBACK_RESOLVER": resolver,
            }
        )
        try:
            with serving(proxy, port):
                answer = requests.post(
                    proxy_url + CREATE,
                    json={**body(), "callback_url": app_url},
                    headers=AUTH,
                    timeout=10,
                )
                assert answer.status_code == 200, answer.text
                job_id = answer.json()["data"]["job_id"]
                sent = mock.control.store.get_job(job_id)
                assert sent is not None and sent.callback_url is not None
                assert sent.callback_url.startswith(proxy_url + "/_proxy/callback/")
                mock.advance(10)
                got = receiver.wait_for(1)
        finally:
            close_proxy_app(proxy)
    assert got[0].json()["data"]["job_id"] == job_id
    assert got[0].headers["Host"] == app_url.split("/")[2]
    assert resolver_calls == ["app.test"]
    recording = json.loads(path.read_text())  # no query went through: the job is unfinished
    (entry,) = recording["unfinished"]
    assert entry["job_id"] == job_id and entry["callbacks"][0]["data"]["status"] == 2
    assert json.loads((reports / "drift.json").read_text())["disagreements"] == []


def test_a_callback_to_a_refused_url_is_not_forwarded() -> None:
    """The mock's callback URL policy applies: a denied host or a metadata name is refused."""
    relay = CallbackRelay(
        "http://127.0.0.1:1",
        allow=None,
        deny=("*.internal",),
        blocked=("169.254.0.0/16",),
        resolver=lambda host, port: ["169.254.169.254"],
        timeout=1.0,
    )
    try:
        assert "deny list" in str(relay.forward("http://db.internal/hook", b"{}", None))
        assert "metadata" in str(relay.forward("http://metadata.google.internal/", b"{}", None))
        assert "blocked network" in str(relay.forward("http://app.test/hook", b"{}", None))
    finally:
        relay.close()


def test_an_off_schema_callback_is_a_drift_entry_and_still_forwarded(tmp_path: Path) -> None:
    """A callback without data.job_id breaks callback.json: one A-callback-body entry."""
    reports = tmp_path / "reports"
    with CallbackReceiver() as receiver:
        proxy = create_proxy_app(
            {
                "TARGET": "http://127.0.0.1:9",
                "PUBLIC_URL": "http://127.0.0.1:9",
                "REPORT_DIR": str(reports),
            }
        )
        try:
            rewritten = parts(proxy).relay.rewrite({"callback_url": receiver.url}, "proxy/x")
            assert rewritten is not None
            url = json.loads(rewritten)["callback_url"]
            job = {"id": "a" * 24, "status": 0, "model": "kwaivgi/kling-o1/image-to-video"}
            answer = proxy.test_client().post(
                url.removeprefix("http://127.0.0.1:9"), json={"code": 0, "data": job}
            )
            assert answer.status_code == 200
            assert json.loads(answer.headers["X-Mock-Drift"])[0]["assumptions"] == [
                "A-callback-body"
            ]
            unknown = proxy.test_client().post("/_proxy/callback/nope", json={})
            assert unknown.status_code == 404
        finally:
            close_proxy_app(proxy)
        assert receiver.bodies() == [{"code": 0, "data": job}]
    drift = json.loads((reports / "drift.json").read_text())["disagreements"]
    assert [(d["item"], d["kind"]) for d in drift] == [("proxy/x", "shape")]


def test_the_proxy_offers_no_mock_controls_so_a_contract_run_sees_a_black_box(
    mock: MockHandle, make_proxy: Callable[..., Flask]
) -> None:
    """Its journal views only: advancing "the clock" on a proxy would steer nothing behind
    it, so every other /_mock/ path is the API's 404, never forwarded to the target."""
    proxy = make_proxy()
    client = proxy.test_client()
    job_id = _create(client, body()).json["data"]["job_id"]
    clock = mock.now()
    for method, path in [("POST", "/_mock/clock/advance"), ("POST", "/_mock/reset"),
                         ("GET", "/_mock/settings"), ("POST", "/_mock/faults")]:  # fmt: skip
        answer = client.open(path, method=method, json={"seconds": 10})
        assert answer.status_code == 404, path
        assert answer.json["code"] == 1203 and "no mock controls" in answer.json["message"]
    # None reached the target: its clock did not move, its job was not reset away.
    assert mock.now() == clock and mock.control.store.get_job(job_id) is not None
    assert client.get("/_mock/health").json == {"status": "proxy", "target": mock.base_url}
    assert client.get("/_mock/ui/requests").status_code == 200
    with serving(proxy) as url:
        target = HttpTarget(url)
        try:
            assert target.controls is None and target.paid  # the budget applies
        finally:
            target.close()


def test_recording_stays_json_and_replays_with_a_token_in_the_callback_url(
    mock: MockHandle, make_proxy: Callable[..., Flask], tmp_path: Path
) -> None:
    """A callback_url with ?token= and a live-format key in a prompt: masked value by value,
    the file is JSON, and serve --replay boots on it."""
    path = tmp_path / "traffic.json"
    live = "ak-" + "0123456789abcdef" * 2
    client = make_proxy(RECORD=str(path)).test_client()
    payload = {**body(prompt=f'say "{live}" twice'), "callback_url": "https://ex.com/cb?token=abc"}
    job_id = _create(client, payload, key=SECRET).json["data"]["job_id"]
    mock.advance(10)
    _query(client, job_id, key=SECRET)
    deadline = time.monotonic() + 10 * SAVE_SECONDS
    while not (json_or_none(path.read_bytes()) or {}).get("items"):
        assert time.monotonic() < deadline, path.read_text()
        time.sleep(0.05)
    text = path.read_text()
    data = json.loads(text)  # valid JSON
    assert "token=abc" not in text and live not in text and SECRET not in text
    sent = json.loads(data["items"][0]["exchanges"][0]["request"]["body"])
    assert sent["callback_url"] == "https://ex.com/cb?token=***"
    replaying = create_app({**TEST_CONFIG, "REPLAY_FILE": str(path)})
    close_app(replaying)
