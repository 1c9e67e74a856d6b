"""Secrets stay secret; the admin API is closed where it should be."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests
from helpers import body
from serving import served_mock

from mock_server import create_app
from mock_server.serve.cli import is_loopback
from mock_server.serve.gunicorn_app import redact_line

PLANTED = "sk-live-PLANTED-5f0c9e"


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("192.0.2.1", False),
    ],
)
def test_loopback_detection(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_admin_api_closed_without_token_on_open_bind() -> None:
    client = create_app({"ADMIN_OPEN": False, "BACKGROUND": False}).test_client()
    response = client.get("/_mock/health")
    assert response.status_code == 403
    assert "--admin-token" in response.json["message"]
    api = client.post("/api/v1/job/create", json=body(), headers={"Authorization": "Bearer k"})
    assert api.status_code == 200  # the real API stays open


def test_admin_api_with_token() -> None:
    client = create_app(
        {"ADMIN_TOKEN": "s3cret", "ADMIN_OPEN": False, "BACKGROUND": False}
    ).test_client()
    assert client.get("/_mock/health").status_code == 401
    assert client.get("/_mock/health", headers={"X-Mock-Admin-Token": "wrong"}).status_code == 401
    assert client.get("/_mock/health", headers={"X-Mock-Admin-Token": "s3cret"}).status_code == 200


def test_access_log_line_redaction() -> None:
    line = f"GET /_mock/accounts/{PLANTED}?x={PLANTED} HTTP/1.1 Bearer {PLANTED}"
    assert PLANTED not in redact_line(line, [PLANTED])
    kept = "GET /_mock/accounts/key_0123456789ab HTTP/1.1"
    assert redact_line(kept, []) == kept  # a fingerprint is not a secret


@pytest.mark.slow
def test_planted_key_appears_in_no_log_journal_or_admin_answer(tmp_path: Path) -> None:
    args = [
        "serve",
        "--clock",
        "manual",
        "--store",
        f"sqlite:{tmp_path}/s.db",
        "--workers",
        "1",
        "--access-log",
        "--reset",
    ]
    auth = {"Authorization": f"Bearer {PLANTED}"}
    answers: list[str] = []
    with served_mock(tmp_path, args) as mock:
        job_id = requests.post(
            mock.url("/api/v1/job/create"), json=body(), headers=auth, timeout=5
        ).json()["data"]["job_id"]
        requests.get(
            mock.url(f"/api/v1/job/query?id={job_id}&token={PLANTED}"), headers=auth, timeout=5
        )
        requests.post(
            mock.url("/api/v1/job/create"),
            data=f"{{{PLANTED}",
            headers={**auth, "Content-Type": "application/json"},
            timeout=5,
        )
        requests.post(mock.url(f"/_mock/accounts/{PLANTED}"), json={"balance": "1"}, timeout=5)
        for path in (
            "/_mock/requests",
            "/_mock/jobs",
            f"/_mock/accounts/{PLANTED}",
            "/_mock/callbacks",
            "/_mock/health",
        ):
            answers.append(requests.get(mock.url(path), timeout=5).text)
    logs = mock.stdout() + mock.stderr()
    assert "GET /api/v1/job/query" in logs  # the access log was written
    assert PLANTED not in logs
    for answer in answers:
        assert PLANTED not in answer
    assert PLANTED not in _database_text(tmp_path / "s.db")


LIVE = "ak-" + "5f0c9e" * 5 + "ab"  # the live key format: "ak-" and 32 hex digits


def _planted_requests(post: Any, get: Any) -> None:
    """Send a key in every place a clumsy client puts one."""
    auth = {"Authorization": f"Bearer {PLANTED}"}
    # The key straddling the journal's 4 KiB cut, and a live-format key after it.
    padded = body(prompt="p" * (4096 - 120) + f" {PLANTED} then {LIVE}")
    post("/api/v1/job/create", padded, auth)
    post("/api/v1/job/create", body(mode=PLANTED), auth)  # a bad value: in a problem
    post("/api/v1/job/create", body(mode=LIVE), {"Authorization": "Bearer other-key"})
    # A malformed Authorization (no scheme) beside the key in the URL.
    get(f"/api/v1/job/query?id={PLANTED}", {"Authorization": PLANTED})
    get(f"/api/v1/job/query?id={LIVE}", {"Authorization": "Bearer", "User-Agent": LIVE})


def _no_key_in(text: str) -> None:
    assert PLANTED not in text and PLANTED[:14] not in text
    assert LIVE not in text and LIVE[:20] not in text


def test_keys_appear_in_no_journal_field() -> None:
    client = create_app({"STORE": "memory", "CLOCK": "manual", "BACKGROUND": False}).test_client()
    _planted_requests(
        lambda path, payload, headers: client.post(path, json=payload, headers=headers),
        lambda path, headers: client.get(path, headers=headers),
    )
    journal = client.get("/_mock/requests").get_data(as_text=True)
    assert journal.count('"path"') == 5
    _no_key_in(journal)
    _no_key_in(client.get("/_mock/ui/requests").get_data(as_text=True))


def test_live_format_keys_are_redacted_everywhere_keys_are() -> None:
    from mock_server.contract.wire import scrub
    from mock_server.keys import redact, redact_params

    for text in (f"Bearer {LIVE}", f"?id={LIVE}&x=1", f'{{"k": "{LIVE}"}}', f"key {LIVE}."):
        assert LIVE not in redact(text)
        assert LIVE not in redact_params(text)
        assert LIVE not in scrub(text)  # the contract kit's reports and recordings
    assert "ak-" + "0" * 33 in redact("ak-" + "0" * 33)  # not the format: kept


def test_access_log_masks_the_key_beside_a_malformed_authorization() -> None:
    from mock_server.keys import auth_secrets

    for header in (PLANTED, f"Token {PLANTED}", f"Bearer  {PLANTED} extra"):
        line = f"GET /api/v1/job/query?id={PLANTED} HTTP/1.1"
        assert PLANTED not in redact_line(line, auth_secrets(header))


@pytest.mark.slow
def test_keys_planted_everywhere_reach_no_log(tmp_path: Path) -> None:
    args = ["serve", "--clock", "manual", "--store", f"sqlite:{tmp_path}/s.db"]
    with served_mock(tmp_path, [*args, "--workers", "1", "--access-log", "--reset"]) as mock:
        _planted_requests(
            lambda path, payload, headers: requests.post(
                mock.url(path), json=payload, headers=headers, timeout=5
            ),
            lambda path, headers: requests.get(mock.url(path), headers=headers, timeout=5),
        )
        journal = requests.get(mock.url("/_mock/requests"), timeout=5).text
    logs = mock.stdout() + mock.stderr()
    assert "GET /api/v1/job/query" in logs
    for text in (logs, journal, _database_text(tmp_path / "s.db")):
        _no_key_in(text)


def _database_text(path: Path) -> str:
    return b"".join(p.read_bytes() for p in path.parent.glob("s.db*")).decode("latin-1")


def test_memory_store_forgets_oldest_finished_jobs_first() -> None:
    app = create_app({"STORE": "memory", "CLOCK": "manual", "MAX_JOBS": 3, "BACKGROUND": False})
    client = app.test_client()
    auth = {"Authorization": "Bearer k"}

    def new() -> Any:
        return client.post("/api/v1/job/create", json=body(), headers=auth).json["data"]["job_id"]

    old = [new(), new()]
    client.post("/_mock/clock/advance", json={"seconds": 10})
    client.post("/_mock/run")
    fresh = [new(), new()]  # four jobs: the oldest finished one goes
    kept = [j["id"] for j in client.get("/_mock/jobs").json["jobs"]]
    assert kept == [fresh[1], fresh[0], old[1]]
    more = [new(), new()]  # in-flight jobs are never dropped, even past the limit
    kept = [j["id"] for j in client.get("/_mock/jobs").json["jobs"]]
    assert kept == [more[1], more[0], fresh[1], fresh[0]]


def test_tokens_in_urls_are_masked() -> None:
    assert redact_line("GET /_mock/ui?token=s3cret&poll=100 HTTP/1.1", []) == (
        "GET /_mock/ui?token=***&poll=100 HTTP/1.1"
    )


@pytest.mark.parametrize(
    "path",
    [
        "/files/../../pyproject.toml",
        "/files/..%2f..%2fpyproject.toml",
        "/files/x/..%2f..%2f..%2fpyproject.toml",
        "/files/%2e%2e/%2e%2e/etc/passwd",
        "/files/uploads/..%2f..%2fetc%2fpasswd",
        "/api/skill/..%2f..%2fschemas%2fopenapi.json",
        "/api/skill/../../../../etc/passwd",
        "/_mock/ui/static/..%2f..%2fapp.py",
        "/_mock/ui/static/../dashboard.py",
    ],
)
def test_no_path_traversal(path: str) -> None:
    """No route serves a file outside its own: an envelope 4xx, never the file."""
    client = create_app({"STORE": "memory", "CLOCK": "manual", "BACKGROUND": False}).test_client()
    response = client.get(path, headers={"Authorization": "Bearer k"})
    assert 400 <= response.status_code < 500, path
    text = response.get_data(as_text=True)
    assert "[project]" not in text and "root:" not in text and "def create_app" not in text
    assert "import" not in text


def test_keys_at_the_cut_of_a_header_or_in_the_path_reach_no_journal_entry() -> None:
    from mock_server.api.journal import BODY_LIMIT

    app = create_app({"STORE": "memory", "CLOCK": "manual", "BACKGROUND": False})
    client = app.test_client()
    straddling = "x" * (BODY_LIMIT - 10) + LIVE  # the key's first 10 characters inside the cut
    client.get("/api/v1/job/query?id=1", headers={"User-Agent": straddling})
    client.get(f"/api/v1/job/{LIVE}", headers={"Authorization": f"Bearer {LIVE}"})
    journal = client.get("/_mock/requests").get_data(as_text=True)
    assert journal.count('"path"') == 2
    assert LIVE[:12] not in journal


def test_only_the_dashboards_own_media_loads_go_unjournaled() -> None:
    from mock_server.api.journal import MEDIA_MARK

    client = create_app({"STORE": "memory", "CLOCK": "manual", "BACKGROUND": False}).test_client()
    client.post(
        f"/api/v1/job/create?{MEDIA_MARK}=1", json=body(), headers={"Authorization": "Bearer k-1"}
    )
    client.get(f"/files/nothing.mp4?{MEDIA_MARK}=1")
    entries = client.get("/_mock/requests").get_json()
    entries = entries["requests"]
    assert [e["path"] for e in entries] == ["/api/v1/job/create"]
