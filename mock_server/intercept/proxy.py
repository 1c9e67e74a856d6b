"""The intercepting proxy: an HTTP proxy on a loopback port that sends the intercepted hosts
(``api.shortapi.ai``) to the mock and every other host where it was going, untouched.

What it accepts, and where each goes:

- ``CONNECT api.shortapi.ai:443``: the tunnel is answered here. TLS is terminated with a
  certificate of the run's CA (`ca.py`) and each request inside is forwarded to the mock
  (plain HTTP inside such a tunnel too). The name is never resolved: nothing for an
  intercepted host can reach the internet, and a mock that does not answer gives a 502 in
  the API's envelope.
- ``CONNECT other:443``: a byte tunnel to it (the client's TLS goes end to end).
- ``GET http://host/...`` (and ``https://``, as axios sends through a proxy): to the mock
  for an intercepted host, else forwarded to that host as is.
- ``GET /path`` with ``X-Shortapi-Intercept: https://api.shortapi.ai`` (what the Node
  preload sends for ``fetch``): to the mock, as if it came through the tunnel.

Requests reach the mock with their own Host (``api.shortapi.ai``) and ``X-Forwarded-Proto``
saying how the client sent them, so the mock's result URLs point at
``https://api.shortapi.ai/files/...``, which the client then downloads through here too.

One thread per client connection, at most `MAX_CONNECTIONS` at once; every read and write
has a timeout, so a stalled client holds its thread for `HEAD_TIMEOUT` or `IDLE_TIMEOUT` at
most, and a quiet tunnel for `TUNNEL_IDLE`.
"""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import ssl
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import h11

from mock_server.intercept import http1
from mock_server.intercept.ca import CertificateAuthority

DEFAULT_HOSTS = ("api.shortapi.ai",)
INTERCEPT_HEADER = "X-Shortapi-Intercept"
HEAD_TIMEOUT = 30.0  # seconds for a client to send a request's head, or a chunk of its body
IDLE_TIMEOUT = 120.0  # seconds a kept-alive client connection may sit between requests
UPSTREAM_TIMEOUT = 300.0  # seconds for the mock (or another host) to answer
CONNECT_TIMEOUT = 10.0  # seconds to connect upstream
TUNNEL_IDLE = 300.0  # seconds a pass-through tunnel may carry nothing
MAX_CONNECTIONS = 256  # client connections served at once; more wait in the listen backlog
log = logging.getLogger("mock_server.intercept")
Opener = Callable[[tuple[str, int], float], socket.socket]


