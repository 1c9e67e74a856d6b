"""The default server (gunicorn with the event-loop front worker, serve/front.py), over real
HTTP: stalled clients do not starve it, malformed heads get the JSON envelope, SIGTERM stops
it, and it serves without gunicorn's gthread worker."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from helpers import body
from serving import ServedMock, served_mock

pytestmark = pytest.mark.slow
AUTH = {"Authorization": "Bearer front-key"}
STALLED = 64
# Generous: the point is "answers while stalled clients are held", not a latency figure
# (bench/stall.py measures the delay). A starved server answers never.
BOUND_SECONDS = 15.0


@pytest.fixture(scope="module")
def mock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedMock]:
    workdir = tmp_path_factory.mktemp("front")
    args = ["serve", "--store", f"sqlite:{workdir}/f.db", "--workers", "2", "--reset"]
    with served_mock(workdir, args) as served:
        yield served


def stall(port: int, count: int) -> list[socket.socket]:
    """Open `count` connections, half stopping mid-header, half mid-body; return them."""
    payload = json.dumps(body()).encode()
    head = (
        b"POST /api/v1/job/create HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Authorization: Bearer front-key\r\nContent-Type: application/json\r\n"
    )
    held = []
    for index in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        if index % 2:
            sock.sendall(head + b"Content-Length: %d\r\n\r\n" % len(payload) + payload[:10])
        else:
            sock.sendall(head[:40])
        held.append(sock)
    return held


def test_a_create_answers_while_64_stalled_connections_are_held(mock: ServedMock) -> None:
    port = int(mock.base_url.rsplit(":", 1)[1])
    held = stall(port, STALLED)
    try:
        time.sleep(0.2)  # let the server take them in (it reads what they sent)
        for _ in range(4):  # more than the workers' 2 x 2 threads
            answer = requests.post(
                mock.url("/api/v1/job/create"), json=body(), headers=AUTH, timeout=BOUND_SECONDS
            )
            assert answer.status_code == 200, answer.text
            assert answer.json()["data"]["job_id"]
    finally:
        for sock in held:
            sock.close()


def test_a_head_over_the_limit_gets_the_json_envelope(mock: ServedMock) -> None:
    port = int(mock.base_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            b"GET /api/v1/job/query?id=x HTTP/1.1\r\nHost: a\r\nConnection: close\r\nX-Big: "
        )
        sock.sendall(b"a" * 100_000 + b"\r\n\r\n")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, text = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 431"), head
    assert b"application/json" in head
    assert json.loads(text)["message"].startswith("malformed request")


def test_a_bad_request_line_gets_the_json_envelope(mock: ServedMock) -> None:
    port = int(mock.base_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, text = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400"), head
    assert "code" in json.loads(text)


def test_keep_alive_and_pipelined_requests_are_answered_in_order(mock: ServedMock) -> None:
    port = int(mock.base_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        one = (
            b"GET /api/v1/job/query?id=first HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer k\r\n\r\n"
        )
        two = one.replace(b"first", b"second").replace(b"Host: a", b"Host: a\r\nConnection: close")
        sock.sendall(one + two)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.count(b"HTTP/1.1 404") == 2
    assert answer.index(b"first") < answer.index(b"second")


@pytest.mark.parametrize("server", ["gunicorn", "granian"])
def test_sigterm_to_the_group_stops_master_and_workers(tmp_path: Path, server: str) -> None:
    args = ["serve", "--store", f"sqlite:{tmp_path}/t.db", "--workers", "2", "--reset"]
    with served_mock(tmp_path, [*args, "--server", server]) as served:
        assert requests.get(served.url("/_mock/health"), timeout=5).ok
        os.killpg(served.process.pid, signal.SIGTERM)  # as a supervisor or Ctrl-C would
        assert served.process.wait(30) == 0  # generous: a loaded machine is slow
        with pytest.raises(requests.ConnectionError):
            requests.get(served.url("/_mock/health"), timeout=2)


@pytest.mark.parametrize("server", ["gunicorn", "granian"])
def test_a_port_in_use_is_one_clear_line(tmp_path: Path, server: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        args = ["serve", "--server", server, "--port", str(port), "--store", "memory"]
        args += ["--workers", "1"]
        done = subprocess.run(
            [sys.executable, "-m", "mock_server", *args], capture_output=True, text=True, timeout=60
        )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"shortapi-mock: 127.0.0.1:{port} is in use (another server?): stop it, or pick "
        "another --port (0 picks a free one)"
    ]


def test_serve_answers_without_gunicorn_and_says_which_server(tmp_path: Path) -> None:
    blocked = "import sys; sys.modules['gunicorn'] = None; "
    command = (
        sys.executable,
        "-c",
        blocked + "from mock_server.serve.cli import main; sys.exit(main())",
    )
    args = ["serve", "--store", f"sqlite:{tmp_path}/g.db", "--workers", "1", "--reset"]
    with served_mock(tmp_path, args, command=command) as served:
        answer = requests.post(served.url("/api/v1/job/create"), json=body(), headers=AUTH)
        assert answer.status_code == 200, answer.text
        assert "under granian" in served.stdout()
