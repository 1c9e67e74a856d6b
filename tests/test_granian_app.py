"""`serve --server granian`: the same app under granian, keys redacted in its access log, and
the faults it cannot carry out (dropping a connection) answered with the error envelope."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
import requests
from helpers import body
from serving import serve_args, served_mock

from mock_server import create_app
from mock_server.errors import SERVER_ERROR
from mock_server.serve.granian_app import NoDrops, RedactingAccessLog, granian_flags

PLANTED = "sk-live-PLANTED-granian-77a1"


def _call(app: Any, environ: dict[str, Any]) -> tuple[str, bytes]:
    seen: list[str] = []

    def start_response(status: str, headers: Any, exc_info: Any = None) -> None:
        seen.append(status)

    chunks = app(environ, start_response)
    return seen[-1], b"".join(chunks)  # the last status given is the one sent


def _environ(path: str, query: str = "", key: str = PLANTED) -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_AUTHORIZATION": f"Bearer {key}",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": io.StringIO(),
    }


def test_access_log_line_masks_the_key_in_path_and_query() -> None:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [])
        return [b"{}"]

    stream = io.StringIO()
    logged = RedactingAccessLog(app, stream)
    _call(logged, _environ(f"/_mock/accounts/{PLANTED}", f"token={PLANTED}"))
    line = stream.getvalue()
    assert '"GET /_mock/accounts/***?token=*** HTTP/1.1" 200 ' in line
    assert PLANTED not in line


def test_no_drops_answers_the_envelope_for_a_dropped_connection() -> None:
    app = NoDrops(create_app({"STORE": "memory", "CLOCK": "manual", "BACKGROUND": False}))
    environ = {**_environ("/api/v1/job/query", "id=x"), "HTTP_X_MOCK_FAULT": "reset"}
    status, payload = _call(app, environ)
    assert status.startswith("500")
    answer = json.loads(payload)
    assert answer["code"] == SERVER_ERROR and answer["message"] == answer["info"]
    assert "--server gunicorn" in answer["message"]


def test_granian_flags_name_the_wsgi_interface_and_settings() -> None:
    flags = granian_flags(2, 3)
    assert flags[:2] == ["--interface", "wsgi"]
    assert flags[flags.index("--workers") + 1] == "2"
    assert flags[flags.index("--blocking-threads") + 1] == "3"


@pytest.mark.slow
def test_served_under_granian_creates_queries_and_hides_keys(tmp_path: Path) -> None:
    args = [*serve_args(tmp_path / "g.db"), "--server", "granian", "--access-log"]
    auth = {"Authorization": f"Bearer {PLANTED}"}
    with served_mock(tmp_path, args) as mock:
        created = requests.post(mock.url("/api/v1/job/create"), json=body(), headers=auth)
        assert created.status_code == 200, created.text
        job_id = created.json()["data"]["job_id"]
        for _ in range(4):  # two workers, one SQLite file: every query finds the job
            query = mock.url(f"/api/v1/job/query?id={job_id}&token={PLANTED}")
            answer = requests.get(query, headers=auth, timeout=5)
            assert answer.status_code == 200 and answer.json()["data"]["id"] == job_id
        dropped = requests.get(
            mock.url(f"/api/v1/job/query?id={job_id}"),
            headers={**auth, "X-Mock-Fault": "reset"},
            timeout=5,
        )
        assert dropped.status_code == 500 and dropped.json()["code"] == SERVER_ERROR
        missing = requests.get(mock.url("/nowhere"), headers=auth, timeout=5)
        assert missing.status_code == 404 and missing.json()["code"] != 0
    logs = mock.stdout() + mock.stderr()
    assert "GET /api/v1/job/query" in logs  # the access log was written
    assert PLANTED not in logs
    assert "serving on http://127.0.0.1:" in mock.stdout()
