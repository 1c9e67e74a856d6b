"""An event loop in front of the worker threads: `serve`'s default gunicorn worker.

gunicorn's gthread worker hands a connection to a thread as soon as it is readable, and the
thread then blocks until the whole request has come: four clients that send half a request
and stall hold every thread of two workers x two threads. `FrontWorker` reads requests on an
asyncio loop instead (parsed with h11), and hands a request to the app's threads only once
its head and body are all in: a stalled or slow client holds a socket and a few bytes, never
a thread. Answers are written back by the loop, so a client that does not read them holds
no thread either.

gunicorn stays the process manager (workers, restarts, SIGTERM, the listening sockets);
only the worker class differs. The connection-dropping faults (`control/faults.py`) ask the
loop to close the connection through ``environ[CLOSE_KEY]``: with a reset (SO_LINGER 0) or
a plain close, and no answer. A request the parser refuses (a header line too long, bad
framing) gets the API's JSON error envelope with its 4xx, never an HTML page.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import socket
import struct
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import unquote_to_bytes

import h11
from gunicorn.workers.base import Worker

from mock_server.control.faults import CLOSE_KEY
from mock_server.errors import INVALID_PARAMETER

HEAD_LIMIT = 64 * 1024  # bytes of a request's line and headers (h11's event size limit)
KEEPALIVE_SECONDS = 75.0  # an idle kept-alive connection is closed after this long
_HEARTBEAT_SECONDS = 1.0


def error_answer(status: int, message: str) -> tuple[int, list[tuple[str, str]], bytes]:
    """Return the API's error envelope for a request the parser refused."""
    body = json.dumps({"code": INVALID_PARAMETER, "message": message, "info": message}).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    return status, [*headers, ("Connection", "close")], body


class Answer:
    """What the app answered: status, headers and body, or how to drop the connection."""

    def __init__(self) -> None:
        self.status = 500
        self.reason = b""
        self.headers: list[tuple[str, str]] = []
        self.body = b""
        self.drop: str | None = None  # "reset" or "close": no answer at all


def run_app(app: Callable[..., Any], environ: dict[str, Any]) -> Answer:
    """Call the WSGI `app` (on a worker thread) and collect its whole answer."""
    answer = Answer()

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        code, _, reason = status.partition(" ")
        answer.status, answer.reason = int(code), reason.encode("latin-1")
        answer.headers = list(headers)
        return lambda _data: None  # no write() users here

    def close(reset: bool) -> None:
        answer.drop = "reset" if reset else "close"

    environ[CLOSE_KEY] = close
    result = app(environ, start_response)
    try:
        answer.body = b"".join(result)
    finally:
        if hasattr(result, "close"):
            result.close()
    return answer


class Connection(asyncio.Protocol):
    """One client connection: requests read in full on the loop, run on a thread."""

    def __init__(self, worker: FrontWorker) -> None:
        self.worker = worker
        self.h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=HEAD_LIMIT)
        self.transport: asyncio.Transport | None = None
        self.request: h11.Request | None = None
        self.body: list[bytes] = []
        self.busy = False  # a request is with the app: read nothing more until it answers
        self.idle: asyncio.TimerHandle | None = None

    # asyncio callbacks
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.worker.connections.add(self)
        self._arm_idle()

    def connection_lost(self, exc: Exception | None) -> None:
        self.worker.connections.discard(self)
        self.transport = None
        if self.idle is not None:
            self.idle.cancel()

    def data_received(self, data: bytes) -> None:
        self.h11.receive_data(data)
        self._next_events()

    def eof_received(self) -> bool | None:
        self.h11.receive_data(b"")
        self._next_events()
        return None

    # reading
    def _next_events(self) -> None:
        while not self.busy and self.transport is not None:
            try:
                event = self.h11.next_event()
            except h11.RemoteProtocolError as error:
                self._refuse(error.error_status_hint, f"malformed request: {error}")
                return
            if event is h11.NEED_DATA:
                return
            if isinstance(event, h11.Request):
                if sum(len(n) + len(v) + 4 for n, v in event.headers) > HEAD_LIMIT:
                    # h11 checks the limit only on a head that arrives in pieces
                    self._refuse(431, f"malformed request: headers over {HEAD_LIMIT} bytes")
                    return
                self.request, self.body = event, []
                if self.idle is not None:
                    self.idle.cancel()
                if self.h11.they_are_waiting_for_100_continue:
                    self._send([h11.InformationalResponse(status_code=100, headers=[])])
            elif isinstance(event, h11.Data):
                self.body.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                self._dispatch()
            elif isinstance(event, h11.ConnectionClosed) or event is h11.PAUSED:
                if event is not h11.PAUSED:
                    self._close()
                return

    def _refuse(self, status: int, message: str) -> None:
        code, headers, body = error_answer(status, message)
        if self.transport is None:
            return
        if self.h11.our_state in (h11.IDLE, h11.SEND_RESPONSE):
            try:
                events = [h11.Response(status_code=code, headers=headers), h11.Data(data=body)]
                self._send([*events, h11.EndOfMessage()])
            except h11.LocalProtocolError:
                pass
        self._close()

    # running the app
    def _dispatch(self) -> None:
        request = self.request
        assert request is not None and self.transport is not None
        self.busy = True
        self.transport.pause_reading()
        environ = self.worker.environ(request, b"".join(self.body), self.transport)
        self.body = []
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self.worker.pool, run_app, self.worker.wsgi, environ)
        future.add_done_callback(self._answered)

    def _answered(self, future: asyncio.Future[Answer]) -> None:
        self.busy = False
        if self.transport is None:
            return
        if future.exception() is not None:  # the app's own handlers answer errors: a bug
            self.worker.log.error("the app raised", exc_info=future.exception())
            self._refuse(500, "internal error")
            return
        answer = future.result()
        if answer.drop is not None:
            self._drop(answer.drop == "reset")
            return
        headers = answer.headers
        if not any(name.lower() == "content-length" for name, _ in headers):
            headers = [*headers, ("Content-Length", str(len(answer.body)))]
        if not self.worker.alive:
            headers = [*headers, ("Connection", "close")]
        try:
            self._send(
                [
                    h11.Response(status_code=answer.status, headers=headers, reason=answer.reason),
                    h11.Data(data=answer.body),
                    h11.EndOfMessage(),
                ]
            )
        except h11.LocalProtocolError:
            self._close()
            return
        if self.h11.our_state is h11.MUST_CLOSE or self.h11.their_state is not h11.DONE:
            self._close()
            return
        self.h11.start_next_cycle()
        self.transport.resume_reading()
        self._arm_idle()
        self._next_events()  # a pipelined request may be waiting in h11's buffer

    # writing and closing
    def _send(self, events: list[Any]) -> None:
        assert self.transport is not None
        self.transport.write(b"".join(self.h11.send(event) or b"" for event in events))

    def _drop(self, reset: bool) -> None:
        assert self.transport is not None
        if reset:
            sock = self.transport.get_extra_info("socket")
            if sock is not None:  # SO_LINGER 0: the close sends RST, not FIN
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.transport.abort()
        else:
            self.transport.close()
        self.transport = None

    def _close(self) -> None:
        if self.transport is not None:
            self.transport.close()
            self.transport = None

    def _arm_idle(self) -> None:
        if self.idle is not None:
            self.idle.cancel()
        self.idle = asyncio.get_running_loop().call_later(KEEPALIVE_SECONDS, self._idle_out)

    def _idle_out(self) -> None:
        if not self.busy and self.h11.their_state in (h11.IDLE, h11.DONE):
            self._close()


