"""The one admin guard, for the admin API (/_mock/) and the dashboard (/_mock/ui).

Who may use them: they are open on a loopback bind, or to whoever sends the admin token
(`--admin-token`); otherwise they are off (`admin_access`).

From where (`check_site`): a web page open in the developer's browser must not drive the mock.

- Host: the request's Host must be a loopback name (``localhost``, ``*.localhost``) or
  address, the bind address (any IP address on a wildcard bind), or an ``--allowed-host``
  name. A DNS-rebinding page reaches 127.0.0.1 under its own name, so its Host gives it
  away. A request with the admin token passes (the token is what a rebinding page lacks).
- Origin: a request whose ``Origin`` is not the mock's own (the Host it was sent to, or an
  allowed host) is refused; a state-changing one without ``Origin`` is judged by its
  ``Referer``. A navigation (a link, the address bar) sends neither and opens.
- Callbacks: a request carrying the mock's own ``X-Mock-Delivery`` header is a callback a
  client aimed at ``/_mock/`` (``callback_url: http://127.0.0.1:8000/_mock/reset``): refused,
  so no API client can drive the admin API through the mock itself.
- Content type: a state-changing call (not GET, HEAD or OPTIONS) that carries a body or a
  Content-Type must say ``application/json``, which no HTML form can send and no script can
  send cross-site without a preflight the mock never grants. A call with neither (``curl -X
  POST``, ``requests.post(url)``) passes: a browser sending one cross-site sends an Origin.

Refusals raise `ApiError` (403, or 415 for the content type), answered in the envelope. The
real API routes do not run this guard: they answer under any Host, as behind a proxy.
"""

from __future__ import annotations

import fnmatch
import hmac
import ipaddress
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from mock_server.errors import AUTH_INVALID, BAD_REQUEST, ApiError

TOKEN_HEADER = "X-Mock-Admin-Token"
DELIVERY_HEADER = "X-Mock-Delivery"  # sent by the mock's callbacks (callbacks/sender.py)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_WILDCARDS = frozenset({"", "0.0.0.0", "::", "*"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


def admin_access(config: Mapping[str, Any], given: str | None) -> str | None:
    """Return why the admin surface refuses a caller who sent token `given`, or None.

    The answer is "token" (a token is set and `given` does not match it) or "off" (no token
    is set and the mock does not listen on loopback only).
    """
    token: str | None = config["ADMIN_TOKEN"]
    if token:
        return None if hmac.compare_digest((given or "").encode(), token.encode()) else "token"
    return None if config["ADMIN_OPEN"] else "off"


def _split(netloc: str) -> tuple[str, int | None] | None:
    """Return the host (lowercase, no brackets, no final dot) and port of `netloc`."""
    try:
        parts = urlsplit(f"//{netloc}")
        return (parts.hostname or "").rstrip("."), parts.port
    except ValueError:
        return None


def _origin_of(url: str) -> tuple[str, int | None, int | None] | None:
    """Return the host, port and default port (by scheme) of an Origin or Referer."""
    try:
        parts = urlsplit(url)
        default = _DEFAULT_PORTS.get(parts.scheme)
        port = parts.port or default
    except ValueError:
        return None
    host = (parts.hostname or "").rstrip(".")
    return (host, port, default) if host else None


def _is_ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _mapped_loopback(address: ipaddress.IPv6Address) -> bool:
    return address.ipv4_mapped is not None and address.ipv4_mapped.is_loopback


def _allowed_name(config: Mapping[str, Any], host: str) -> bool:
    return any(fnmatch.fnmatch(host, p.lower()) for p in config["ALLOWED_HOSTS"])


def host_refusal(config: Mapping[str, Any], host_header: str) -> str | None:
    """Return why the admin surface refuses a request sent to `host_header`, or None."""
    split = _split(host_header)
    host = split[0] if split else ""
    if not host:
        return f"the Host header {host_header[:100]!r} is not a host name"
    binds = [str(b).strip("[]").lower() for b in config["BIND_HOSTS"]]
    address = _is_ip(host)
    if address is not None:
        if (
            address.is_loopback
            or (isinstance(address, ipaddress.IPv6Address) and _mapped_loopback(address))
            or any(b in _WILDCARDS for b in binds)
            or any(_is_ip(b) == address for b in binds)
        ):
            return None
    elif host == "localhost" or host.endswith(".localhost") or host in binds:
        return None
    if _allowed_name(config, host):
        return None
    return (
        f"the admin API and the dashboard answer only loopback names and addresses, the bind "
        f"address and --allowed-host names, not Host {host[:100]!r} (as a DNS-rebinding web "
        f"page would send); start the mock with --allowed-host {host[:100]} to allow it"
    )


def origin_refusal(
    config: Mapping[str, Any],
    *,
    host_header: str,
    method: str,
    origin: str | None,
    referer: str | None,
) -> str | None:
    """Return why a request from another site is refused, or None: its ``Origin`` (or, for
    a state-changing call without one, its ``Referer``) must be the mock's own."""
    named, source = ("Origin", origin) if origin else ("Referer", referer)
    if not source or (named == "Referer" and method in SAFE_METHODS):
        return None  # not sent by a page of another site (or a navigation)
    theirs = _origin_of(source)
    ours = _split(host_header)
    if theirs and ours:
        host, port, default = theirs
        if (host, port) == (ours[0], ours[1] or default) or _allowed_name(config, host):
            return None
    return (
        f"cross-site request refused: {named} {source[:200]!r} is not this mock's own "
        f"origin (a page served from {host_header[:100]}); the admin API and the dashboard "
        "take calls from their own pages, scripts and tools, not from other web pages"
    )


def content_type_refusal(method: str, content_type: str | None, has_body: bool) -> str | None:
    """Return why a state-changing call's content type is refused, or None."""
    if method in SAFE_METHODS or (not content_type and not has_body):
        return None
    mimetype = (content_type or "").split(";")[0].strip().lower()
    if mimetype == "application/json" or mimetype.endswith("+json"):
        return None
    return (
        f"a state-changing admin call needs Content-Type: application/json, not "
        f"{mimetype or '(none)'!r}; send the body as JSON (or no body and no Content-Type)"
    )


def has_body(headers: Mapping[str, str]) -> bool:
    """Say whether a request with `headers` carries a body."""
    length = headers.get("Content-Length", "").strip()
    return bool(headers.get("Transfer-Encoding")) or (length not in ("", "0"))


def check_site(
    config: Mapping[str, Any],
    *,
    method: str,
    host: str,
    headers: Mapping[str, str],
    token_given: bool,
) -> None:
    """Raise `ApiError` if a request to `host` (its Host header) with `headers` comes from
    where the admin surface refuses it: a Host that is not the mock's (unless `token_given`:
    the admin token was sent and matched), another site, a state-changing call not in JSON."""
    if not token_given and (refusal := host_refusal(config, host)):
        raise ApiError(403, AUTH_INVALID, refusal)
    if DELIVERY_HEADER in headers:  # a client's callback_url aimed at the admin API
        raise ApiError(
            403,
            AUTH_INVALID,
            "a callback of the mock cannot drive its admin API; point callback_url at your "
            "receiver",
        )
    if refusal := origin_refusal(
        config,
        host_header=host,
        method=method,
        origin=headers.get("Origin"),
        referer=headers.get("Referer"),
    ):
        raise ApiError(403, AUTH_INVALID, refusal)
    content_type = headers.get("Content-Type")
    if refusal := content_type_refusal(method, content_type, has_body(headers)):
        raise ApiError(415, BAD_REQUEST, refusal)
