"""``--public-url``: the target calls the proxy back, and the proxy calls the app.

A create's ``callback_url`` is swapped for ``<public-url>/_proxy/callback/<token>`` before it
is forwarded; the body the target then posts there is recorded and checked (callback.json,
A-callback-body) and posted on to the app's own URL, under the mock's callback URL policy
(`callbacks/policy.py`: the host judged on the addresses it resolves to, and the attempt
connecting to the very address judged, the URL's host kept for Host and TLS).
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from mock_server.callbacks.policy import Policy, Resolver

from .forward import Answer

PATH = "/_proxy/callback/"
MAX_TOKENS = 10_000  # callback URLs remembered (the oldest go first)


@dataclass(frozen=True)
class Route:
    """Where a token's callbacks go: the app's own URL, and the item of its create."""

    url: str
    item: str


class CallbackRelay:
    """The tokens handed out, and the forwarding of what arrives on them."""

    def __init__(
        self,
        public_url: str,
        *,
        allow: Sequence[str] | None,
        deny: Sequence[str],
        blocked: Sequence[str],
        resolver: Resolver | None,
        timeout: float,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.public_url = public_url.rstrip("/")
        self.policy = Policy(allow=allow, deny=deny, blocked=blocked, resolver=resolver)
        self.client = httpx.Client(timeout=timeout, follow_redirects=False, transport=transport)
        self._routes: dict[str, Route] = {}
        self._lock = threading.Lock()

    def rewrite(self, body: Any, item: str) -> bytes | None:
        """Return the create body with its callback_url swapped for ours (None: none to swap)."""
        if not isinstance(body, dict) or not isinstance(body.get("callback_url"), str):
            return None
        token = secrets.token_urlsafe(16)
        with self._lock:
            if len(self._routes) >= MAX_TOKENS:
                self._routes.pop(next(iter(self._routes)))
            self._routes[token] = Route(body["callback_url"], item)
        ours = {**body, "callback_url": f"{self.public_url}{PATH}{token}"}
        return json.dumps(ours, ensure_ascii=False).encode("utf-8")

    def route(self, token: str) -> Route | None:
        """Return where `token`'s callbacks go, or None for a token never handed out."""
        with self._lock:
            return self._routes.get(token)

    def forward(self, url: str, body: bytes, content_type: str | None) -> Answer | str:
        """Post `body` to the app's `url`; return its answer, or why it was not sent."""
        decision = self.policy.decide(url)
        target = decision.target
        if target is None:
            return f"not forwarded: {decision.refusal or decision.error}"
        address = f"[{target.address}]" if ":" in target.address else target.address
        headers = {"Host": target.host_header, "Content-Type": content_type or "application/json"}
        extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
        try:
            response = self.client.post(
                f"{target.scheme}://{address}:{target.port}{target.path}",
                content=body,
                headers=headers,
                extensions=extensions,
            )
        except httpx.HTTPError as exc:
            return f"not delivered: {type(exc).__name__}"
        return Answer(response.status_code, (), response.content[: 64 * 1024])

    def close(self) -> None:
        """Close the connection pool."""
        self.client.close()
