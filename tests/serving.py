"""Run `shortapi-mock serve` as a real subprocess (gunicorn) for the tests that need one.

Shared by tests/test_cli.py and tests/test_doc_examples.py. Not a conftest: fixtures are
built in each test module from `served_mock`, so this file owns no pytest hooks.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

STARTUP_TIMEOUT = 20.0  # seconds to wait for /_mock/health
STOP_TIMEOUT = 10.0  # seconds to wait after SIGTERM before SIGKILL
MODULE_COMMAND = (sys.executable, "-m", "mock_server")
CONSOLE_SCRIPT = Path(sys.executable).parent / "shortapi-mock"


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServedMock:
    """A running `shortapi-mock serve` process and how to reach it."""

    process: subprocess.Popen[bytes]
    base_url: str
    stdout_path: Path
    stderr_path: Path

    def stdout(self) -> str:
        """Return what the server printed on stdout so far (the banner)."""
        return self.stdout_path.read_text()

    def stderr(self) -> str:
        """Return what the server printed on stderr so far."""
        return self.stderr_path.read_text()

    def url(self, path: str) -> str:
        """Return the absolute URL of `path` on this server."""
        return self.base_url + path

    def advance(self, seconds: float) -> float:
        """Move the served mock's manual clock forward; return its new time."""
        response = requests.post(self.url("/_mock/clock/advance"), json={"seconds": seconds})
        response.raise_for_status()
        return float(response.json()["now"])

    def kill_hard(self) -> None:
        """SIGKILL the server and its workers at once, as a crash would."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(STOP_TIMEOUT)

    def stop(self) -> int:
        """Stop the server (SIGTERM, then SIGKILL) and return its exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(STOP_TIMEOUT)
        return int(self.process.returncode)


def serve_args(store: Path, *, reset: bool = True, workers: int = 2) -> list[str]:
    """Return the `serve` arguments the tests use: manual clock, sqlite store."""
    args = ["serve", "--clock", "manual", "--store", f"sqlite:{store}", "--workers", str(workers)]
    return [*args, "--reset"] if reset else args


def _wait_healthy(mock: ServedMock, timeout: float, headers: dict[str, str] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if mock.process.poll() is not None:
            raise RuntimeError(
                f"shortapi-mock exited with {mock.process.returncode} before it was healthy:\n"
                f"{mock.stderr()}"
            )
        with contextlib.suppress(requests.ConnectionError, requests.Timeout):
            if requests.get(mock.url("/_mock/health"), headers=headers, timeout=1).ok:
                return
        time.sleep(0.05)
    raise RuntimeError(f"shortapi-mock not healthy after {timeout} s:\n{mock.stderr()}")


@contextlib.contextmanager
def served_mock(
    workdir: Path,
    args: Sequence[str],
    *,
    command: Sequence[str] = MODULE_COMMAND,
    env: dict[str, Any] | None = None,
    admin_token: str | None = None,
    cwd: Path | None = None,
) -> Iterator[ServedMock]:
    """Start `command args --host 127.0.0.1 --port <free>`, yield it once healthy, stop it
    (its health asked with `admin_token` when the args give it one)."""
    port = free_port()
    stdout_path = workdir / f"serve-{port}.out"
    stderr_path = workdir / f"serve-{port}.err"
    with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
        # Files, not pipes: nothing has to drain them while the server runs.
        process = subprocess.Popen(
            [*command, *args, "--host", "127.0.0.1", "--port", str(port)],
            stdout=out,
            stderr=err,
            env={**os.environ, **(env or {})},
            cwd=cwd,
            start_new_session=True,  # its own process group: kill_hard() reaches the workers
        )
    mock = ServedMock(process, f"http://127.0.0.1:{port}", stdout_path, stderr_path)
    try:
        headers = {"X-Mock-Admin-Token": admin_token} if admin_token else None
        _wait_healthy(mock, STARTUP_TIMEOUT, headers)
        yield mock
    finally:
        mock.stop()
