"""How one callback attempt is sent: a JSON POST to the address the policy judged (the URL's
host kept in the Host header and as the TLS server name), no redirects, no retries of its own
(the dispatcher retries on the clock), a capped read, and a hard deadline: a connect timeout,
and the whole attempt cut off after ``timeout`` wall seconds even if the receiver trickles.

urllib3's connection classes, connected to the judged address (never a name, so nothing is
looked up again). A few kept-alive connections per address are reused; one the receiver
closed meanwhile is noticed before use, or the request is sent once more on a new one.
"""

from __future__ import annotations

import contextlib
import heapq
import http.client
import itertools
import socket
import threading
import time
from typing import TYPE_CHECKING

from mock_server import strictjson
from mock_server.callbacks.policy import Target
from mock_server.state.records import Delivery
from mock_server.version import __version__

if TYPE_CHECKING:  # urllib3 (and ssl) are imported on the first callback: an idle mock without
    import urllib3
    from urllib3.connection import HTTPConnection


def _failures() -> tuple[type[Exception], ...]:
    """What a failed attempt raises: socket and TLS errors, a malformed answer, a certificate
    whose name does not match (urllib3's CertificateError is a ValueError)."""
    import urllib3

    return (OSError, http.client.HTTPException, urllib3.exceptions.HTTPError, ValueError)


def _cut(connection: HTTPConnection) -> None:
    """Shut the connection's socket: a blocked read returns at once."""
    sock = connection.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


