"""How due deliveries get sent: claimed from the store in small batches, each started on a
lane with room (`lanes.py`), in a pool of threads.

A thread that finishes an attempt claims the next due deliveries of its own lane (up to
`_CHAIN_BATCH`) and goes on with them one after another (a chain), so a busy healthy receiver
is fed without a hand-off per callback, while a receiver that hangs holds only its own lane's
threads (and a down lane chains nothing). A chain saves its attempts together, with its next
claim or at least every `_SAVE_WITHIN` seconds: one write per batch, not per callback, so
callbacks keep up with creates that queue for the same write lock (issue 24). A delivery
waits at most `_QUEUED_FOR` seconds in a chain's queue, so its claim still covers a whole
attempt when it goes; one that waited longer goes back to the store. What is in flight is
known by delivery and destination, so an advance can wait for it, or not.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import math
import threading
import time
from collections.abc import Callable, MutableSequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from mock_server.callbacks.lanes import Lanes, destination_of
from mock_server.state.protocol import DueClaim, Store
from mock_server.state.records import Delivery

log = logging.getLogger(__name__)
Attempt = Callable[[Delivery, float, float], bool | None]
"""Send one delivery once and record the attempt in it, not in the store (the courier saves
it, with its next claim): (delivery, clock now, late-before) -> whether the receiver
answered (None: nothing was sent, as for a refused URL)."""
_CLAIM_ROUNDS = 20  # claims per pump
_CLAIM_BATCH = 50  # deliveries per claim
_CHAIN_BATCH = 16  # deliveries of its lane a chain claims at once, sent one after another
_SAVE_WITHIN = 0.2  # wall seconds a chain's attempts may wait to be saved together
_QUEUED_FOR = 0.5  # wall seconds a claimed delivery may wait in a chain's queue


@dataclass
class _Run:
    """What one chain holds: the deliveries it claimed to send after its current one, in
    their order, and its attempts not saved yet."""

    queue: collections.deque[Delivery] = field(default_factory=collections.deque)
    unsaved: list[Delivery] = field(default_factory=list)
    saved_at: float = field(default_factory=time.monotonic)

    def take_unsaved(self) -> list[Delivery]:
        """Return the attempts to save now, and start counting again."""
        unsaved, self.unsaved, self.saved_at = self.unsaved, [], time.monotonic()
        return unsaved


class Courier:
    """Claims due deliveries and runs their attempts, within the lanes' bounds."""

    def __init__(
        self,
        store: Store,
        lanes: Lanes,
        attempt: Attempt,
        *,
        hold: float,
        errors: MutableSequence[BaseException],
    ) -> None:
        self.store = store
        self.lanes = lanes
        self.attempt = attempt
        self.hold = hold
        self.errors = errors
        self.freed = False  # a lane slot was given back since the flag was cleared
        self._pool = ThreadPoolExecutor(lanes.total, thread_name_prefix="shortapi-callback")
        # delivery id: (its destination, the chain sending it)
        self._flight: dict[int, tuple[str, Future[None]]] = {}
        self._lock = threading.Lock()
        self._pump_lock = threading.Lock()
        self._stopping = threading.Event()

    def pump(self, now: float, *, late: float = -math.inf) -> int:
        """Start an attempt of every delivery due by clock time `now` that a lane has room
        for; return how many were started. A delivery due by `late` is late (`attempt`)."""
        started = 0
        with self._pump_lock:
            for _ in range(_CLAIM_ROUNDS):
                limit = min(self.lanes.room(), _CLAIM_BATCH)
                if limit <= 0 or self._stopping.is_set():
                    break
                claimed = self._claim(now, limit)
                back = [d for d in claimed if not self._start(d, now, late)]
                started += len(claimed) - len(back)
                if back := [d for d in back if d.claimed_until == 0.0]:
                    self.store.save_deliveries(back)  # their lane is full: back to the store
                if len(claimed) < limit:
                    break
        return started

    def _claim(
        self,
        now: float,
        limit: int,
        destination: str | None = None,
        saved: list[Delivery] | None = None,
    ) -> list[Delivery]:
        claim = DueClaim(
            now,
            time.time(),
            self.hold,
            limit,
            skip_destinations=self.lanes.full() if destination is None else (),
            skip_jobs=self.lanes.jobs(),
            destination=destination,
            saved=saved or (),
        )
        return self.store.claim_due(claim)

    def _start(self, delivery: Delivery, now: float, late: float) -> bool:
        with self._lock:
            if delivery.id in self._flight:
                return False  # in flight already: the claim was just renewed
            # A delivery stored before lanes existed learns its lane here (and keeps it).
            delivery.destination = delivery.destination or destination_of(delivery.url)
            if not self.lanes.take(delivery.destination, delivery.job_id):
                delivery.claimed_until = 0.0
                return False
            try:
                future = self._pool.submit(self._chain, delivery, now, late)
            except RuntimeError:  # the pool was shut down: the mock is stopping
                self.lanes.give(delivery.destination, delivery.job_id)
                return False
            self._flight[delivery.id] = (delivery.destination, future)
            return True

    def _chain(self, delivery: Delivery, now: float, late: float) -> None:
        run = _Run()
        current: Delivery | None = delivery
        while current is not None:
            attempted = False
            try:
                answered = self.attempt(current, now, late)
                attempted = True
                if answered is not None:
                    self.lanes.record(current.destination, answered)
            except Exception as exc:  # kept for check(); the claim runs out, it is retried
                if not self._stopping.is_set():
                    log.exception("callback attempt failed")
                    self.errors.append(exc)
            current = self._next(current, now, run, attempted)

    def _next(self, done: Delivery, now: float, run: _Run, attempted: bool) -> Delivery | None:
        """Go on with the next delivery `run` claimed, if it still may (its attempts are
        saved together, at least every `_SAVE_WITHIN` seconds); else save `done`'s attempt
        (and those before it) and claim the next due deliveries of its lane for this
        thread, in one write, or give the lane's slot back. Either way `done` is no longer
        in flight. Claims are made under the pump's lock, as a pump's: a job's deliveries
        start one at a time, in their order."""
        chain = not self._stopping.is_set() and done.destination not in self.lanes.down()
        if attempted:
            run.unsaved.append(done)
        if chain and (nxt := self._queued_next(done, run)) is not None:
            if time.monotonic() - run.saved_at >= _SAVE_WITHIN:
                self._save(run.take_unsaved())
            return nxt
        saved = run.take_unsaved() + self._give_back(run)
        if saved and not self._pump_lock.acquire(blocking=False):
            # A pump holds the lock, its claims may take a while: the attempt is saved now,
            # before `done`'s claim can run out and another worker send it again.
            self._save(saved)
            saved = []
            self._pump_lock.acquire()
        elif not saved:
            self._pump_lock.acquire()
        try:
            return self._chain_on(done, now, chain, saved, run)
        finally:
            self._pump_lock.release()

    def _queued_next(self, done: Delivery, run: _Run) -> Delivery | None:
        """Take the first delivery of `run`'s queue that is still held long enough for an
        attempt, putting `done`'s slot on it; one held too briefly goes back to the store
        (with the next save)."""
        while run.queue:
            nxt = run.queue.popleft()
            self.lanes.unqueue(nxt.job_id)
            with self._lock:
                if nxt.claimed_until - time.time() >= self.hold - _QUEUED_FOR and (
                    nxt.id not in self._flight
                    and self.lanes.switch(done.destination, done.job_id, nxt.job_id)
                ):
                    _, future = self._flight.pop(done.id)
                    self._flight[nxt.id] = (nxt.destination, future)
                    return nxt
            if nxt.id not in self._flight:
                nxt.claimed_until = 0.0
                run.unsaved.append(nxt)
        return None

    def _give_back(self, run: _Run) -> list[Delivery]:
        """Empty `run`'s queue: its deliveries, claims released, to be saved."""
        back = list(run.queue)
        run.queue.clear()
        for delivery in back:
            self.lanes.unqueue(delivery.job_id)
            delivery.claimed_until = 0.0
        return back

    def _save(self, saved: list[Delivery]) -> None:
        if not saved:
            return
        try:
            self.store.save_deliveries(saved)
        except Exception as exc:
            log.exception("saving a callback attempt failed")
            self.errors.append(exc)

    def _chain_on(
        self, done: Delivery, now: float, chain: bool, saved: list[Delivery], run: _Run
    ) -> Delivery | None:
        """Under the pump's lock: save `saved` (`done`'s attempt, unless saved already) with
        the claim of the lane's next due deliveries, and hand the first to this thread (the
        others to `run`'s queue), or give the lane's slot back."""
        following: list[Delivery] = []
        try:
            if chain:
                following = self._claim(now, _CHAIN_BATCH, done.destination, saved)
                saved = []
            elif saved:
                self.store.save_deliveries(saved)
                saved = []
        except Exception as exc:
            log.exception("saving or claiming a callback failed")
            self.errors.append(exc)
        if saved:  # the claim failed with it: the attempt is saved on its own
            self._save(saved)
        with self._lock:
            _, future = self._flight.pop(done.id)
            # one in flight already (its claim ran out and was renewed) is its chain's
            following = [d for d in following if d.id not in self._flight]
            nxt = following[0] if following else None
            if nxt is not None and self.lanes.switch(done.destination, done.job_id, nxt.job_id):
                self._flight[nxt.id] = (nxt.destination, future)
                run.queue.extend(following[1:])
                self.lanes.queue([d.job_id for d in following[1:]])
                return nxt
            self.lanes.give(done.destination, done.job_id)
            self.freed = True
        if following:  # a job of theirs is in flight on another thread: back to the store
            for delivery in following:
                delivery.claimed_until = 0.0
            self.store.save_deliveries(following)
        return None

    def in_flight(self, skip: set[str]) -> list[tuple[str, Future[None]]]:
        """The chains now sending, with their destination, those of `skip` aside."""
        with self._lock:
            return list({(d, f) for d, f in self._flight.values() if d not in skip})

    def stop(self, seconds: float) -> None:
        """Claim nothing more; wait up to `seconds` for the chains, then let the pool go."""
        self._stopping.set()
        with self._lock:
            running = {future for _, future in self._flight.values()}
        deadline = time.monotonic() + seconds
        for future in running:  # what is still running after that is abandoned
            with contextlib.suppress(Exception):
                future.result(timeout=max(deadline - time.monotonic(), 0.0))
        self._pool.shutdown(wait=False, cancel_futures=True)
