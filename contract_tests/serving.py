"""Start `shortapi-mock serve` as a subprocess on a free loopback port (for the kit's tests).

A small copy of the start/stop helper in ``tests/serving.py``: the contract suite does not
import from ``tests/``.
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
from pathlib import Path

import requests

from mock_server.contract.runner import PLUGINS  # the plugins a `contract` run loads

STARTUP_TIMEOUT = 20.0  # seconds to wait for /_mock/health
STOP_TIMEOUT = 10.0  # seconds after SIGTERM before SIGKILL


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthy(base_url: str) -> bool:
    with (
        contextlib.suppress(requests.RequestException),
        requests.get(base_url + "/_mock/health", timeout=1) as response,
    ):
        return response.ok
    return False


def _wait_healthy(process: subprocess.Popen[bytes], base_url: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"shortapi-mock exited with {process.returncode}:\n{log.read_text()}"
            )
        if _healthy(base_url):
            return
        time.sleep(0.05)  # the server is starting, not a job
    raise RuntimeError(f"shortapi-mock not healthy after {STARTUP_TIMEOUT} s:\n{log.read_text()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT)


@contextlib.contextmanager
def served_mock(workdir: Path, args: Sequence[str] = ()) -> Iterator[str]:
    """Run ``python -m mock_server serve ARGS`` on 127.0.0.1; yield its base URL."""
    port = free_port()
    log = workdir / f"serve-{port}.log"
    command = [
        sys.executable,
        "-m",
        "mock_server",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        *args,
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env={**os.environ}
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(process, base_url, log)
        yield base_url
    finally:
        _stop(process)


def run_pytest(
    args: Sequence[str], *, env: dict[str, str | None] | None = None, timeout: float = 300.0
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m pytest contract_tests ARGS`` (the smoke profile) in a subprocess.

    `env` adds variables to this process's environment (None removes one).
    """
    command = [
        sys.executable,
        "-m",
        "pytest",
        "contract_tests",
        *PLUGINS,
        "-q",
        "--hypothesis-profile=contract-smoke",
        *args,
    ]
    merged = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", **(env or {})}
    clean = {k: v for k, v in merged.items() if v is not None}
    root = Path(__file__).resolve().parent.parent
    return subprocess.run(
        command, cwd=root, env=clean, capture_output=True, text=True, timeout=timeout, check=False
    )
