"""Which callback URLs may be called, and at which address.

`Policy.decide(url)` resolves the URL's host once (through an injectable resolver, so tests
never need DNS) and judges every address it gets: the attempt then connects to the first of
those very addresses (`sender.py`), keeping the URL's host for the Host header and the TLS
server name, so a name that changes its answer between the check and the connection (DNS
rebinding) cannot slip past.

An address is judged together with the IPv4 address it stands for: an IPv4-mapped
(``::ffff:a.b.c.d``), IPv4-compatible (``::a.b.c.d``), NAT64 (``64:ff9b::a.b.c.d``) or 6to4
address is refused when its IPv4 address is, and the unspecified addresses (``0.0.0.0``,
``::``, which reach this host) are judged as loopback. Well-known cloud metadata host names are
refused by name, before any lookup.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Sequence[str]]
"""Given a host name and a port, return its addresses (raise OSError if it has none)."""

METADATA_HOSTS = frozenset(
    {
        "metadata",
        "metadata.google.internal",  # Google Cloud
        "metadata.goog",
        "instance-data",  # AWS
        "instance-data.ec2.internal",
        "metadata.azure.internal",
        "metadata.tencentyun.com",  # Tencent Cloud
        "metadata.platformequinix.com",  # Equinix Metal
        "metadata.packet.net",
    }
)
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_LOOPBACK = {4: ipaddress.ip_address("127.0.0.1"), 6: ipaddress.ip_address("::1")}
_DEFAULT_PORTS = {"http": 80, "https": 443}


def system_resolver(host: str, port: int) -> list[str]:
    """Resolve `host` with the system's resolver (getaddrinfo), TCP addresses in its order."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def stands_for(address: IPAddress) -> list[IPAddress]:
    """Return `address` and every address it stands for: the IPv4 address embedded in an
    IPv4-mapped, IPv4-compatible, NAT64 or 6to4 address, and loopback for an unspecified
    address (connecting to 0.0.0.0 or :: reaches this host)."""
    found: list[IPAddress] = [address]
    if isinstance(address, ipaddress.IPv6Address):
        value = int(address)
        compatible = value >> 32 == 0 and value > 1  # ::a.b.c.d (deprecated, still routed)
        if address.ipv4_mapped is not None:
            found.append(address.ipv4_mapped)
        elif compatible or any(address in network for network in _NAT64):
            found.append(ipaddress.IPv4Address(value & 0xFFFFFFFF))
        if address.sixtofour is not None:
            found.append(address.sixtofour)
    found += [_LOOPBACK[a.version] for a in found if a.is_unspecified]
    return found


@dataclass(frozen=True)
class Target:
    """Where one attempt goes: the address connected to and what the request says."""

    scheme: str  # http | https
    host: str  # the URL's host (ASCII): the TLS server name and the certificate's name
    port: int
    address: str  # the IP address connected to, judged by the policy
    path: str  # the request target: path and query
    host_header: str  # the Host header: the URL's host, and its port if the URL names one


@dataclass(frozen=True)
class Decision:
    """The policy's answer for one attempt: a target, a refusal (final) or an error (the
    attempt fails and is retried, as when the name does not resolve)."""

    target: Target | None = None
    refusal: str | None = None
    error: str | None = None


class Policy:
    """Which callback URLs may be called: host allow/deny lists, metadata names, blocked
    networks (judged on the addresses actually connected to)."""

    def __init__(
        self,
        *,
        allow: Sequence[str] | None,
        deny: Sequence[str],
        blocked: Sequence[str],
        resolver: Resolver | None = None,
    ) -> None:
        self.allow = [h.lower() for h in allow] if allow is not None else None
        self.deny = [h.lower() for h in deny]
        self.blocked = [ipaddress.ip_network(n) for n in blocked]
        self.resolver: Resolver = resolver or system_resolver

    def decide(self, url: str) -> Decision:
        """Resolve `url`'s host once and say where an attempt may connect, or why not."""
        try:
            parts = urlsplit(url)
            port = parts.port or _DEFAULT_PORTS.get(parts.scheme, 0)
        except ValueError:
            return Decision(refusal="not an absolute http(s) URL")
        host = (parts.hostname or "").lower()
        if parts.scheme not in _DEFAULT_PORTS or not host:
            return Decision(refusal="not an absolute http(s) URL")
        name = host.rstrip(".")
        if name in METADATA_HOSTS:
            return Decision(refusal=f"host {host} is a cloud metadata service")
        if any(fnmatch.fnmatch(host, pattern) for pattern in self.deny):
            return Decision(refusal=f"host {host} is on the deny list")
        if self.allow is not None and not any(fnmatch.fnmatch(host, p) for p in self.allow):
            return Decision(refusal=f"host {host} is not on the allow list")
        literal = _address(host)
        try:
            ascii_host = host if literal else host.encode("idna").decode("ascii")
        except UnicodeError:
            return Decision(refusal=f"host {host} is not a valid host name")
        if literal is not None:
            addresses = [literal]
        else:
            try:
                addresses = [_checked(a) for a in self.resolver(ascii_host, port)]
            except (OSError, UnicodeError, ValueError) as exc:
                return Decision(error=f"host {host} does not resolve: {exc}"[:300])
            if not addresses:
                return Decision(error=f"host {host} does not resolve")
        for address in addresses:
            if refusal := self._blocked(address, host):
                return Decision(refusal=refusal)
        shown = f"[{ascii_host}]" if ":" in ascii_host else ascii_host
        return Decision(
            target=Target(
                scheme=parts.scheme,
                host=ascii_host,
                port=port,
                address=str(addresses[0]),
                path=(parts.path or "/") + (f"?{parts.query}" if parts.query else ""),
                host_header=f"{shown}:{parts.port}" if parts.port else shown,
            )
        )

    def _blocked(self, address: IPAddress, host: str) -> str | None:
        for judged in stands_for(address):
            for network in self.blocked:
                if judged.version == network.version and judged in network:
                    meant = "" if judged == address else f", which stands for {judged},"
                    return f"address {address} of {host}{meant} is in a blocked network {network}"
        return None


def _address(text: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(text.split("%")[0])
    except ValueError:
        return None


def _checked(text: str) -> IPAddress:
    address = _address(text)
    if address is None:
        raise ValueError(f"the resolver answered {text!r}, not an IP address")
    return address
