"""Which waiting scenario or fault serves a request: the one copy of that policy. A store
offers the waiting injections of a kind in id order and applies the count-down atomically;
`pick` decides: an injection for this very key wins over one for every key, then the oldest.
"""

from __future__ import annotations

from collections.abc import Sequence

from mock_server.state.protocol import Pick, Store
from mock_server.state.records import Injection


def applies(injection: Injection, owner: str | None, endpoint: str) -> bool:
    """Say whether `injection` applies to a request of `owner` to `endpoint`."""
    return (injection.key is None or injection.key == owner) and injection.endpoint in (
        "any",
        endpoint,
    )


def picker(owner: str | None, endpoint: str) -> Pick:
    """Return the choice for a request of `owner` to `endpoint`."""

    def pick(waiting: Sequence[Injection]) -> Injection | None:
        for injection in sorted(waiting, key=lambda i: (i.key is None, i.id)):
            if applies(injection, owner, endpoint):
                return injection
        return None

    return pick


def take(store: Store, kind: str, owner: str | None, endpoint: str) -> Injection | None:
    """Take (count down) the injection of `kind` that serves this request, if any."""
    return store.take_injection(kind, picker(owner, endpoint))
