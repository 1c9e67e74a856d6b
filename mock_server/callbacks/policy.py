"""Which callback URLs may be called: host allow and deny lists, blocked networks."""

from __future__ import annotations

import fnmatch
import ipaddress
import socket
from collections.abc import Sequence
from urllib.parse import urlsplit


class Policy:
    """Which callback URLs may be called: host allow/deny lists and blocked networks."""

    def __init__(
        self, *, allow: Sequence[str] | None, deny: Sequence[str], blocked: Sequence[str]
    ) -> None:
        self.allow = [h.lower() for h in allow] if allow is not None else None
        self.deny = [h.lower() for h in deny]
        self.blocked = [ipaddress.ip_network(n) for n in blocked]

    def refusal(self, url: str) -> str | None:
        """Return why `url` must not be called, or None if it may."""
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if parts.scheme not in ("http", "https") or not host:
            return "not an absolute http(s) URL"
        if any(fnmatch.fnmatch(host, pattern) for pattern in self.deny):
            return f"host {host} is on the deny list"
        if self.allow is not None and not any(fnmatch.fnmatch(host, p) for p in self.allow):
            return f"host {host} is not on the allow list"
        try:
            infos = socket.getaddrinfo(host, parts.port or 80, proto=socket.IPPROTO_TCP)
        except (OSError, UnicodeError):
            return None  # not resolvable now: the attempt fails and is retried
        for info in infos:
            address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
            if any(address in network for network in self.blocked):
                return f"address {address} of {host} is in a blocked network"
        return None