class FrontWorker(Worker):  # type: ignore[misc]
    """A gunicorn worker: an asyncio loop reads and writes, `threads` threads run the app."""

    def init_process(self) -> None:
        self.connections: set[Connection] = set()
        self._accepting: set[asyncio.Task[Any]] = set()
        self.pool = ThreadPoolExecutor(self.cfg.threads, thread_name_prefix="shortapi-http")
        super().init_process()  # loads the app, then calls run()

    def environ(
        self, request: h11.Request, body: bytes, transport: asyncio.Transport
    ) -> dict[str, Any]:
        """Return the WSGI environ of a request read in full."""
        target = request.target
        path, _, query = target.partition(b"?")
        server = transport.get_extra_info("sockname") or ("", 0)
        peer = transport.get_extra_info("peername") or ("", 0)
        environ: dict[str, Any] = {
            "REQUEST_METHOD": request.method.decode("ascii"),
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote_to_bytes(path).decode("latin-1"),
            "QUERY_STRING": query.decode("latin-1"),
            "RAW_URI": target.decode("latin-1"),
            "SERVER_NAME": str(server[0]),
            "SERVER_PORT": str(server[1]),
            "SERVER_PROTOCOL": f"HTTP/{request.http_version.decode('ascii')}",
            "REMOTE_ADDR": str(peer[0]),
            "REMOTE_PORT": str(peer[1]),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        for raw_name, raw_value in request.headers:
            name = raw_name.decode("latin-1").upper().replace("-", "_")
            value = raw_value.decode("latin-1")
            if name == "CONTENT_TYPE" or name == "CONTENT_LENGTH":
                environ[name] = value
                continue
            key = f"HTTP_{name}"
            environ[key] = f"{environ[key]},{value}" if key in environ else value
        if "CONTENT_LENGTH" not in environ:
            environ["CONTENT_LENGTH"] = str(len(body))
        return environ

    def run(self) -> None:
        asyncio.run(self._serve())

    def _accept(self, loop: asyncio.AbstractEventLoop, sock: socket.socket) -> None:
        """Take one connection per wake-up. Every worker waits on the same listening socket
        and all wake; taking one each spreads connections over the workers (asyncio's own
        server takes up to 100 at once, and one worker got all 16 of a benchmark's), and a
        worker busy in its threads wakes later and takes fewer."""
        try:
            conn, _ = sock.accept()
        except (BlockingIOError, InterruptedError, ConnectionAbortedError):
            return
        except OSError as error:  # out of descriptors: say so, keep serving the others
            self.log.error("accept failed: %s", error)
            return
        conn.setblocking(False)
        task = loop.create_task(loop.connect_accepted_socket(lambda: Connection(self), conn))
        self._accepting.add(task)
        task.add_done_callback(self._accepting.discard)

    async def _serve(self) -> None:
        loop = asyncio.get_running_loop()
        listening = [listener.sock for listener in self.sockets]
        for sock in listening:
            sock.setblocking(False)
            loop.add_reader(sock.fileno(), self._accept, loop, sock)
        while self.alive:
            self.notify()
            if self.ppid != os.getppid():
                break
            await asyncio.sleep(_HEARTBEAT_SECONDS)
        for sock in listening:
            loop.remove_reader(sock.fileno())
        deadline = loop.time() + float(self.cfg.graceful_timeout)
        while any(c.busy for c in self.connections) and loop.time() < deadline:
            self.notify()
            await asyncio.sleep(0.05)
        for connection in list(self.connections):
            connection._close()
        self.pool.shutdown(wait=False, cancel_futures=True)
