"""Callbacks: POST a job's state to its callback_url when its status changes.

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

import fnmatch
import ipaddress
import json
import logging
import socket
import threading
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

import urllib3
from flask import Flask

from mock_server.clock import get_clock
from mock_server.jobs import lifecycle
from mock_server.state.records import Delivery, Job, get_store
from mock_server.validation.rules import is_http_url
from mock_server.version import __version__

log = logging.getLogger(__name__)
_MAX_ROUNDS = 1000  # settle/deliver rounds per call: bounds a pathological loop


def _wall_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


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


class Dispatcher:
    """Settle status changes, queue callbacks and deliver them."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        config = app.config
        self.store = get_store(app)
        self.clock = get_clock(app)
        self.policy = Policy(
            allow=config["CALLBACK_ALLOW_HOSTS"],
            deny=config["CALLBACK_DENY_HOSTS"],
            blocked=config["CALLBACK_BLOCKED_NETWORKS"],
        )
        self.attempts = int(config["CALLBACK_ATTEMPTS"])
        self.backoff = float(config["CALLBACK_BACKOFF"])
        self.backoff_max = float(config["CALLBACK_BACKOFF_MAX"])
        self.timeout = urllib3.Timeout(
            connect=float(config["CALLBACK_CONNECT_TIMEOUT"]),
            total=float(config["CALLBACK_TIMEOUT"]),
        )
        self.hold = float(config["CALLBACK_TIMEOUT"]) + 1.0
        self.response_limit = int(config["CALLBACK_RESPONSE_LIMIT"])
        self.tick_seconds = float(config["TICK_SECONDS"])
        self.http = urllib3.PoolManager(num_pools=8, maxsize=4, retries=False)
        self.errors: list[BaseException] = []  # raised in the background thread, never lost
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._first_tick = True

    # queueing
    def planner(self, now: float) -> lifecycle.Planner:
        """Return what `lifecycle.settle` calls to learn a change's deliveries at `now`."""
        runtime = self.store.runtime()

        def plan(change: lifecycle.Change) -> list[Delivery]:
            job = change.job
            if not job.callback_url or not is_http_url(job.callback_url):
                return []
            if change.status == lifecycle.PROCESSING and runtime.callback_events != "all":
                return []
            url = f"{job.base_url.rstrip('/')}/files/{job.id}.mp4"
            data = lifecycle.data_for(job, change.status, runtime.result_key, url)
            body = {"code": 0, "data": {**data, "job_id": job.id}}
            return self._variants(job, change, body, now)

        return plan

    def settle(self, now: float) -> list[lifecycle.Change]:
        """Act on every status change due by `now`, queueing its callbacks."""
        return lifecycle.settle(self.store, now, self.planner(now))

    @staticmethod
    def _variants(
        job: Job, change: lifecycle.Change, body: dict[str, Any], now: float
    ) -> list[Delivery]:
        """Apply the job's adversarial callback setting (scenario ``callback:...``)."""
        mode = str(job.outcome.get("callback", ""))
        due = min(change.at, now)
        base = Delivery(id=0, job_id=job.id, url=str(job.callback_url), body=body, due_at=due)
        if mode == "drop":
            base.state = "dropped"
            return [base]
        if mode == "duplicate":
            return [base, Delivery(**{**base.to_dict(), "attempts": []})]
        if mode.startswith("delay:"):
            base.due_at = due + float(mode.removeprefix("delay:"))
        elif (
            mode == "out-of-order"
            and change.status == lifecycle.PROCESSING
            and not job.outcome.get("stuck")
        ):
            # Sent just after the terminal callback, as a late network would.
            base.due_at = job.created_at + job.queued_for + job.processing_for + 0.001
        return [base]

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
            status, error = self._post(delivery, number)
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

    def _post(self, delivery: Delivery, number: int) -> tuple[int | None, str | None]:
        headers = {
            "Content-Type": "application/json",
            "User-Agent": f"shortapi-mock/{__version__}",
            "X-Mock-Delivery": str(delivery.id),
            "X-Mock-Attempt": str(number),
        }
        try:
            response = self.http.request(
                "POST",
                delivery.url,
                body=json.dumps(delivery.body).encode(),
                headers=headers,
                timeout=self.timeout,
                redirect=False,
                preload_content=False,
                retries=False,
            )
        except urllib3.exceptions.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}"[:300]
        try:
            response.read(self.response_limit)  # a capped read: a huge answer cannot stall us
        except urllib3.exceptions.HTTPError as exc:
            return None, f"{type(exc).__name__} while reading the answer: {exc}"[:300]
        finally:
            response.close()
        return response.status, None

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
        self.http.clear()


def init_app(app: Flask) -> None:
    """Attach the dispatcher as ``app.extensions['shortapi.callbacks']``; start its thread."""
    dispatcher = Dispatcher(app)
    app.extensions["shortapi.callbacks"] = dispatcher
    if app.config["BACKGROUND"]:
        dispatcher.start()


def get_dispatcher(app: Flask) -> Dispatcher:
    """Return the app's callback dispatcher."""
    dispatcher: Dispatcher = app.extensions["shortapi.callbacks"]
    return dispatcher
