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

Bounds: a body longer than the app's ``MAX_CONTENT_LENGTH`` (declared, or counted as chunks
come) answers 413 at once, from the loop, and the connection closes; a request that makes
no progress for `READ_TIMEOUT_SECONDS` (head or body) answers 408 and closes; a worker holds
at most gunicorn's ``worker_connections`` connections (it stops accepting at the cap), and
pauses accepting for a moment when the process is out of descriptors instead of spinning.
A request's ``environ[GONE_KEY]`` tells a latency fault that its client hung up.
"""

from __future__ import annotations

import asyncio
import errno
import io
import os
import socket
import struct
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import h11
from gunicorn.workers.base import Worker

from mock_server.control.faults import GONE_KEY
from mock_server.serve.front_wsgi import Answer, error_answer, run_app, wsgi_environ

HEAD_LIMIT = 64 * 1024  # bytes of a request's line and headers (h11's event size limit)
KEEPALIVE_SECONDS = 75.0  # an idle kept-alive connection is closed after this long
READ_TIMEOUT_SECONDS = 30.0  # a request (head or body) that sends nothing this long: 408
LINGER_SECONDS = 2.0  # after a refusal, what the client still sends is read and dropped
ACCEPT_BACKOFF_SECONDS = 0.5  # out of descriptors: accept nothing for this long
_HEARTBEAT_SECONDS = 1.0


class Connection(asyncio.Protocol):
    """One client connection: requests read in full on the loop, run on a thread."""

    def __init__(self, worker: FrontWorker, sock: socket.socket) -> None:
        self.worker = worker
        self.sock = sock
        self.h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=HEAD_LIMIT)
        self.transport: asyncio.Transport | None = None
        self.request: h11.Request | None = None
        self.body = io.BytesIO()  # what came of the body: one copy, handed to the app
        self.busy = False  # a request is with the app: read nothing more until it answers
        self.made = False  # connection_made was called: connection_lost will be
        self.lingering = False  # refused: what still comes is dropped until the client closes
        self.idle: asyncio.TimerHandle | None = None
        self.progress = 0.0  # loop time of the last bytes received

    # asyncio callbacks
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.made = True
        self.worker.connections.add(self)
        self.progress = asyncio.get_running_loop().time()
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self.worker.connections.discard(self)
        self.transport = None
        if self.idle is not None:
            self.idle.cancel()
        self.worker.connection_closed()

    def data_received(self, data: bytes) -> None:
        if self.lingering:
            return
        self.progress = asyncio.get_running_loop().time()
        self.h11.receive_data(data)
        self._next_events()

    def eof_received(self) -> bool | None:
        if self.lingering:
            self._close()
            return None
        self.h11.receive_data(b"")
        self._next_events()
        return None

    def gone(self) -> bool:
        """Say whether the client hung up (from a worker thread: reading is paused while the
        app runs, so the loop would not see it): the socket reads end of file, or is shut."""
        if self.transport is None:
            return True
        try:
            return self.sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
        except BlockingIOError:
            return False  # open, nothing sent: still there
        except OSError:
            return True

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
                self.request, self.body = event, io.BytesIO()
                declared = next((v for n, v in event.headers if n == b"content-length"), None)
                if declared is not None and int(declared) > self.worker.max_body:
                    self._too_large()
                    return
                if self.h11.they_are_waiting_for_100_continue:
                    self._send([h11.InformationalResponse(status_code=100, headers=[])])
            elif isinstance(event, h11.Data):
                self.body.write(event.data)
                if self.body.tell() > self.worker.max_body:  # chunked: the running size
                    self._too_large()
                    return
            elif isinstance(event, h11.EndOfMessage):
                self._dispatch()
            elif isinstance(event, h11.ConnectionClosed) or event is h11.PAUSED:
                if event is not h11.PAUSED:
                    self._close()
                return

    def _too_large(self) -> None:
        self.body = io.BytesIO()
        limit = self.worker.max_body
        self._refuse(413, f"request body too large; send at most {limit} bytes")

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
        if (
            self.h11.their_state in (h11.IDLE, h11.DONE, h11.CLOSED, h11.ERROR)
            and not (self.h11.trailing_data[0])
        ):
            self._close()
            return
        # The client may still be sending: closing now, with its bytes unread, would send a
        # reset that can discard the answer before it reads it. Say we are done, drop what
        # comes, and close when it closes (or after LINGER_SECONDS).
        self.lingering = True
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self._arm(LINGER_SECONDS)

    # running the app
    def _dispatch(self) -> None:
        request = self.request
        assert request is not None and self.transport is not None
        self.busy = True
        self.transport.pause_reading()
        environ = wsgi_environ(request, self.body, self.transport)
        environ[GONE_KEY] = self.gone
        self.body = io.BytesIO()
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
        self.progress = asyncio.get_running_loop().time()
        self._arm()
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

    def _arm(self, delay: float | None = None) -> None:
        if self.idle is not None:
            self.idle.cancel()
        delay = delay if delay is not None else self.worker.read_timeout
        self.idle = asyncio.get_running_loop().call_later(delay, self._timer)

    def _reading(self) -> bool:
        """Say whether a request has begun and is not all in (its head or its body)."""
        if self.h11.their_state is h11.SEND_BODY:
            return True
        return self.h11.their_state is h11.IDLE and bool(self.h11.trailing_data[0])

    def _timer(self) -> None:
        """Every `read_timeout` (or `LINGER_SECONDS`): close a lingering connection, answer
        408 to a request with no progress for `read_timeout`, close a connection idle for
        `KEEPALIVE_SECONDS`; a connection whose request is with the app is left alone."""
        if self.transport is None or self.busy:
            return
        if self.lingering:
            self._close()
            return
        quiet = asyncio.get_running_loop().time() - self.progress
        if self._reading():
            if quiet >= self.worker.read_timeout:
                self._refuse(408, f"request not received in time: nothing for {quiet:.0f} s")
                return
        elif quiet >= KEEPALIVE_SECONDS:
            self._close()
            return
        left = (self.worker.read_timeout if self._reading() else KEEPALIVE_SECONDS) - quiet
        self._arm(max(0.05, min(left, self.worker.read_timeout)))


class FrontWorker(Worker):  # type: ignore[misc]
    """A gunicorn worker: an asyncio loop reads and writes, `threads` threads run the app."""

    read_timeout = READ_TIMEOUT_SECONDS
    max_body = 320 * 1024 * 1024  # replaced by the app's MAX_CONTENT_LENGTH once it is loaded

    def init_process(self) -> None:
        self.connections: set[Connection] = set()
        self._accepting: set[asyncio.Task[Any]] = set()
        self._listening: list[socket.socket] = []
        self._listener_paused = False
        self._backing_off = False
        self.open = 0  # connections accepted and not yet closed
        self.pool = ThreadPoolExecutor(self.cfg.threads, thread_name_prefix="shortapi-http")
        super().init_process()  # loads the app, then calls run()

    def load_wsgi(self) -> None:
        super().load_wsgi()
        app: Any = self.wsgi
        while app is not None:  # the Flask app, under middleware such as the access log
            config = getattr(app, "config", None)
            if isinstance(config, dict) and config.get("MAX_CONTENT_LENGTH") is not None:
                self.max_body = int(config["MAX_CONTENT_LENGTH"])
                break
            app = getattr(app, "app", None)

    def run(self) -> None:
        asyncio.run(self._serve())

    def _accept(self, loop: asyncio.AbstractEventLoop, sock: socket.socket) -> None:
        """Take one connection per wake-up. Every worker waits on the same listening socket
        and all wake; taking one each spreads connections over the workers (asyncio's own
        server takes up to 100 at once, and one worker got all 16 of a benchmark's), and a
        worker busy in its threads wakes later and takes fewer."""
        if self.open >= self.cfg.worker_connections:
            self._pause_listening()  # at the cap: the next waits in the backlog
            return
        try:
            conn, _ = sock.accept()
        except (BlockingIOError, InterruptedError, ConnectionAbortedError):
            return
        except OSError as error:
            self.log.error("accept failed: %s", error)
            if error.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                # out of descriptors: the listener stays readable, so waiting on it would
                # spin; accept nothing for a moment while the open connections finish
                self._pause_listening()
                self._backing_off = True
                loop.call_later(ACCEPT_BACKOFF_SECONDS, self._back_off_over)
            return
        conn.setblocking(False)
        self.open += 1
        protocol = Connection(self, conn)
        task = loop.create_task(loop.connect_accepted_socket(lambda: protocol, conn))
        self._accepting.add(task)
        task.add_done_callback(lambda done: self._accepted(done, protocol))

    def _accepted(self, task: asyncio.Task[Any], protocol: Connection) -> None:
        self._accepting.discard(task)
        if not protocol.made and (task.cancelled() or task.exception() is not None):
            conn = protocol.sock
            conn.close()
            self.connection_closed()  # never made, so never lost: count it out here

    def _pause_listening(self) -> None:
        if not self._listener_paused:
            loop = asyncio.get_running_loop()
            for sock in self._listening:
                loop.remove_reader(sock.fileno())
            self._listener_paused = True

    def _resume_listening(self) -> None:
        if self._listener_paused and self.alive and not self._backing_off:
            loop = asyncio.get_running_loop()
            for sock in self._listening:
                loop.add_reader(sock.fileno(), self._accept, loop, sock)
            self._listener_paused = False

    def _back_off_over(self) -> None:
        self._backing_off = False
        self._resume_listening()

    def connection_closed(self) -> None:
        """A connection ended: accept again if the cap had stopped it."""
        self.open -= 1
        if self.open < self.cfg.worker_connections:
            self._resume_listening()

    async def _serve(self) -> None:
        loop = asyncio.get_running_loop()
        self._listening = [listener.sock for listener in self.sockets]
        for sock in self._listening:
            sock.setblocking(False)
            loop.add_reader(sock.fileno(), self._accept, loop, sock)
        while self.alive:
            self.notify()
            if self.ppid != os.getppid():
                break
            await asyncio.sleep(_HEARTBEAT_SECONDS)
        self._pause_listening()
        deadline = loop.time() + float(self.cfg.graceful_timeout)
        while any(c.busy for c in self.connections) and loop.time() < deadline:
            self.notify()
            await asyncio.sleep(0.05)
        for connection in list(self.connections):
            connection._close()
        self.pool.shutdown(wait=False, cancel_futures=True)
