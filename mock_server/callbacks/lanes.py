"""How many attempts may be in flight: per destination (host:port) and in all.

A destination's lane holds at most ``per_destination`` attempts at once and the dispatcher
claims no delivery for a full lane, so a receiver that hangs delays only its own deliveries.
A job's deliveries go one at a time, in the order they fall due (so ``callback:out-of-order``
and a job's status changes arrive in their order). A destination whose last ``DOWN_AFTER``
attempts all went unanswered (no connection, a timeout, a name that does not resolve) is
*down* until one is answered: its deliveries are still sent, but an advance does not wait for
them (`dispatcher.py`). The bounds hold per process: with several workers, each has its own.
"""

from __future__ import annotations

import collections
import threading
from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}
DOWN_AFTER = 4  # unanswered attempts in a row that make a destination down


def destination_of(url: str) -> str:
    """Return the lane a URL's deliveries share: ``host:port`` (lowercase, default ports
    filled in); a URL that does not parse gets a lane of its own text."""
    try:
        parts = urlsplit(url)
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme, 0)
    except ValueError:
        return url[:200]
    host = (parts.hostname or "").lower().rstrip(".")
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class Lanes:
    """Slots for attempts in flight, per destination and in all; thread-safe."""

    def __init__(self, *, per_destination: int, total: int) -> None:
        self.per_destination = per_destination
        self.total = total
        self._lock = threading.Lock()
        self._busy: dict[str, int] = {}
        self._jobs: set[str] = set()
        self._queued: collections.Counter[str] = collections.Counter()  # claimed by a chain
        self._unanswered: dict[str, int] = {}

    def free(self) -> int:
        """Return how many more attempts may start now (in all)."""
        with self._lock:
            return self.total - sum(self._busy.values())

    def room(self) -> int:
        """Return how many deliveries one claim should ask for: no more than the busiest
        lane that is not full can take (so a claim rarely brings back what must go back)."""
        with self._lock:
            busy = [n for n in self._busy.values() if n < self.per_destination]
            free = self.total - sum(self._busy.values())
            return max(min(free, self.per_destination - max(busy, default=0)), 0)

    def full(self) -> set[str]:
        """Return the destinations whose lane is full."""
        with self._lock:
            return {d for d, n in self._busy.items() if n >= self.per_destination}

    def jobs(self) -> set[str]:
        """Return the jobs with an attempt in flight, or queued on a chain to go next."""
        with self._lock:
            return self._jobs | set(self._queued)

    def queue(self, job_ids: list[str]) -> None:
        """Count deliveries of `job_ids` a chain claimed to send after its current one: no
        other delivery of those jobs may start before them."""
        with self._lock:
            self._queued.update(job_ids)

    def unqueue(self, job_id: str) -> None:
        """Count out a queued delivery of `job_id` (sent next, or given back)."""
        with self._lock:
            self._queued[job_id] -= 1
            if self._queued[job_id] <= 0:
                del self._queued[job_id]

    def take(self, destination: str, job_id: str) -> bool:
        """Take a slot for an attempt of `job_id` to `destination`; False if none is free."""
        with self._lock:
            busy = self._busy.get(destination, 0)
            if (
                busy >= self.per_destination
                or sum(self._busy.values()) >= self.total
                or job_id in self._jobs
                or job_id in self._queued
            ):
                return False
            self._busy[destination] = busy + 1
            self._jobs.add(job_id)
            return True

    def record(self, destination: str, answered: bool) -> None:
        """Count an attempt to `destination` that was answered (any HTTP status) or not."""
        with self._lock:
            if answered:
                self._unanswered.pop(destination, None)
            else:
                self._unanswered[destination] = self._unanswered.get(destination, 0) + 1

    def down(self) -> set[str]:
        """Return the destinations whose last `DOWN_AFTER` attempts went unanswered."""
        with self._lock:
            return {d for d, n in self._unanswered.items() if n >= DOWN_AFTER}

    def switch(self, destination: str, done: str, job_id: str) -> bool:
        """Pass a slot of `destination` from job `done` to `job_id`; False if that job
        has an attempt in flight already."""
        with self._lock:
            if job_id != done and job_id in self._jobs:
                return False
            self._jobs.discard(done)
            self._jobs.add(job_id)
            return True

    def give(self, destination: str, job_id: str) -> None:
        """Give back the slot `take` gave."""
        with self._lock:
            self._jobs.discard(job_id)
            left = self._busy.get(destination, 0) - 1
            if left > 0:
                self._busy[destination] = left
            else:
                self._busy.pop(destination, None)
