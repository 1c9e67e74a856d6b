"""The proxy's checks and recordings: an off-schema target yields one drift entry of each
kind in the report; a recording of a served mock replays through the contract kit's
``replay:FILE`` target and through ``serve --replay``."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask, jsonify, request
from flask.testing import FlaskClient
from helpers import AUTH, KEY, MODEL, body
from serving import served_mock
from test_proxy import serving

from mock_server import close_app, create_app
from mock_server.contract.session import ContractSession, Options, target_for
from mock_server.contract.wire import Secret
from mock_server.proxy import close_proxy_app, create_proxy_app
from mock_server.testing import TEST_CONFIG, MockHandle, ThreadedServer

CREATE = "/api/v1/job/create"
IDS = {"types": "a" * 24, "status": "b" * 24, "kind": "c" * 24}


def _job(job_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": job_id,
        "key_name": "default",
        "model": MODEL,
        "args": body()["args"],
        "status": 0,
        "credit": "0.375",
        "refunded": False,
        "created_at": "2026-12-01T09:34:12.123Z",
        "updated_at": "2026-12-01T09:34:12.123Z",
        **fields,
    }


def off_schema_app() -> Flask:
    """A target that answers a wrong amount, a wrong type, an unknown status, wrong results."""
    app = Flask("off-schema")

    @app.post(CREATE)
    def create() -> Any:
        return jsonify({"code": 0, "data": {"amount": "9.99", "job_id": IDS["types"]}})

    @app.post("/api/v1/image/send")
    def upload() -> Any:
        return jsonify({"code": 0, "data": {"path": "/uploads/a.png"}})  # no url

    @app.get("/api/v1/job/query")
    def query() -> Any:
        job_id = request.args["id"]
        if job_id == IDS["types"]:
            return jsonify({"code": 0, "data": _job(job_id, credit=0.375)})
        if job_id == IDS["status"]:
            return jsonify({"code": 0, "data": _job(job_id, status=7)})
        done = "2026-12-01T09:34:22.123Z"
        images = {"images": [{"url": "https://cdn.example.com/a.png"}]}
        return jsonify({"code": 0, "data": _job(job_id, status=2, finished_at=done, result=images)})

    return app


def test_an_off_schema_target_gives_one_drift_entry_of_each_kind(tmp_path: Path) -> None:
    """Wrong amount, wrong type, unknown status, wrong result kind, an upload answer without
    its url: each once, with ids."""
    reports = tmp_path / "reports"
    with serving(off_schema_app()) as target:
        proxy = create_proxy_app({"TARGET": target, "REPORT_DIR": str(reports)})
        try:
            client = proxy.test_client()
            created = client.post(CREATE, json=body(), headers=AUTH)
            assert created.status_code == 200 and created.json["data"]["amount"] == "9.99"
            assert json.loads(created.headers["X-Mock-Drift"])[0]["kind"] == "amount"
            for job_id in IDS.values():
                client.get(f"/api/v1/job/query?id={job_id}", headers=AUTH)
            sent = client.post("/api/v1/image/send", data={"file": (io.BytesIO(b"x"), "a.png")})
            assert json.loads(sent.headers["X-Mock-Drift"])[0]["kind"] == "shape"
            on_disk = json.loads((reports / "drift.json").read_text())  # written on finding
        finally:
            close_proxy_app(proxy)
    found = {(d["kind"], tuple(d["assumptions"])) for d in on_disk["disagreements"]}
    assert found == {
        ("amount", ("A-amount-per-second", "A-amount-format")),
        ("shape", ("A-credit-field",)),
        ("unknown-status", ("A-status-codes",)),
        ("result-kind", ("A-result-key",)),
        ("shape", ("A-image-upload",)),
    }
    assert len(on_disk["disagreements"]) == 5 and on_disk["target"] == "proxy"
    markdown = (reports / "drift.md").read_text()
    assert "## 1. amount" in markdown and "$SHORTAPI_KEY" in markdown and KEY not in markdown
    assert (reports / "drift.xml").exists()


@pytest.fixture
def mock() -> Iterator[MockHandle]:
    """A real mock (manual clock) served on 127.0.0.1."""
    app = create_app(TEST_CONFIG)
    with ThreadedServer(app) as server:
        yield MockHandle(app, server.base_url)
    close_app(app)


def _record(mock: MockHandle, path: Path) -> str:
    """Proxy a job to its end and an invalid create, recording them; return the job id."""
    proxy = create_proxy_app({"TARGET": mock.base_url, "RECORD": str(path)})
    try:
        client: FlaskClient = proxy.test_client()
        job_id = str(client.post(CREATE, json=body(), headers=AUTH).json["data"]["job_id"])
        client.get(f"/api/v1/job/query?id={job_id}", headers=AUTH)
        mock.advance(10)
        client.get(f"/api/v1/job/query?id={job_id}", headers=AUTH)
        client.post(CREATE, json=body(duration=5), headers=AUTH)
    finally:
        close_proxy_app(proxy)
    return job_id


def test_a_proxy_recording_replays_through_the_contract_kit(
    mock: MockHandle, tmp_path: Path
) -> None:
    """replay:FILE: the recorded traffic agrees with the reference mock (timing aside)."""
    path = tmp_path / "traffic.json"
    _record(mock, path)
    session = ContractSession(
        target_for(f"replay:{path}", live_url="https://api.shortapi.ai", timeout=5),
        Secret("sk-replay-key"),
        Options(report_dir=tmp_path / "reports"),
    )
    try:
        report = session.drift()
    finally:
        session.close()
    assert len(report.compared) == 2 and not report.skipped
    assert [d.kind for d in report.disagreements if not d.informational] == []
    runs = session.plan_runs()
    job = next(run for run in runs.values() if run.item.kind == "job")
    assert job.sequence == [0, 2] and job.final is not None


def test_serve_replay_answers_recorded_jobs_as_recorded(mock: MockHandle, tmp_path: Path) -> None:
    """REPLAY_FILE: the n-th query of a recorded job gets the n-th recorded answer."""
    path = tmp_path / "traffic.json"
    job_id = _record(mock, path)
    app = create_app({**TEST_CONFIG, "REPLAY_FILE": str(path)})
    try:
        client = app.test_client()
        statuses = [
            client.get(f"/api/v1/job/query?id={job_id}", headers=AUTH).json["data"]["status"]
            for _ in range(3)
        ]
        other = client.get(f"/api/v1/job/query?id={'0' * 24}", headers=AUTH)
        unauthorized = client.get(f"/api/v1/job/query?id={job_id}")
        assert statuses == [0, 2, 2] and other.status_code == 404
        assert unauthorized.status_code == 401
        assert client.post(CREATE, json=body(), headers=AUTH).status_code == 200  # as usual
    finally:
        close_app(app)


@pytest.mark.slow
def test_serve_replay_flag_on_a_served_mock(mock: MockHandle, tmp_path: Path) -> None:
    """shortapi-mock serve --replay FILE answers the recorded job's queries over HTTP."""
    path = tmp_path / "traffic.json"
    job_id = _record(mock, path)
    args = ["serve", "--store", "memory", "--workers", "1", "--replay", str(path)]
    with served_mock(tmp_path, args) as served:
        url = served.url(f"/api/v1/job/query?id={job_id}")
        first = requests.get(url, headers=AUTH, timeout=5).json()
        second = requests.get(url, headers=AUTH, timeout=5).json()
    assert (first["data"]["status"], second["data"]["status"]) == (0, 2)
    assert second["data"]["result"]["videos"][0]["url"].startswith(mock.base_url)


