"""Where a callback is retried: the dispatcher sends what the clock says is due.

`Dispatcher` turns settled status changes (lifecycle.settle) into deliveries in the store and
sends those that are due by the mock's clock, concurrently: a pool of threads, at most
``CALLBACK_PER_DESTINATION`` attempts in flight per destination (host:port) and
``CALLBACK_CONCURRENCY`` in all (`lanes.py`), so a receiver that hangs delays only its own
deliveries. It retries with exponential backoff (in clock seconds) on connection errors and
non-2xx answers, follows no redirect, reads at most a capped amount of each answer, and
journals every attempt in the delivery. After its attempts a delivery is final ("failed");
a pending delivery queued more than ``CALLBACK_MAX_AGE`` clock seconds ago is "expired", with
an entry saying so. With the SQLite store a delivery pending when the process stops is sent
after a restart (at-least-once).

`run_until` (what ``advance`` and ``run_all`` call) sends what falls due and waits for those
attempts, but never longer than one attempt's timeout in all (`budget.py`); attempts still in
flight then finish in the background and are journaled as usual. A destination that is down
(its last attempts unanswered, `lanes.py`) is waited for a quarter second per call, no more.
A delivery already overdue when an advance began (a backlog left by an earlier run) counts as
attempted when it is sent, so its retries fall due after that advance, not inside it. A
background thread ticks every ``TICK_SECONDS``: on the realtime and per-poll clocks it sends
what is due; on the manual clock only what an advance left behind.

The callback body is assumption A-callback-body: the query response's shape plus
``data.job_id``; when callbacks are sent is A-callback-events, how they are retried
A-callback-retries.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import math
import threading
import time
from collections.abc import Iterator
from typing import Any

from flask import Flask

from mock_server import extensions, utctime
from mock_server.bounds import KeptErrors
from mock_server.callbacks.budget import GRACE, PROBE, Budget
from mock_server.callbacks.courier import Courier
from mock_server.callbacks.lanes import Lanes
from mock_server.callbacks.leader import Leader
from mock_server.callbacks.planner import planner
from mock_server.callbacks.policy import Policy
from mock_server.callbacks.sender import Sender
from mock_server.jobs import lifecycle
from mock_server.state.records import Delivery

log = logging.getLogger(__name__)
_MAX_ROUNDS = 1000  # settle/deliver rounds per call: bounds a pathological loop
_SWEEP_SECONDS = 1.0  # wall seconds between two background sweeps for expired deliveries
_IDLE_SECONDS = 0.25  # after a claim that found nothing, the background waits this long


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
            resolver=config["CALLBACK_RESOLVER"],
        )
        self.attempts = int(config["CALLBACK_ATTEMPTS"])
        self.backoff = float(config["CALLBACK_BACKOFF"])
        self.backoff_max = float(config["CALLBACK_BACKOFF_MAX"])
        self.max_age = float(config["CALLBACK_MAX_AGE"])
        self.timeout = float(config["CALLBACK_TIMEOUT"])
        self.sender = Sender(
            connect_timeout=float(config["CALLBACK_CONNECT_TIMEOUT"]),
            timeout=self.timeout,
            response_limit=int(config["CALLBACK_RESPONSE_LIMIT"]),
        )
        self.lanes = Lanes(
            per_destination=int(config["CALLBACK_PER_DESTINATION"]),
            total=int(config["CALLBACK_CONCURRENCY"]),
        )
        self.hold = self.timeout + 1.0  # a claim outlives the attempt it is for
        self.tick_seconds = float(config["TICK_SECONDS"])
        self.leader = Leader(config["CALLBACK_LEADER_LOCK"])
        self.errors = KeptErrors()  # raised in the background: the newest, for check()
        self.courier = Courier(
            self.store,
            self.lanes,
            lambda delivery, now, late: self.attempt(delivery, now, late=late, save=False),
            hold=self.hold,
            errors=self.errors,
        )
        self._local = threading.local()  # the budget of the call running on this thread
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._first_tick = True
        self._seen: collections.deque[tuple[float, float]] = collections.deque()
        self._swept_at = -math.inf
        self._idle_until = -math.inf
        self._started_at: float | None = None  # the clock when the background thread started

    # queueing
    def planner(self, now: float) -> lifecycle.Planner:
        """Return what `lifecycle.settle` calls to learn a change's deliveries at `now`."""
        return planner(self.store.runtime(), now)

    def settle(self, now: float) -> list[lifecycle.Change]:
        """Act on every status change due by `now`, queueing its callbacks."""
        return lifecycle.settle(self.store, now, self.planner(now))

    def expire(self, now: float) -> int:
        """Mark pending deliveries queued more than `max_age` clock seconds before `now`
        expired; return how many."""
        if math.isinf(self.max_age):
            return 0
        expired = self.store.expire_deliveries(now - self.max_age, time.time(), self._note(now))
        if expired:
            log.warning("%d callback deliveries expired (max age %g s)", expired, self.max_age)
        return expired

    def _note(self, now: float) -> dict[str, Any]:
        return {
            "time": utctime.now(),
            "clock": now,
            "error": f"expired: pending more than {self.max_age:g} clock seconds "
            "(CALLBACK_MAX_AGE, --callback-max-age)",
        }

    # delivering
    def pump(self, now: float, *, late: float = -math.inf) -> int:
        """Start the attempts due by clock time `now` that the lanes have room for
        (`courier.py`); a delivery due by `late` is late (see `attempt`)."""
        return self.courier.pump(now, late=late)

    def attempt(
        self, delivery: Delivery, now: float, *, late: float = -math.inf, save: bool = True
    ) -> bool | None:
        """POST one delivery once and record the attempt (and the retry, if any) in it, and
        in the store unless `save` is False (the courier saves it with its next claim);
        return whether the receiver answered (None: nothing was sent)."""
        queued = delivery.due_at if delivery.queued_at is None else delivery.queued_at
        if now - queued > self.max_age:  # too old to send (the sweep missed it in flight)
            delivery.attempts.append(self._note(now))
            delivery.state, delivery.claimed_until = "expired", 0.0
            if save:
                self.store.save_delivery(delivery)
            return None
        number = len(delivery.attempts) + 1
        # On the clock the attempt happens when it fell due: an advance that jumps past
        # several retries plays them in order, each backoff counted from the one before.
        # A late one (overdue before the advance began: a backlog) happens now, so its
        # retries fall due after this advance instead of being played out inside it.
        at = now if delivery.due_at <= late else min(delivery.due_at, now)
        record: dict[str, Any] = {"attempt": number, "time": utctime.now(), "clock": at}
        if delivery.due_at <= late:
            record["late"] = True
        started = time.perf_counter()
        decision = self.policy.decide(delivery.url)
        status: int | None = None
        answered: bool | None = None  # nothing was sent (a refusal)
        if decision.refusal:
            record["error"] = f"refused: {decision.refusal}"
        elif decision.target is None:
            answered = False
            record["error"] = decision.error or "cannot be called now"
        else:
            record["address"] = decision.target.address
            left = self.timeout - (time.perf_counter() - started)  # the lookup took some
            status, error = self.sender.post(decision.target, delivery, number, timeout=left)
            record["status" if error is None else "error"] = status if error is None else error
            answered = status is not None
        record["duration_ms"] = round((time.perf_counter() - started) * 1000, 3)
        delivery.attempts.append(record)
        delivery.claimed_until = 0.0
        if decision.refusal:
            delivery.state = "refused"
        elif status is not None and 200 <= status < 300:
            delivery.state = "delivered"
        elif number >= self.attempts:
            delivery.state = "failed"
        else:
            delivery.due_at = at + min(self.backoff * 2 ** (number - 1), self.backoff_max)
        if save:
            self.store.save_delivery(delivery)
        return answered

    # driving
    @contextlib.contextmanager
    def budget(self) -> Iterator[Budget]:
        """Give the calls made inside the block (on this thread) one budget in all: one
        attempt's timeout of waiting on the network (nested blocks share the outer one)."""
        current: Budget | None = getattr(self._local, "budget", None)
        if current is not None:
            yield current
            return
        self._local.budget = created = Budget(self.timeout + GRACE)
        try:
            yield created
        finally:
            self._local.budget = None

    def run_until(self, now: float, *, since: float | None = None) -> int:
        """Settle and send everything due by `now`, retries included, and wait for the
        attempts (within the budget; see `_wait`); return how many were started. What was
        due by `since` already (the clock before an advance) is late: see `attempt`."""
        late = -math.inf if since is None else since
        attempts = 0
        with self.budget() as budget:
            self.expire(now)
            for _ in range(_MAX_ROUNDS):
                changes = self.settle(now)
                attempts += self.pump(now, late=late)
                if not self._wait(budget) and not changes:
                    break
        return attempts

    def _wait(self, budget: Budget) -> bool:
        """Wait (charging `budget`) until one of the attempts in flight is done; say whether
        there was one to wait for. A down destination (`lanes.py`) is waited for once per
        call, and then at most ``PROBE`` seconds: a receiver that is back answers by then
        (and is up again), one still dead costs no more."""
        down = self.lanes.down()
        flying = self.courier.in_flight(budget.probed & down)
        if not flying or budget.spent:
            return False
        futures = [future for _, future in flying]
        if {d for d, _ in flying} <= down:  # only down ones left: probe them, briefly
            budget.wait(futures, limit=PROBE)
            budget.probed |= down
        else:
            budget.wait(futures)
            budget.probed |= {d for d, future in flying if future.done()} & self.lanes.down()
        return True

    def wait_for_due(self, now: float, *, since: float | None = None) -> None:
        """Return once no delivery due by `now` is pending (those of down destinations
        aside), or the budget is spent: another thread or worker may hold one (or a crashed
        one held it: its claim runs out after the attempt timeout)."""
        late = -math.inf if since is None else since
        with self.budget() as budget:
            while not budget.spent:
                self.pump(now, late=late)
                if self._wait(budget):
                    continue
                if not self.store.count_due(now, skip_destinations=self.lanes.down()):
                    return
                budget.sleep(0.01)  # held elsewhere, or its lane is full

    def tick(self) -> None:
        """One background round: act on what is due by the clock now."""
        runtime = self.store.runtime()
        now = self.clock.now(runtime)
        if self._first_tick:  # what is due at start (a restart) was left behind already
            if runtime.clock == "manual" and self._started_at is not None:
                # Only what was due when the mock started: an advance made since (the first
                # tick may come late on a busy machine) sends what it made due itself, in
                # order; settling it here too would race it.
                now = min(now, self._started_at)
            self._seen.append((time.monotonic() - self.hold, now))
        if time.monotonic() - self._swept_at >= _SWEEP_SECONDS:
            self._swept_at = time.monotonic()
            self.expire(now)
        if runtime.clock == "manual" and not self._first_tick:
            # Manual time moves only in advance(), which sends what falls due itself: the
            # background sends only what is still due a claim hold after the clock got there.
            if (left_behind := self._left_behind(now)) is not None:
                self._pump_idle(left_behind, late=left_behind, changed=False)
            return
        self._first_tick = False
        changed = bool(self.settle(now))
        self._pump_idle(now, late=now - self.hold, changed=changed)

    def _pump_idle(self, now: float, *, late: float, changed: bool) -> None:
        """Pump, unless the last pump found nothing and nothing changed since (a backlog
        for a full lane is not scanned every tick)."""
        if not changed and not self.courier.freed and time.monotonic() < self._idle_until:
            return
        self.courier.freed = False
        if not self.pump(now, late=late) and self.store.pending_due(now):
            self._idle_until = time.monotonic() + _IDLE_SECONDS

    def _left_behind(self, now: float) -> float | None:
        """The clock time the manual clock showed a claim hold ago (None: too early)."""
        seen = time.monotonic()
        self._seen.append((seen, now))
        while len(self._seen) > 1 and self._seen[1][0] <= seen - self.hold:
            self._seen.popleft()
        at, then = self._seen[0]
        return min(then, now) if at <= seen - self.hold else None

    def _loop(self) -> None:
        while not self._stop.wait(self.tick_seconds):
            try:
                if self.leader.held():  # one worker of a server runs the rounds
                    self.tick()
            except Exception as exc:  # kept for check(); the loop goes on
                log.exception("callback dispatcher failed")
                self.errors.append(exc)

    def start(self) -> None:
        """Start the background thread (once)."""
        if self._thread is None:
            self._started_at = self.clock.now()
            self._thread = threading.Thread(
                target=self._loop, name="shortapi-callbacks", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        """Stop the background thread, cut the attempts in flight (each is recorded as a
        failed attempt) and let the pool go."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self.leader.close()
        self.sender.close()
        self.courier.stop(1.0)
