"""Forward one request to the target with httpx and hand back what it answered.

Headers go through as sent (Authorization included), less the hop-by-hop ones and those
httpx sets itself; the answer's headers come back alike. httpx decodes a compressed body,
so Content-Encoding and Content-Length are dropped from the relayed answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import httpx

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)
_NOT_SENT = HOP_BY_HOP | {"host", "content-length"}
_NOT_RELAYED = HOP_BY_HOP | {"content-length", "content-encoding", "date", "server"}


@dataclass(frozen=True)
class Answer:
    """What the target answered: status, headers (relayable ones), decoded body."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def header(self, name: str) -> str | None:
        """Return the value of header `name` (any case), or None."""
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


class ForwardError(Exception):
    """The target could not be reached, or did not answer in time."""


def _kept(headers: Iterable[tuple[str, str]], dropped: frozenset[str]) -> list[tuple[str, str]]:
    pairs = list(headers)
    named = {
        token.strip().lower()
        for name, value in pairs
        if name.lower() == "connection"
        for token in value.split(",")
    }
    return [(k, v) for k, v in pairs if k.lower() not in dropped and k.lower() not in named]


class Forwarder:
    """An httpx client aimed at one target (thread-safe: one per proxy app)."""

    def __init__(
        self, target: str, *, timeout: float, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.target = target.rstrip("/")
        self.client = httpx.Client(timeout=timeout, follow_redirects=False, transport=transport)

    def send(
        self,
        method: str,
        path: str,
        query: str,
        headers: Iterable[tuple[str, str]],
        body: bytes,
    ) -> Answer:
        """Send one request to the target (`path` and raw `query` appended to its URL)."""
        url = self.target + path + (f"?{query}" if query else "")
        try:
            response = self.client.request(
                method, url, headers=_kept(headers, _NOT_SENT), content=body or None
            )
        except httpx.HTTPError as exc:
            raise ForwardError(f"{type(exc).__name__} from {self.target}") from None
        kept = _kept(response.headers.multi_items(), _NOT_RELAYED)
        return Answer(response.status_code, tuple(kept), response.content)

    def close(self) -> None:
        """Close the connection pool."""
        self.client.close()
