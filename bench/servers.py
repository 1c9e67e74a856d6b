"""The servers under test and their lifecycle: the served mock, the bare Flask app and Prism,
each started in its own process group, logging to a file, and always stopped.

The mock and the bare app run under the same HTTP server with the same settings (granian or
gunicorn, 2 workers x 2 threads), so the bare app is the ceiling of that server."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO

from bench.common import QUERY_PATH, ROOT, BenchError
from mock_server.serve.granian_app import granian_flags
from mock_server.serve.gunicorn_app import FRONT_WORKER

BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
PRISM_PREFIX = ROOT / ".bench"
PRISM_BIN = PRISM_PREFIX / "node_modules" / ".bin" / "prism"
PRISM_PACKAGE = "@stoplight/prism-cli"
PRISM_READY_PATH = f"{QUERY_PATH}?id=ready"
# The same server settings for the mock and the bare app: `serve`'s defaults.
WORKERS = 2
THREADS = 2
SERVE_SETTINGS = ["--workers", str(WORKERS), "--threads", str(THREADS)]
HTTP_SERVERS = ("granian", "gunicorn")  # serve --server


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def serve_command(port: int, store: Path | str, *options: str, reset: bool = True) -> list[str]:
    """Return the command serving the mock on `port` with `store` (a SQLite file's path, or
    a store URL), emptied first unless `reset` is False, and the serve `options`."""
    return [
        str(BIN / "shortapi-mock"),
        "serve",
        "--host",
        HOST,
        "--port",
        str(port),
        "--store",
        f"sqlite:{store}" if isinstance(store, Path) else store,
        *options,
        *(["--reset"] if reset else []),
    ]


def mock_command(port: int, database: Path, server: str = "gunicorn") -> list[str]:
    """Return the command serving the mock under `server` on `port`, a fresh SQLite store."""
    return serve_command(port, database, "--clock", "manual", "--server", server, *SERVE_SETTINGS)


def bare_command(port: int, server: str = "gunicorn", target: str = "bare_app:app") -> list[str]:
    """Return the command serving `target` of bench/ (default the bare Flask app) under
    `server` on `port`, with the settings `serve --server` gives the mock (under gunicorn,
    `serve`'s own worker class)."""
    if server == "granian":
        return [
            str(BIN / "granian"),
            "--working-dir",
            str(ROOT / "bench"),
            "--host",
            HOST,
            "--port",
            str(port),
            *granian_flags(WORKERS, THREADS),
            target,
        ]
    return [
        str(BIN / "gunicorn"),
        "--chdir",
        str(ROOT / "bench"),
        "--bind",
        f"{HOST}:{port}",
        *SERVE_SETTINGS,
        "--worker-class",
        FRONT_WORKER,
        "--keep-alive",
        "5",
        "--log-level",
        "warning",
        target,
    ]


def prism_command(prism: Path, document: Path, port: int, flags: list[str]) -> list[str]:
    """Return the command of Prism mocking the OpenAPI `document` on `port`."""
    return [str(prism), "mock", str(document), "-p", str(port), "-h", HOST, *flags]


def ensure_prism() -> Path:
    """Return Prism's launcher, installing it into .bench/ with npm if it is missing."""
    if PRISM_BIN.exists():
        return PRISM_BIN
    npm = shutil.which("npm")
    if not npm:
        raise BenchError("Prism needs Node.js and npm: install them (e.g. apt-get install npm)")
    print(f"Prism not found: npm install --prefix .bench {PRISM_PACKAGE}", flush=True)
    command = [npm, "install", "--prefix", str(PRISM_PREFIX), PRISM_PACKAGE]
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)
    if done.returncode != 0 or not PRISM_BIN.exists():
        raise BenchError(f"npm install of {PRISM_PACKAGE} failed:\n{done.stderr[-2000:]}")
    return PRISM_BIN


def prism_silent_flags(prism: Path) -> list[str]:
    """Return the flags that silence `prism mock`, read from its --help."""
    done = subprocess.run(
        [str(prism), "mock", "--help"], capture_output=True, text=True, check=False
    )
    help_text = done.stdout + done.stderr
    for line in help_text.splitlines():
        if "--verboseLevel" in line and '"silent"' in line:
            return ["-v", "silent"]
    raise BenchError(f"this Prism's `mock --help` offers no silent log level:\n{help_text}")


class Server:
    """A server subprocess in its own process group, logging to a file."""

    def __init__(
        self, name: str, command: list[str], port: int, log_path: Path, env: dict[str, str]
    ) -> None:
        self.name = name
        self.port = port
        self.command = command
        self.log_path = log_path
        self._log: IO[bytes] = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group: Ctrl-C does not reach it, stop() kills all
        )

    def log_tail(self, chars: int = 3000) -> str:
        """Return the end of the server's log."""
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def url(self, path: str) -> str:
        """Return the absolute URL of `path` on this server."""
        return f"http://{HOST}:{self.port}{path}"

    def stop(self) -> None:
        """Terminate the whole process group, then kill what is left."""
        pgid = self.proc.pid  # start_new_session: the group id is the leader's pid
        with suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)
        with suppress(ProcessLookupError):  # workers of a stopped master, or a stuck leader
            os.killpg(pgid, signal.SIGKILL)
        if self.proc.poll() is None:
            self.proc.wait(timeout=5)
        self._log.close()


class Servers:
    """Starts servers and guarantees they are all stopped."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.running: list[Server] = []
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", "NO_COLOR": "1"}

    def start(self, name: str, command: list[str], port: int) -> Server:
        """Start `command` as the server `name`, its log in the temporary folder."""
        server = Server(name, command, port, self.tmp / f"{name}.log", self.env)
        self.running.append(server)
        return server

    def stop(self, server: Server) -> None:
        """Stop one server started here."""
        server.stop()
        self.running.remove(server)

    @contextmanager
    def session(self) -> Iterator[Servers]:
        """Yield self; on the way out, stop every server still running."""
        try:
            yield self
        finally:
            for server in reversed(self.running):
                server.stop()
            self.running.clear()
