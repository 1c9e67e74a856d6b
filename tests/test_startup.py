"""`serve`'s start-up: a bad option is one line naming it (rc 2, no traceback, no banner),
and a failed start leaves the store a running mock shares untouched (serve/startup.py)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import requests
from serving import MODULE_COMMAND, served_mock

RUN_TIMEOUT = 60  # seconds: each bad start ends long before


def serve(*args: str, cwd: Path, command: str = "serve") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*MODULE_COMMAND, command, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--port", "99999"], "--port"),
        (["--port", "-1"], "--port"),
        (["--workers", "0"], "--workers"),
        (["--threads", "0"], "--threads"),
        (["--speed", "-1"], "--speed"),
        (["--speed", "1e300"], "--speed"),
        (["--speed", "nan"], "--speed"),
        (["--queued-seconds", "inf"], "--queued-seconds"),
        (["--callback-attempts", "0"], "--callback-attempts"),
        (["--callback-backoff", "nan"], "--callback-backoff"),
        (["--store", "sqlite:/proc/x/y.db"], "--store"),
        (["--replay", "nope.json"], "--replay"),
        (["--replay", "bad.json"], "--replay"),
    ],
)
def test_a_bad_option_is_one_line_naming_it(tmp_path: Path, args: list[str], option: str) -> None:
    (tmp_path / "bad.json").write_text('{"format": "shortapi-recording/1", "items": [')
    # The case's own --store, given last, wins over the test's.
    done = serve(*args, "--store", f"sqlite:{tmp_path}/s.db", *args, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and option in lines[0], done.stderr
    assert "Traceback" not in done.stderr and "serving on" not in done.stdout
    if option != "--store":
        assert not (tmp_path / "s.db").exists()  # nothing was written


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--port", "70000"], "--port"),
        (["--port", "-1"], "--port"),
        (["--threads", "0"], "--threads"),
        (["--threads", "100000"], "--threads"),
    ],
)
def test_a_bad_proxy_option_is_one_line_naming_it(
    tmp_path: Path, args: list[str], option: str
) -> None:
    """`proxy` checks the options it shares with `serve` the same way (a port out of range
    was a traceback from the socket's bind)."""
    done = serve(*args, cwd=tmp_path, command="proxy")
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and option in lines[0], done.stderr
    assert "Traceback" not in done.stderr


def test_a_recording_that_is_not_json_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "rec.json").write_text(json.dumps({"format": "other"}))
    done = serve("--replay", "rec.json", "--store", "memory", "--workers", "1", cwd=tmp_path)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "--replay" in done.stderr


@pytest.mark.slow
def test_a_second_serve_on_a_taken_port_changes_nothing(tmp_path: Path) -> None:
    """The running mock's manual clock stays manual (and where it was) when a second serve
    in the same folder, asking for a realtime clock, fails on the port it took."""
    store = f"sqlite:{tmp_path}/s.db"
    args = ["serve", "--clock", "manual", "--store", store, "--workers", "1", "--reset"]
    with served_mock(tmp_path, args) as first:
        assert first.advance(42) == 42
        port = first.base_url.rsplit(":", 1)[1]
        second = serve(
            "--clock", "realtime", "--store", store, "--host", "127.0.0.1", "--port", port,
            "--reset", cwd=tmp_path,
        )  # fmt: skip
        assert second.returncode == 2, second.stderr
        assert "--port" in second.stderr and "in use" in second.stderr
        assert second.stderr.count("\n") == 1 and "serving on" not in second.stdout
        clock = requests.get(first.url("/_mock/clock"), timeout=5).json()
        assert clock["clock"] == "manual" and clock["now"] == 42


def test_serve_opens_no_gunicorn_control_socket() -> None:
    """gunicorn 25.1 and later open a control socket in the user's runtime or home folder
    (one path for every server on the machine, with a thread in the master): the mock's
    servers do not."""
    gunicorn_app = pytest.importorskip("mock_server.serve.gunicorn_app")
    options = gunicorn_app.options("127.0.0.1", 0, workers=2, threads=2)
    server = gunicorn_app.MockServer({}, options, lambda url: None)
    if "control_socket_disable" not in server.cfg.settings:
        pytest.skip("this gunicorn has no control socket")
    assert server.cfg.control_socket_disable is True
