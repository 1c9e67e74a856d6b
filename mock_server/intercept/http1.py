"""One HTTP/1.1 exchange through the proxy, with h11 on both sides (h11 frames the
messages; this module only moves them): the client's request streamed to an upstream
connection, its answer streamed back, in chunks of at most `CHUNK` bytes.

An upstream that cannot be reached answers the API's error envelope (a 502 the client can
read); an upstream that drops the connection without an answer (the mock's ``reset``,
``empty`` and ``ack-lost`` faults) gets the client's connection dropped too, so the client
sees what it would see talking to the mock directly.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import struct
from collections.abc import Iterable, Iterator
from typing import Protocol

import h11

from mock_server.errors import BAD_REQUEST, UNAVAILABLE, envelope_bytes

CHUNK = 64 * 1024  # bytes read or sent at once
MAX_HEAD = 64 * 1024  # bytes of a request or response line and headers
DISCARD_LIMIT = 1024 * 1024  # bytes of a request body read and dropped before answering 502
# Hop-by-hop headers (RFC 9110 7.6.1) and the ones the proxy itself answers (Expect).
HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"proxy-authorization",
        b"proxy-authenticate",
        b"te",
        b"trailer",
        b"upgrade",
        b"expect",
    }
)
Headers = list[tuple[bytes, bytes]]
_QUICKACK: int | None = getattr(socket, "TCP_QUICKACK", None)


class Stream(Protocol):
    """What a plain or TLS socket gives: enough for h11."""

    def recv(self, size: int) -> bytes: ...

    def sendall(self, data: bytes) -> None: ...

    def settimeout(self, value: float | None) -> None: ...

    def close(self) -> None: ...


class Dropped(Exception):
    """The upstream closed the connection without a whole answer: drop the client's too,
    with a reset when the upstream reset it."""

    def __init__(self, text: str, *, reset: bool = False) -> None:
        super().__init__(text)
        self.reset = reset


def _dropped(exc: Exception) -> Dropped:
    return Dropped(str(exc) or type(exc).__name__, reset=isinstance(exc, ConnectionResetError))


def next_event(conn: h11.Connection, stream: Stream) -> h11.Event | type[h11.PAUSED]:
    """Return `conn`'s next event, reading from `stream` as needed (raises on timeout)."""
    while True:
        event = conn.next_event()
        if event is not h11.NEED_DATA:
            return event  # type: ignore[return-value]
        quick_ack(stream)
        conn.receive_data(stream.recv(CHUNK))


def quick_ack(stream: Stream) -> None:
    """Acknowledge at once what arrives next (Linux): a client with Nagle's algorithm on
    (urllib3 through a tunnel, many others) sends a body only once its head is acknowledged,
    and a delayed ACK would hold every POST for 40 ms."""
    if _QUICKACK is not None and isinstance(stream, socket.socket):
        with contextlib.suppress(OSError):
            stream.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)


def body(conn: h11.Connection, stream: Stream) -> Iterator[bytes]:
    """Yield the current message's body chunks until its end."""
    while True:
        event = next_event(conn, stream)
        if isinstance(event, h11.Data):
            yield bytes(event.data)
        elif isinstance(event, h11.EndOfMessage):
            return
        else:
            raise h11.RemoteProtocolError(f"unexpected {type(event).__name__} in a body")


def forwarded_headers(headers: Iterable[tuple[bytes, bytes]]) -> Headers:
    """Return `headers` without the hop-by-hop ones (and those Connection names)."""
    pairs = list(headers)
    named = {
        token.strip().lower()
        for name, value in pairs
        if name.lower() == b"connection"
        for token in value.split(b",")
    }
    return [(n, v) for n, v in pairs if n.lower() not in HOP_BY_HOP and n.lower() not in named]


def envelope_response(status: int, text: str) -> tuple[h11.Response, bytes]:
    """Return an answer in the API's error envelope (code 5001 for a 5xx, else 1200)."""
    code = UNAVAILABLE if status >= 500 else BAD_REQUEST
    payload = envelope_bytes(code, text)
    headers = [
        (b"Content-Type", b"application/json"),
        (b"Content-Length", str(len(payload)).encode()),
        (b"X-Mock-Intercept", b"error"),
    ]
    return h11.Response(status_code=status, headers=headers), payload


