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
    """A running redis-server and how to reach it (over TLS when it has a `ca` file)."""

    process: subprocess.Popen[bytes]
    port: int
    ca: str | None = None  # the certificate the TLS server's own is checked against

    def url(self, db: int = 0) -> str:
        """Return the redis:// (rediss://, trusting `ca`) URL of database `db`."""
        if self.ca:
            return f"rediss://127.0.0.1:{self.port}/{db}?ssl_ca_certs={self.ca}"
        return f"redis://127.0.0.1:{self.port}/{db}"

    def client(self, db: int = 0) -> redis.Redis:
        """Return a client of database `db`."""
        if self.ca:
            return redis.Redis(
                host="127.0.0.1", port=self.port, db=db, ssl=True, ssl_ca_certs=self.ca
            )
        return redis.Redis(host="127.0.0.1", port=self.port, db=db)


def find() -> str | None:
    """Return the path of redis-server on PATH, or None."""
    return shutil.which("redis-server")


needs_redis = pytest.mark.skipif(find() is None, reason=SKIP_REASON)
needs_openssl = pytest.mark.skipif(
    shutil.which("openssl") is None, reason="openssl not found: the TLS test makes its cert"
)
"""Mark a test that starts a redis-server of its own (those using the fixtures skip anyway)."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def running(*extra: str, tls: bool = False) -> Iterator[RedisServer]:
    """Start redis-server (with `extra` arguments) on a free port; stop it afterwards. With
    `tls`, it answers TLS only, with a self-signed certificate for 127.0.0.1 (openssl)."""
    binary = find()
    if binary is None:
        raise FileNotFoundError(SKIP_REASON)
    with tempfile.TemporaryDirectory(prefix="shortapi-redis-") as workdir:
        port = free_port()
        ports = ["--port", str(port)]
        ca = None
        if tls:
            ca, key = _self_signed(workdir)
            ports = ["--port", "0", "--tls-port", str(port), "--tls-cert-file", ca,
                     "--tls-key-file", key, "--tls-ca-cert-file", ca,
                     "--tls-auth-clients", "no"]  # fmt: skip
        command = [binary, *ports, "--bind", "127.0.0.1", "--save", "",
                   "--appendonly", "no", "--dir", workdir, *extra]  # fmt: skip
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        server = RedisServer(process, port, ca)
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


def _self_signed(workdir: str) -> tuple[str, str]:
    """Make a certificate and key for 127.0.0.1 in `workdir` with openssl; return their paths."""
    cert, key = f"{workdir}/server.pem", f"{workdir}/server.key"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            key,
            "-out",
            cert,
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def _password_of(extra: tuple[str, ...]) -> str | None:
    return extra[extra.index("--requirepass") + 1] if "--requirepass" in extra else None


def _wait_ready(server: RedisServer, *, password: str | None) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    client = redis.Redis(
        host="127.0.0.1",
        port=server.port,
        password=password,
        ssl=server.ca is not None,
        ssl_ca_certs=server.ca,
    )
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