class _Watchdog:
    """One thread that cuts the connection of every attempt past its deadline."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int]] = []
        self._armed: dict[int, HTTPConnection] = {}
        self._keys = itertools.count()
        self._thread: threading.Thread | None = None

    def arm(self, deadline: float, connection: HTTPConnection) -> int:
        """Cut `connection` at monotonic time `deadline` unless disarmed first."""
        with self._cond:
            while self._heap and self._heap[0][1] not in self._armed:
                heapq.heappop(self._heap)  # disarmed: forget it
            earliest = not self._heap or deadline < self._heap[0][0]
            key = next(self._keys)
            heapq.heappush(self._heap, (deadline, key))
            self._armed[key] = connection
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="shortapi-callback-watchdog", daemon=True
                )
                self._thread.start()
            elif earliest:  # the thread sleeps until a later deadline: wake it
                self._cond.notify()
            return key

    def disarm(self, key: int) -> None:
        """Forget the deadline `arm` set."""
        with self._cond:
            self._armed.pop(key, None)

    def cut_all(self) -> None:
        """Cut every armed connection now."""
        with self._cond:
            armed = list(self._armed.values())
        for connection in armed:
            _cut(connection)

    def _run(self) -> None:
        with self._cond:
            while True:
                now = time.monotonic()
                while self._heap and (
                    self._heap[0][1] not in self._armed or self._heap[0][0] <= now
                ):
                    _, key = heapq.heappop(self._heap)
                    if (connection := self._armed.pop(key, None)) is not None:
                        _cut(connection)
                self._cond.wait(self._heap[0][0] - now if self._heap else None)


_Address = tuple[str, str, int, str]  # scheme, address, port, host
_STALE = (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected)
IDLE_PER_ADDRESS = 4  # kept-alive connections kept per address
IDLE_ADDRESSES = 64  # addresses with kept-alive connections (the oldest go first)


class Sender:
    """POST deliveries; a few kept-alive connections per judged address are reused."""

    def __init__(self, *, connect_timeout: float, timeout: float, response_limit: int) -> None:
        self.connect_timeout = min(connect_timeout, timeout)
        self.timeout = timeout
        self.response_limit = response_limit
        self._watchdog = _Watchdog()
        self._idle: dict[_Address, list[HTTPConnection]] = {}
        self._lock = threading.Lock()

    def post(
        self, target: Target, delivery: Delivery, number: int, *, timeout: float | None = None
    ) -> tuple[int | None, str | None]:
        """Send attempt `number` of `delivery` to `target` within `timeout` wall seconds
        (default: the sender's); return the answer's status, or the error."""
        seconds = max(min(self.timeout if timeout is None else timeout, self.timeout), 0.001)
        deadline = time.monotonic() + seconds
        body = strictjson.dumps(delivery.body).encode()  # never a bare NaN to a receiver
        headers = {
            "Host": target.host_header,
            "Content-Type": "application/json",
            "User-Agent": f"shortapi-mock/{__version__}",
            "X-Mock-Delivery": str(delivery.id),
            "X-Mock-Attempt": str(number),
        }
        connection, reused = self._take(target, min(self.connect_timeout, seconds))
        try:
            try:
                return self._exchange(target, connection, body, headers, deadline), None
            except _STALE:
                if not reused or time.monotonic() >= deadline:
                    raise
                # The receiver closed the kept-alive connection: once more, on a new one.
                connection.close()
                left = max(deadline - time.monotonic(), 0.001)
                connection = self._new(target, min(self.connect_timeout, left))
                return self._exchange(target, connection, body, headers, deadline), None
        except _failures() as exc:
            connection.close()
            error = f"{type(exc).__name__}: {exc}"
            if time.monotonic() >= deadline:
                error = f"timed out after {self.timeout:g} s ({error})"
            return None, error[:300]

    def _exchange(
        self,
        target: Target,
        connection: HTTPConnection,
        body: bytes,
        headers: dict[str, str],
        deadline: float,
    ) -> int:
        """Send the request and read the answer (capped) before `deadline`; keep the
        connection for the next attempt if the answer ended cleanly."""
        key = self._watchdog.arm(deadline, connection)
        try:
            if connection.sock is None:
                connection.connect()
            connection.timeout = max(deadline - time.monotonic(), 0.001)
            connection.request(
                "POST",
                target.path,
                body=body,
                headers=headers,
                preload_content=False,
                decode_content=False,  # the answer is read raw: no decompression bomb
            )
            connection.timeout = max(deadline - time.monotonic(), 0.001)
            response = connection.getresponse()
            if time.monotonic() >= deadline:  # the head ended only because it was cut off
                raise TimeoutError("the answer's status and headers did not arrive in time")
            ended = self._read(response, deadline)
            response.close()
        finally:
            self._watchdog.disarm(key)
        closing = "close" in response.headers.get("Connection", "").lower()
        if ended and response.version == 11 and not closing:
            self._give(target, connection)
        else:
            connection.close()
        return response.status

    def _take(self, target: Target, connect_timeout: float) -> tuple[HTTPConnection, bool]:
        """Return a kept-alive connection to the target's address (True), or a new one."""
        address = (target.scheme, target.address, target.port, target.host)
        while True:
            with self._lock:
                idle = self._idle.get(address)
                connection = idle.pop() if idle else None
            if connection is None:
                return self._new(target, connect_timeout), False
            if connection.is_connected:  # not closed by the receiver meanwhile
                return connection, True
            connection.close()

    def _give(self, target: Target, connection: HTTPConnection) -> None:
        address = (target.scheme, target.address, target.port, target.host)
        dropped: list[HTTPConnection] = []
        with self._lock:
            idle = self._idle.pop(address, [])
            self._idle[address] = idle  # the newest address last
            if len(idle) < IDLE_PER_ADDRESS:
                idle.append(connection)
            else:
                dropped.append(connection)
            while len(self._idle) > IDLE_ADDRESSES:
                dropped += self._idle.pop(next(iter(self._idle)))
        for gone in dropped:
            gone.close()

    @staticmethod
    def _new(target: Target, connect_timeout: float) -> HTTPConnection:
        from urllib3.connection import HTTPConnection, HTTPSConnection

        if target.scheme == "https":
            return HTTPSConnection(
                target.address,
                target.port,
                timeout=connect_timeout,
                server_hostname=target.host,
                assert_hostname=target.host,
            )
        return HTTPConnection(target.address, target.port, timeout=connect_timeout)

    def _read(self, response: urllib3.BaseHTTPResponse, deadline: float) -> bool:
        """Read at most `response_limit` bytes of the answer, before the deadline; say
        whether the answer ended (so the connection may carry another request)."""
        left = self.response_limit
        while left > 0 and time.monotonic() < deadline:
            chunk = response.read(min(left, 16384))
            if not chunk:
                return True
            left -= len(chunk)
        return False

    def close(self) -> None:
        """Cut every attempt in flight and close the kept-alive connections."""
        self._watchdog.cut_all()
        with self._lock:
            idle = [c for connections in self._idle.values() for c in connections]
            self._idle.clear()
        for connection in idle:
            connection.close()
