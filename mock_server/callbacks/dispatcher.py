"""Where a callback is retried: the dispatcher sends what the clock says is due.

`Dispatcher` turns settled status changes (lifecycle.settle) into deliveries in the store,
sends those that are due by the mock's clock, retries with exponential backoff (in clock
seconds) on connection errors and non-2xx answers, follows no redirect, reads at most a
capped amount of each answer, and journals every attempt. With the SQLite store a
delivery pending when the process stops is sent after a restart (at-least-once).

In `manual` mode, `advance` sends what falls due before it returns; in the other modes a
background thread ticks every ``TICK_SECONDS``. The callback body is assumption
A-callback-body: the query response's shape plus ``data.job_id``; when callbacks are sent
is A-callback-events, how they are retried A-callback-retries.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timezone
from typing import Any

from flask import Flask

from mock_server import extensions
from mock_server.callbacks.planner import planner
from mock_server.callbacks.policy import Policy
from mock_server.callbacks.sender import Sender
from mock_server.jobs import lifecycle
from mock_server.state.records import Delivery

log = logging.getLogger(__name__)
_MAX_ROUNDS = 1000  # settle/deliver rounds per call: bounds a pathological loop


def _wall_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


class Dispatcher:
    """Settle status changes, queue callbacks and deliver them."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        config = app.config
        self.store = extensions.store(app)
        self.clock = extensions.clock(app)
        self.policy = Policy(
            allow=config["CALLBACK_ALLOW_HOSTS"],
            deny=config["CALLBACK_DENY_HOSTS"],
            blocked=config["CALLBACK_BLOCKED_NETWORKS"],
        )
        self.attempts = int(config["CALLBACK_ATTEMPTS"])
        self.backoff = float(config["CALLBACK_BACKOFF"])
        self.backoff_max = float(config["CALLBACK_BACKOFF_MAX"])
        self.sender = Sender(
            connect_timeout=float(config["CALLBACK_CONNECT_TIMEOUT"]),
            timeout=float(config["CALLBACK_TIMEOUT"]),
            response_limit=int(config["CALLBACK_RESPONSE_LIMIT"]),
        )
        self.hold = float(config["CALLBACK_TIMEOUT"]) + 1.0
        self.tick_seconds = float(config["TICK_SECONDS"])
        self.errors: list[BaseException] = []  # raised in the background thread, never lost
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._first_tick = True

    # queueing
    def planner(self, now: float) -> lifecycle.Planner:
        """Return what `lifecycle.settle` calls to learn a change's deliveries at `now`."""
        return planner(self.store.runtime(), now)

    def settle(self, now: float) -> list[lifecycle.Change]:
        """Act on every status change due by `now`, queueing its callbacks."""
        return lifecycle.settle(self.store, now, self.planner(now))

    # delivering
    def deliver_due(self, now: float) -> int:
        """Attempt every delivery due by clock time `now`; return how many were attempted."""
        done = 0
        while claimed := self.store.claim_deliveries(now, time.time(), hold=self.hold):
            for delivery in claimed:
                self.attempt(delivery, now)
                done += 1
        return done

    def attempt(self, delivery: Delivery, now: float) -> None:
        """POST one delivery once and record the attempt (and the retry, if any)."""
        number = len(delivery.attempts) + 1
        # On the clock the attempt happens when it fell due: an advance that jumps past
        # several retries plays them in order, each backoff counted from the one before.
        at = min(delivery.due_at, now)
        record: dict[str, Any] = {"attempt": number, "time": _wall_iso(), "clock": at}
        started = time.perf_counter()
        refusal = self.policy.refusal(delivery.url)
        status: int | None = None
        if refusal:
            record["error"] = f"refused: {refusal}"
        else:
            status, error = self.sender.post(delivery, number)
            record["status" if error is None else "error"] = status if error is None else error
        record["duration_ms"] = round((time.perf_counter() - started) * 1000, 3)
        delivery.attempts.append(record)
        delivery.claimed_until = 0.0
        if refusal:
            delivery.state = "refused"
        elif status is not None and 200 <= status < 300:
            delivery.state = "delivered"
        elif number >= self.attempts:
            delivery.state = "failed"
        else:
            delivery.due_at = at + min(self.backoff * 2 ** (number - 1), self.backoff_max)
        self.store.save_delivery(delivery)

    # driving
    def run_until(self, now: float) -> int:
        """Settle and deliver everything due by `now`, retries included; return attempts."""
        attempts = 0
        for _ in range(_MAX_ROUNDS):
            changes = self.settle(now)
            sent = self.deliver_due(now)
            attempts += sent
            if not changes and not sent:
                break
        return attempts

    def wait_for_due(self, now: float) -> None:
        """Return once no delivery due by `now` is pending: another thread or worker may
        hold one (or a crashed one held it: its claim runs out after the attempt timeout)."""
        deadline = time.monotonic() + self.hold + 1.0
        while self.store.pending_due(now) and time.monotonic() < deadline:
            time.sleep(0.005)
            self.run_until(now)

    def tick(self) -> None:
        """One background round: act on what is due by the clock now."""
        runtime = self.store.runtime()
        if runtime.clock == "manual" and not self._first_tick:
            return  # manual time moves only in advance(), which delivers itself
        self._first_tick = False
        self.run_until(self.clock.now(runtime))

    def _loop(self) -> None:
        while not self._stop.wait(self.tick_seconds):
            try:
                self.tick()
            except Exception as exc:  # kept for check(); the loop goes on
                log.exception("callback dispatcher failed")
                self.errors.append(exc)

    def start(self) -> None:
        """Start the background thread (once)."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._loop, name="shortapi-callbacks", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        """Stop the background thread and close connections."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self.sender.close()
