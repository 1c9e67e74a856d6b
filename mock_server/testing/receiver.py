"""A callback receiver for tests: a small HTTP server on loopback that records what it gets.

with CallbackReceiver(statuses=[500, 500]) as receiver:   # fail twice, then 200
    ... create a job with callback_url=receiver.url ...
    receiver.wait_for(1)

`SilentReceiver` is its dead twin: it accepts connections and never answers.
"""

from __future__ import annotations

import contextlib
import json
import socket
import socketserver
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    """One request the receiver got."""

    path: str
    headers: dict[str, str]
    body: bytes
    status: int  # what the receiver answered
    at: float = field(default_factory=time.time)

    def json(self) -> Any:
        """Return the body parsed as JSON."""
        return json.loads(self.body)


class BackgroundServer:
    """Run a `socketserver` server in a daemon thread; stop it and free its port."""

    def __init__(
        self, server: socketserver.BaseServer, *, name: str, poll_interval: float = 0.05
    ) -> None:
        self.server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            name=name,
            daemon=True,
            kwargs={"poll_interval": poll_interval},
        )

    def start(self) -> None:
        """Serve in the background."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and release the port."""
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=10)


class CallbackReceiver:
    """Record POSTs; answer each with the next of `statuses`, then `default`."""

    def __init__(
        self,
        *,
        statuses: Iterable[int] = (),
        default: int = 200,
        delay: float = 0.0,
        answer: bytes = b"ok",
        host: str = "127.0.0.1",
        port: int = 0,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.statuses = list(statuses)
        self.default = default
        self.delay = delay
        self.answer = answer
        self.headers = headers or {}
        self.received: list[Received] = []
        self._lock = threading.Condition()
        self._server = ThreadingHTTPServer((host, port), self._handler())
        self._server.daemon_threads = True
        self._background = BackgroundServer(self._server, name="shortapi-callback-receiver")

    @property
    def url(self) -> str:
        """The URL to give as callback_url."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/callback"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                if receiver.delay:
                    time.sleep(receiver.delay)
                with receiver._lock:
                    status = receiver.statuses.pop(0) if receiver.statuses else receiver.default
                    receiver.received.append(Received(self.path, dict(self.headers), body, status))
                    receiver._lock.notify_all()
                self.send_response(status)
                for name, value in receiver.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(receiver.answer)))
                self.end_headers()
                with contextlib.suppress(OSError):  # the mock stopped reading: a capped read
                    self.wfile.write(receiver.answer)

            def log_message(self, format: str, *args: Any) -> None:
                """Stay quiet."""

        return Handler

    def bodies(self) -> list[Any]:
        """Return the JSON bodies received so far, in order."""
        with self._lock:
            return [r.json() for r in self.received]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """Wait until `count` requests arrived (or raise AssertionError after `timeout`)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self.received) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"expected {count} callbacks, got {len(self.received)} within {timeout} s"
                    )
                self._lock.wait(left)
            return list(self.received)

    def start(self) -> CallbackReceiver:
        """Serve in a background thread."""
        self._background.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        self._background.stop()

    def __enter__(self) -> CallbackReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class SilentReceiver:
    """A dead callback receiver: a loopback socket that accepts every connection and never
    answers (what a hung receiver looks like). `accepted` counts connections, `most_open`
    the most held open at once; connections the peer dropped are closed as new ones come."""

    def __init__(self, *, backlog: int = 128) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0), backlog=backlog)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/hook"
        self.accepted = 0
        self.most_open = 0
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self._lock:
                self.accepted += 1
                for gone in [c for c in self._open if not _alive(c)]:
                    gone.close()
                    self._open.remove(gone)
                self._open.append(conn)
                self.most_open = max(self.most_open, len(self._open))

    def __enter__(self) -> SilentReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the accept() below
        self.sock.close()
        self._thread.join(timeout=5)
        for conn in self._open:
            conn.close()


def _alive(conn: socket.socket) -> bool:
    """Say whether the peer still holds the connection (a closed one reads EOF once what it
    sent is read: the request is read and dropped, or a peek would see it and never EOF)."""
    try:
        conn.setblocking(False)
        while conn.recv(65536):
            pass
        return False
    except BlockingIOError:
        return True
    except OSError:
        return False
