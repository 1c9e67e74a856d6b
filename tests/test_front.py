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

from mock_server.serve.front_wsgi import error_answer

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


def read_all(sock: socket.socket) -> bytes:
    """Return what the server sends until it closes the connection."""
    answer = b""
    while chunk := sock.recv(65536):
        answer += chunk
    return answer


def test_a_declared_body_over_the_limit_is_refused_before_it_is_sent(mock: ServedMock) -> None:
    port = int(mock.base_url.rsplit(":", 1)[1])
    declared = 400 * 1024 * 1024  # over the app's MAX_CONTENT_LENGTH, 320 MiB; none of it sent
    with socket.create_connection(("127.0.0.1", port), timeout=BOUND_SECONDS) as sock:
        sock.sendall(
            b"POST /api/v1/job/create HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n{" % declared
        )
        answer = read_all(sock)  # a server waiting for the body answers never
    head, _, text = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413"), head
    assert b"application/json" in head
    error = json.loads(text)
    assert error["code"] == 1200  # BAD_REQUEST, as the app's own 413
    assert error["message"] == f"request body too large; send at most {320 * 1024 * 1024} bytes"


# A server with small bounds: the app's MAX_CONTENT_LENGTH from --config, and (serve has no
# option for them) gunicorn's worker_connections and the front's read timeout set in the
# master process before it forks its one worker.
SMALL_BODY = 64 * 1024
CAP = 4
SMALL_COMMAND = (
    sys.executable,
    "-c",
    "import sys\n"
    "from mock_server.serve import front, gunicorn_app\n"
    "front.FrontWorker.read_timeout = 1.0\n"
    "options = gunicorn_app.options\n"
    f"gunicorn_app.options = lambda *a, **k: options(*a, **k, worker_connections={CAP})\n"
    "from mock_server.serve.cli import main\n"
    "sys.exit(main())\n",
)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedMock]:
    workdir = tmp_path_factory.mktemp("front-small")
    config = workdir / "small.json"
    config.write_text(json.dumps({"MAX_CONTENT_LENGTH": SMALL_BODY}))
    args = ["serve", "--store", f"sqlite:{workdir}/s.db", "--workers", "1", "--threads", "1"]
    args += ["--reset", "--config", str(config)]
    with served_mock(workdir, args, command=SMALL_COMMAND) as served:
        yield served


def small_port(small: ServedMock) -> int:
    return int(small.base_url.rsplit(":", 1)[1])


def test_a_chunked_body_is_refused_once_its_running_size_passes_the_limit(
    small: ServedMock,
) -> None:
    with socket.create_connection(("127.0.0.1", small_port(small)), timeout=BOUND_SECONDS) as sock:
        sock.sendall(
            b"POST /api/v1/job/create HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        chunk = b"%x\r\n%s\r\n" % (16 * 1024, b" " * 16 * 1024)
        for _ in range(SMALL_BODY // (16 * 1024) + 1):  # one chunk over; no last chunk
            sock.sendall(chunk)
        answer = read_all(sock)  # a server reading on for the last chunk answers never
    head, _, text = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413"), head
    assert json.loads(text)["message"].endswith(f"send at most {SMALL_BODY} bytes")


@pytest.mark.parametrize("stop", ["mid-head", "mid-body"])
def test_a_request_that_stalls_gets_408_and_is_closed(small: ServedMock, stop: str) -> None:
    payload = json.dumps(body()).encode()
    head = (
        b"POST /api/v1/job/create HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n" % len(payload)
    )
    sent = head[:30] if stop == "mid-head" else head + payload[:10]
    with socket.create_connection(("127.0.0.1", small_port(small)), timeout=BOUND_SECONDS) as sock:
        sock.sendall(sent)
        answer = read_all(sock)  # the read timeout is 1 s here; without one, never
    head_out, _, text = answer.partition(b"\r\n\r\n")
    assert head_out.startswith(b"HTTP/1.1 408"), head_out
    assert json.loads(text)["message"].startswith("request not received in time")


def test_a_worker_holds_at_most_worker_connections(small: ServedMock) -> None:
    port = small_port(small)
    request = b"GET /_mock/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    held = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(CAP)]
    try:
        for sock in held:  # each answered: all four are the worker's now
            sock.sendall(request.replace(b"Connection: close", b"Connection: keep-alive"))
            assert sock.recv(65536).startswith(b"HTTP/1.1 200")
        with socket.create_connection(("127.0.0.1", port), timeout=BOUND_SECONDS) as extra:
            extra.sendall(request)  # sits in the backlog: the worker is at its cap
            extra.settimeout(1.0)
            with pytest.raises(socket.timeout):
                extra.recv(65536)
            held.pop().close()  # one leaves: the worker takes the next
            extra.settimeout(BOUND_SECONDS)
            assert read_all(extra).startswith(b"HTTP/1.1 200")
    finally:
        for sock in held:
            sock.close()


def test_a_latency_fault_frees_its_thread_when_the_client_hangs_up(small: ServedMock) -> None:
    payload = json.dumps(body()).encode()
    head = (
        b"POST /api/v1/job/create HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n"
        b"Authorization: Bearer front-key\r\nX-Mock-Fault: latency:120000\r\n"
        b"Content-Length: %d\r\n\r\n" % len(payload)
    )
    with socket.create_connection(("127.0.0.1", small_port(small)), timeout=5) as sock:
        sock.sendall(head + payload)  # the one thread waits out 120 s, unless it sees us go
    answer = requests.post(
        small.url("/api/v1/job/create"), json=body(), headers=AUTH, timeout=BOUND_SECONDS
    )
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize(("status", "code"), [(500, 5000), (408, 1200), (431, 1200), (404, 1203)])
def test_the_fronts_own_answers_carry_the_code_of_their_status(status: int, code: int) -> None:
    """The front's 500 (the app raised past its handlers) is no "invalid parameter" (1201):
    it carries the code the app's own handlers give that status."""
    answered, headers, text = error_answer(status, "internal error")
    assert answered == status
    assert ("Content-Type", "application/json") in headers
    assert json.loads(text)["code"] == code


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


def test_header_names_with_underscores_are_dropped_as_gunicorn_does() -> None:
    """``X_Forwarded_Proto`` must not pass for ``X-Forwarded-Proto`` (trusted from loopback)."""
    import io

    import h11

    from mock_server.serve.front_wsgi import wsgi_environ

    class Transport:
        def get_extra_info(self, name: str) -> tuple[str, int]:
            return ("127.0.0.1", 8000)

    request = h11.Request(
        method="GET",
        target="/api/v1/job/query?id=1",
        headers=[("Host", "x"), ("X_Forwarded_Proto", "https"), ("X-Other", "1")],
    )
    environ = wsgi_environ(request, io.BytesIO(), Transport())  # type: ignore[arg-type]
    assert "HTTP_X_FORWARDED_PROTO" not in environ
    assert environ["HTTP_X_OTHER"] == "1"
    assert environ["QUERY_STRING"] == "id=1"
