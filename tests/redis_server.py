"""A real `redis-server` for the tests of the Redis store: started once per session on a free
loopback port (no persistence, a temporary directory), stopped at the end. Where Debian's
redis-server is missing, the tests that need it skip, saying how to get it.

Imported by tests/conftest.py (the `redis_server` fixture); owns no pytest hooks."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import redis

SKIP_REASON = (
    "redis-server not found; `apt-get install redis-server` or `make test` as root installs it"
)
STARTUP_TIMEOUT = 10.0


@dataclass(frozen=True)
class RedisServer:
    """A running redis-server and how to reach it."""

    process: subprocess.Popen[bytes]
    port: int

    def url(self, db: int = 0) -> str:
        """Return the redis:// URL of database `db`."""
        return f"redis://127.0.0.1:{self.port}/{db}"

    def client(self, db: int = 0) -> redis.Redis:
        """Return a client of database `db`."""
        return redis.Redis(host="127.0.0.1", port=self.port, db=db)


def find() -> str | None:
    """Return the path of redis-server on PATH, or None."""
    return shutil.which("redis-server")


needs_redis = pytest.mark.skipif(find() is None, reason=SKIP_REASON)
"""Mark a test that starts a redis-server of its own (those using the fixtures skip anyway)."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def running(*extra: str) -> Iterator[RedisServer]:
    """Start redis-server (with `extra` arguments) on a free port; stop it afterwards."""
    binary = find()
    if binary is None:
        raise FileNotFoundError(SKIP_REASON)
    with tempfile.TemporaryDirectory(prefix="shortapi-redis-") as workdir:
        port = free_port()
        command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                   "--appendonly", "no", "--dir", workdir, *extra]  # fmt: skip
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        server = RedisServer(process, port)
        try:
            _wait_ready(server, password=_password_of(extra))
            yield server
        finally:
            process.terminate()
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)


def _password_of(extra: tuple[str, ...]) -> str | None:
    return extra[extra.index("--requirepass") + 1] if "--requirepass" in extra else None


def _wait_ready(server: RedisServer, *, password: str | None) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    client = redis.Redis(host="127.0.0.1", port=server.port, password=password)
    try:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {server.process.returncode}")
            with contextlib.suppress(redis.ConnectionError):
                if client.ping():
                    return
            time.sleep(0.05)
    finally:
        client.close()
    raise RuntimeError(f"redis-server not ready after {STARTUP_TIMEOUT} s")