@pytest.mark.slow
def test_contract_command_replays_a_proxy_recording(mock: MockHandle, tmp_path: Path) -> None:
    """shortapi-mock contract --target replay:FILE passes on a recording of the mock."""
    path, reports = tmp_path / "traffic.json", tmp_path / "reports"
    _record(mock, path)
    command = [sys.executable, "-m", "mock_server", "contract", "--target", f"replay:{path}"]
    command += ["--report-dir", str(reports), "-q", "-p", "no:randomly"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-3000:]
    drift = json.loads((reports / "drift.json").read_text())
    assert {d["kind"] for d in drift["disagreements"]} <= {"timing"}
    assert len(drift["compared"]) == 2


@pytest.mark.slow
def test_proxy_command_serves_records_and_reports(mock: MockHandle, tmp_path: Path) -> None:
    """shortapi-mock proxy: forwards over HTTP; the recording and report are there on stop."""
    path, reports = tmp_path / "traffic.json", tmp_path / "reports"
    args = ["proxy", "--target", mock.base_url, "--record", str(path)]
    args += ["--report-dir", str(reports), "--block-invalid"]
    with served_mock(tmp_path, args, cwd=tmp_path) as proxy:
        created = requests.post(proxy.url(CREATE), json=body(), headers=AUTH, timeout=10)
        blocked = requests.post(proxy.url(CREATE), json=body(duration=5), headers=AUTH, timeout=10)
        journal = requests.get(proxy.url("/_mock/requests"), timeout=5).json()["requests"]
        assert f"proxy on {proxy.base_url} -> {mock.base_url}" in proxy.stdout()
    assert created.status_code == 200 and blocked.status_code == 400
    assert [e["status"] for e in journal] == [200, 400]
    assert [e["path"] for e in mock.requests()] == [CREATE]
    assert json.loads(path.read_text())["unfinished"][0]["item"]["kind"] == "job"
    assert json.loads((reports / "drift.json").read_text())["disagreements"] == []
    assert not (tmp_path / ".hypothesis").exists()  # the user's folder is left alone