@dataclass(frozen=True)
class Upstream:
    """Where requests go: scheme, host, port and a path prefix (the mock's base URL)."""

    scheme: str
    host: str
    port: int
    prefix: str = ""

    @classmethod
    def parse(cls, url: str) -> Upstream:
        """Return the upstream of a base URL such as ``http://127.0.0.1:8000``."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        return cls(parts.scheme, parts.hostname, port, parts.path.rstrip("/"))


@dataclass(frozen=True)
class Route:
    """Where one request goes: upstream, request target and headers to send there."""

    upstream: Upstream
    target: bytes
    headers: http1.Headers
    to_mock: bool


def split_authority(authority: str, default_port: int) -> tuple[str, int]:
    """Return host (lowercase, no brackets) and port of ``host[:port]``."""
    parts = urlsplit(f"//{authority}")
    return (parts.hostname or "").rstrip("."), parts.port or default_port


class InterceptProxy:
    """The proxy, serving in daemon threads once started (a context manager)."""

    def __init__(
        self,
        mock_url: str,
        ca: CertificateAuthority,
        *,
        hosts: Iterable[str] = DEFAULT_HOSTS,
        listen: tuple[str, int] = ("127.0.0.1", 0),
        open_connection: Opener = socket.create_connection,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        self.mock = Upstream.parse(mock_url)
        self.ca = ca
        self.hosts = frozenset(h.lower().rstrip(".") for h in hosts)
        self._open = open_connection  # for other hosts only; the mock's address is its own
        self._listen = listen
        self._slots = threading.BoundedSemaphore(max_connections)
        self._clients: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``: the value of HTTPS_PROXY."""
        assert self._listener is not None, "start() first"
        host, port = self._listener.getsockname()[:2]
        return f"http://{host}:{port}"

    def start(self) -> InterceptProxy:
        """Listen and serve in a daemon thread."""
        self._listener = socket.create_server(self._listen, backlog=128)
        self._thread = threading.Thread(target=self._accept, name="shortapi-intercept", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and close every client connection."""
        if self._listener is None:
            return
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes accept()
        self._listener.close()
        with self._lock:
            clients = list(self._clients)
        for sock in clients:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self) -> InterceptProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _accept(self) -> None:
        assert self._listener is not None
        while True:
            self._slots.acquire()
            try:
                sock, _ = self._listener.accept()
            except OSError:  # stopped
                self._slots.release()
                return
            try:
                threading.Thread(target=self._serve, args=(sock,), daemon=True).start()
            except RuntimeError:  # no thread to be had: this client waits for none
                sock.close()
                self._slots.release()

    def _serve(self, client: socket.socket) -> None:
        try:
            with self._tracked(client) as sock:
                self._serve_client(sock)
        except (OSError, h11.ProtocolError):
            pass  # the client went away, timed out or spoke no HTTP: nothing to answer
        finally:
            self._slots.release()

    def _serve_client(self, sock: socket.socket) -> None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(HEAD_TIMEOUT)
        conn = h11.Connection(h11.SERVER, max_incomplete_event_size=http1.MAX_HEAD)
        try:
            event = http1.next_event(conn, sock)
        except h11.RemoteProtocolError as error:
            http1.refuse(conn, sock, error)
            return
        if isinstance(event, h11.Request) and event.method == b"CONNECT":
            self._connect(conn, sock, event)
        elif isinstance(event, h11.Request):
            self._http(conn, sock, event, scheme="http", tunnel=None)

    def _connect(self, conn: h11.Connection, sock: socket.socket, request: h11.Request) -> None:
        authority = request.target.decode("ascii", "replace")
        host, port = split_authority(authority, 443)
        if not isinstance(http1.next_event(conn, sock), h11.EndOfMessage):
            return
        if host in self.hosts:
            sock.sendall(conn.send(h11.Response(status_code=200, headers=[])))
            if conn.trailing_data[0]:
                return  # the client spoke before the tunnel was open
            if sock.recv(1, socket.MSG_PEEK) != b"\x16":  # not a TLS handshake: plain HTTP
                self._tunnel(sock, "http", authority)
                return
            with self._tracked(self._handshake(sock, host)) as tls:
                self._tunnel(tls, "https", authority)
            return
        try:
            remote = self._open((host, port), CONNECT_TIMEOUT)
        except OSError as exc:
            http1.answer(
                conn, sock, 502, f"shortapi-mock intercept: cannot reach {authority}: {exc}"
            )
            return
        with remote:
            sock.sendall(conn.send(h11.Response(status_code=200, headers=[])))
            data, _ = conn.trailing_data
            if data:
                remote.sendall(data)
            _pipe(sock, remote)

    def _handshake(self, sock: socket.socket, host: str) -> ssl.SSLSocket:
        """Terminate the client's TLS with `host`'s certificate (the socket is taken over)."""
        try:
            return self.ca.server_context(host).wrap_socket(sock, server_side=True)
        except ssl.SSLError as exc:
            if "alert" in str(exc).lower():  # the client refused the certificate
                log.warning(
                    "a client refused the certificate of %s (%s): it does not trust the run's "
                    "CA; see 'Any program, any language' in the README for its variable",
                    host,
                    exc.reason or exc,
                )
            raise

    def _tunnel(self, stream: http1.Stream, scheme: str, authority: str) -> None:
        conn = h11.Connection(h11.SERVER, max_incomplete_event_size=http1.MAX_HEAD)
        stream.settimeout(HEAD_TIMEOUT)
        first = http1.next_event(conn, stream)
        if isinstance(first, h11.Request):
            self._http(conn, stream, first, scheme=scheme, tunnel=authority)

    @contextlib.contextmanager
    def _tracked(self, sock: socket.socket) -> Iterator[socket.socket]:
        """Hold `sock` among the client connections stop() closes; close it after."""
        with self._lock:
            self._clients.add(sock)
        try:
            yield sock
        finally:
            with self._lock:
                self._clients.discard(sock)
            sock.close()

    def _http(
        self,
        conn: h11.Connection,
        stream: http1.Stream,
        event: h11.Request,
        *,
        scheme: str,
        tunnel: str | None,
    ) -> None:
        """Serve requests on `stream` until the client or an answer closes it."""
        try:
            self._serve_requests(conn, stream, event, scheme=scheme, tunnel=tunnel)
        except h11.RemoteProtocolError as error:
            http1.refuse(conn, stream, error)

    def _serve_requests(
        self,
        conn: h11.Connection,
        stream: http1.Stream,
        event: h11.Request,
        *,
        scheme: str,
        tunnel: str | None,
    ) -> None:
        while True:
            route = self._route(event, scheme, tunnel)
            if isinstance(route, str):
                http1.answer(conn, stream, 400, route)
            elif not self._forward(conn, stream, event, route):
                return
            if conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
                return
            conn.start_next_cycle()
            stream.settimeout(IDLE_TIMEOUT)
            next_request = http1.next_event(conn, stream)
            if not isinstance(next_request, h11.Request):
                return
            stream.settimeout(HEAD_TIMEOUT)
            event = next_request

    def _route(self, request: h11.Request, scheme: str, tunnel: str | None) -> Route | str:
        """Return where `request` goes, or why it is refused (a 400)."""
        target = request.target.decode("ascii", "replace")
        headers = http1.forwarded_headers(request.headers.raw_items())
        if tunnel is not None:  # inside the intercepted host's tunnel: origin-form
            host = split_authority(tunnel, 443)[0]
            return self._to_mock(host, scheme, target, headers, None)
        if target.startswith(("http://", "https://")):  # absolute-form: a proxy request
            parts = urlsplit(target)
            path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            host = (parts.hostname or "").rstrip(".")
            if host in self.hosts:
                return self._to_mock(host, parts.scheme, path, headers, parts.netloc)
            upstream = Upstream(parts.scheme, host, parts.port or _port(parts.scheme))
            return Route(upstream, path.encode(), [*headers, (b"Connection", b"close")], False)
        origin = request_header(headers, INTERCEPT_HEADER)
        if origin is not None:  # the Node preload's fetch
            parts = urlsplit(origin)
            host = (parts.hostname or "").rstrip(".")
            if host in self.hosts and parts.scheme in ("http", "https"):
                kept = [
                    (n, v) for n, v in headers if n.lower() != INTERCEPT_HEADER.lower().encode()
                ]
                return self._to_mock(host, parts.scheme, target, kept, parts.netloc)
            return f"{INTERCEPT_HEADER}: {origin} is not an intercepted origin"
        return (
            "this is shortapi-mock's intercepting proxy: use it as a proxy (HTTPS_PROXY="
            "this address), or send the mock's own URL a request directly"
        )

    def _to_mock(
        self,
        host: str,
        scheme: str,
        target: str,
        headers: http1.Headers,
        authority: str | None,
    ) -> Route:
        """Route to the mock, with the Host the client meant (`authority`, else its own Host
        header, else `host`) and the scheme it used in X-Forwarded-Proto."""
        own = request_header(headers, "Host")
        kept = [(n, v) for n, v in headers if n.lower() not in (b"x-forwarded-proto", b"host")]
        kept.insert(0, (b"Host", (authority or own or host).encode()))
        kept += [(b"X-Forwarded-Proto", scheme.encode()), (b"Connection", b"close")]
        return Route(self.mock, (self.mock.prefix + target).encode(), kept, True)

    def _forward(
        self, conn: h11.Connection, stream: http1.Stream, request: h11.Request, route: Route
    ) -> bool:
        """Forward one request; return False when the client connection must be dropped."""
        up = route.upstream
        try:
            opener = socket.create_connection if route.to_mock else self._open
            upstream: socket.socket = opener((up.host, up.port), CONNECT_TIMEOUT)
            upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if up.scheme == "https":
                upstream = ssl.create_default_context().wrap_socket(
                    upstream, server_hostname=up.host
                )
        except OSError as exc:
            where = f"the mock at {up.scheme}://{up.host}:{up.port}" if route.to_mock else up.host
            text = f"shortapi-mock intercept: {where} does not answer ({exc})"
            if route.to_mock:
                text += "; nothing was sent to the live API"
            http1.answer(conn, stream, 502, text)
            return True
        with upstream:
            upstream.settimeout(UPSTREAM_TIMEOUT)
            try:
                http1.exchange(conn, stream, request, upstream, route.target, route.headers)
            except http1.Dropped as dropped:
                if dropped.reset and isinstance(stream, socket.socket):
                    http1.abort(stream)  # a TLS socket too: its TCP connection is reset
                return False
        return True


def request_header(headers: http1.Headers, name: str) -> str | None:
    """Return the value of header `name` in `headers`, or None."""
    wanted = name.lower().encode()
    for key, value in headers:
        if key.lower() == wanted:
            return value.decode("latin-1")
    return None


def _port(scheme: str) -> int:
    return 443 if scheme == "https" else 80


def _pipe(a: socket.socket, b: socket.socket) -> None:
    """Copy bytes both ways until either side closes or nothing moves for TUNNEL_IDLE."""
    a.settimeout(TUNNEL_IDLE)
    b.settimeout(TUNNEL_IDLE)
    peers = {a: b, b: a}
    while True:
        ready, _, _ = select.select(list(peers), [], [], TUNNEL_IDLE)
        if not ready:
            return
        for source in ready:
            data = source.recv(http1.CHUNK)
            if not data:
                with contextlib.suppress(OSError):
                    peers[source].shutdown(socket.SHUT_WR)
                return
            peers[source].sendall(data)
