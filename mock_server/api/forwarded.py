"""``X-Forwarded-Proto`` from a loopback peer sets the request's scheme, so the result URLs
of a request that reached the mock through a proxy on this host (`shortapi-mock run`'s
intercepting proxy, a local nginx terminating TLS) say ``https://`` as the client used.

gunicorn does the same by default (its ``forwarded_allow_ips`` is loopback); this makes
werkzeug's server (the pytest fixture) and granian agree. A remote peer's header is ignored:
it could otherwise name any scheme for everyone's links.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from typing import Any

HEADER = "HTTP_X_FORWARDED_PROTO"
SCHEMES = frozenset({"http", "https"})


def _loopback(address: str | None) -> bool:
    try:
        return ipaddress.ip_address((address or "").split("%")[0]).is_loopback
    except ValueError:
        return False


class ForwardedProto:
    """WSGI middleware: trust ``X-Forwarded-Proto`` from loopback peers only."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        scheme = environ.get(HEADER, "").split(",")[0].strip().lower()
        if scheme in SCHEMES and _loopback(environ.get("REMOTE_ADDR")):
            environ["wsgi.url_scheme"] = scheme
        return self.app(environ, start_response)