def refuse(conn: h11.Connection, stream: Stream, error: h11.RemoteProtocolError) -> None:
    """Answer a request that is not HTTP/1.1 h11 can read with a 4xx envelope, if the
    connection can still carry one (the caller closes it after)."""
    status = error.error_status_hint if 400 <= error.error_status_hint < 500 else 400
    response, payload = envelope_response(
        status, f"shortapi-mock intercept: not a request it can read: {error}"
    )
    with contextlib.suppress(h11.LocalProtocolError, OSError):
        stream.sendall(conn.send(response) + (conn.send(h11.Data(data=payload)) or b""))
        stream.sendall(conn.send(h11.EndOfMessage()) or b"")


def answer(conn: h11.Connection, stream: Stream, status: int, text: str) -> None:
    """Send an error envelope to the client, after reading (a bounded part of) the body."""
    read = 0
    if conn.their_state is h11.SEND_BODY:
        if conn.they_are_waiting_for_100_continue:
            pass  # never asked to send it: h11 makes the connection close after the answer
        else:
            for chunk in body(conn, stream):
                read += len(chunk)
                if read > DISCARD_LIMIT:
                    break
    response, payload = envelope_response(status, text)
    stream.sendall(conn.send(response) + conn.send(h11.Data(data=payload)))
    stream.sendall(conn.send(h11.EndOfMessage()))


class _Writer:
    """Bytes for one stream, sent in writes of about `CHUNK` bytes: a head and a small body
    go in one segment (one TLS record), not in several that wait on each other's ACK."""

    def __init__(self, stream: Stream) -> None:
        self.stream = stream
        self.pending = bytearray()

    def add(self, data: bytes | None) -> None:
        self.pending += data or b""
        if len(self.pending) >= CHUNK:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.stream.sendall(bytes(self.pending))
            self.pending.clear()


def exchange(
    client: h11.Connection,
    client_stream: Stream,
    request: h11.Request,
    upstream: Stream,
    target: bytes,
    headers: Headers,
) -> None:
    """Send `request` (to `target`, with `headers`) and its body upstream, then its answer
    back to the client; raise `Dropped` when the upstream drops the connection first."""
    up = h11.Connection(h11.CLIENT, max_incomplete_event_size=MAX_HEAD)
    to_upstream, to_client = _Writer(upstream), _Writer(client_stream)
    try:
        to_upstream.add(up.send(h11.Request(method=request.method, target=target, headers=headers)))
        if client.they_are_waiting_for_100_continue:
            to_upstream.flush()
            client_stream.sendall(
                client.send(h11.InformationalResponse(status_code=100, headers=[])) or b""
            )
        for chunk in body(client, client_stream):
            to_upstream.add(up.send(h11.Data(data=chunk)))
        to_upstream.add(up.send(h11.EndOfMessage()))
        to_upstream.flush()
        event = next_event(up, upstream)
        while isinstance(event, h11.InformationalResponse):  # a 100 Continue of its own
            event = next_event(up, upstream)
    except (h11.RemoteProtocolError, ConnectionError, ssl.SSLError) as exc:
        raise _dropped(exc) from exc
    if not isinstance(event, h11.Response):
        raise Dropped(f"no answer ({type(event).__name__})")
    reply = h11.Response(
        status_code=event.status_code,
        headers=forwarded_headers(event.headers.raw_items()),
        reason=event.reason,
    )
    to_client.add(client.send(reply))
    try:
        for chunk in body(up, upstream):
            to_client.add(client.send(h11.Data(data=chunk)))
    except (h11.RemoteProtocolError, ConnectionError, ssl.SSLError) as exc:
        raise _dropped(exc) from exc
    to_client.add(client.send(h11.EndOfMessage()))
    to_client.flush()


def abort(sock: socket.socket) -> None:
    """Close `sock` with a reset (no FIN), as the mock's ``reset`` fault does."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()
