"""How long one call (an ``advance``, a ``run_all``) may still wait on the network, in all.

A budget starts at one attempt's timeout (plus a little grace for the attempt to be recorded)
and is charged for every wall second the call spends waiting on attempts in flight, its own or
another worker's. Once it is spent the call returns; attempts in flight finish in the
background and are recorded as usual.
"""

from __future__ import annotations

import time
from collections.abc import Collection
from concurrent.futures import FIRST_COMPLETED, Future, wait

GRACE = 0.25  # wall seconds beyond the attempt timeout: the attempt's record is written
PROBE = 0.25  # wall seconds a call waits for a destination that is down (lanes.py)


class Budget:
    """Wall seconds a call may still wait on the network."""

    def __init__(self, seconds: float) -> None:
        self.left = seconds
        self.probed: set[str] = set()  # down destinations already waited for once

    @property
    def spent(self) -> bool:
        """Say whether the call may wait no longer."""
        return self.left <= 0

    def wait(self, futures: Collection[Future[None]], *, limit: float | None = None) -> None:
        """Block until one of `futures` is done or the budget is spent (or `limit` seconds
        passed); charge the time."""
        started = time.monotonic()
        timeout = max(self.left if limit is None else min(self.left, limit), 0.0)
        wait(futures, timeout=timeout, return_when=FIRST_COMPLETED)
        self.left -= time.monotonic() - started

    def sleep(self, seconds: float) -> None:
        """Sleep `seconds` (no longer than what is left); charge the time."""
        started = time.monotonic()
        time.sleep(max(min(seconds, self.left), 0.0))
        self.left -= time.monotonic() - started
