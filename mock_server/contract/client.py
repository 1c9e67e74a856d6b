"""The suite's own API client: send, honour 429 and Retry-After, run a job to its end.

Time is the target's: on a mock with controls the client moves the mock's clock instead
of sleeping; on a black box it polls with backoff (doubling from the poll interval) up to a
timeout. Every create to a paid target goes through the budget first.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mock_server.jobs.status import TERMINAL
from mock_server.testing.receiver import CallbackReceiver

from .budget import Budget
from .plan import PlanItem
from .targets import Target
from .wire import Exchange, Secret, WireRequest, WireResponse

MAX_BACKOFF = 30.0  # seconds between two polls of a black box, at most
RETRY_STATUSES = (429,)  # answered before any work is done: safe to send again
IDEMPOTENT_RETRY_STATUSES = (429, 503)  # for queries only: the statuses with Retry-After


@dataclass(frozen=True)
class Snapshot:
    """What a mock with controls says about a key: its newest job and its spend."""

    newest_job: str | None
    spent: str


@dataclass
class JobRun:
    """What one plan item (or generated request) got: the create answer, polls, callbacks."""

    item: PlanItem
    create: Exchange
    job_id: str | None = None
    polls: list[Exchange] = field(default_factory=list)
    final: Exchange | None = None  # a query sent once more after the terminal status
    callbacks: list[dict[str, Any]] | None = None  # None: callbacks could not be watched
    timed_out: bool = False
    before: Snapshot | None = None  # the key's account before and after (mock targets)
    after: Snapshot | None = None

    @property
    def accepted(self) -> bool:
        """Say whether the create was accepted."""
        return self.create.response.accepted

    @property
    def statuses(self) -> list[int]:
        """The status of every poll answered with a job, in order."""
        return [s for s in (status_of(p) for p in self.polls) if s is not None]

    @property
    def sequence(self) -> list[int]:
        """The statuses seen, consecutive repeats dropped."""
        return [s for i, s in enumerate(self.statuses) if i == 0 or self.statuses[i - 1] != s]

    @property
    def elapsed(self) -> float | None:
        """Target seconds from the create to the first terminal poll, or None."""
        return next((p.at for p in self.polls if status_of(p) in TERMINAL), None)

    def exchanges(self) -> list[Exchange]:
        """Return every exchange of the run, in order."""
        return [self.create, *self.polls, *([self.final] if self.final else [])]


def status_of(exchange: Exchange) -> int | None:
    """Return the job status a query answered, or None."""
    body = exchange.response.json()
    data = body.get("data") if isinstance(body, dict) else None
    status = data.get("status") if isinstance(data, dict) else None
    return status if isinstance(status, int) and not isinstance(status, bool) else None


def job_id_of(response: WireResponse) -> str | None:
    """Return the job id an accepted create answered, or None."""
    body = response.json()
    data = body.get("data") if isinstance(body, dict) else None
    job_id = data.get("job_id") if isinstance(data, dict) else None
    return job_id if isinstance(job_id, str) and job_id else None


def retry_after(response: WireResponse, attempt: int) -> float:
    """Return the seconds to wait before sending again: Retry-After, else backoff."""
    value = response.header("Retry-After")
    try:
        return max(float(value), 0.0) if value is not None else min(2.0**attempt, MAX_BACKOFF)
    except ValueError:  # an HTTP date: wait the backoff instead
        return min(2.0**attempt, MAX_BACKOFF)


class ApiClient:
    """Send requests to one target with one key, within one budget."""

    def __init__(
        self,
        target: Target,
        key: Secret,
        budget: Budget,
        *,
        timeout: float = 900.0,
        poll_interval: float = 2.5,
        max_retries: int = 5,
        observe: Callable[[str, Exchange], None] | None = None,
    ) -> None:
        self.target, self.key, self.budget = target, key, budget
        self.timeout, self.poll_interval, self.max_retries = timeout, poll_interval, max_retries
        self.observe = observe  # called with (item name, exchange): the recorder

    def send(self, request: WireRequest, *, start: float | None = None, name: str = "") -> Exchange:
        """Send `request`, waiting out 429s (and 503s on queries) as Retry-After says.

        The exchange's time is the target's clock when the answer came, less `start`.
        """
        retry = IDEMPOTENT_RETRY_STATUSES if request.method == "GET" else RETRY_STATUSES
        waited: list[float] = []
        response = self.target.send(request, self.key)
        while response.status in retry and len(waited) < self.max_retries:
            delay = min(retry_after(response, len(waited)), self.timeout)
            self.target.sleep(delay)
            waited.append(delay)
            response = self.target.send(request, self.key)
        at = self.target.clock() - start if start is not None else 0.0
        exchange = Exchange(request, response, at, tuple(waited), self.target.base_url)
        if self.observe:
            self.observe(name, exchange)
        return exchange

    def submit(self, item: PlanItem, request: WireRequest | None = None) -> Exchange:
        """Send a plan item's request; a create to a paid target is budgeted first."""
        request = request or item.request
        reservation = self.budget.reserve(item.name, item.price) if item.price else None
        exchange = self.send(request, name=item.name)
        if reservation is not None:
            self.budget.settle(reservation, exchange.response)
        return exchange

    def run(
        self, item: PlanItem, *, receiver: CallbackReceiver | None = None, poll: bool = True
    ) -> JobRun:
        """Submit `item`; if accepted and `poll`, follow the job to its end."""
        request, watched = self._prepared(item, receiver)
        if not watched:
            receiver = None  # the item brings its own callback_url: nothing to watch
        run = JobRun(item, self.submit(item, request))
        start = self.target.clock()  # right after the create: a replay sets it then
        run.job_id = job_id_of(run.create.response)
        if run.job_id is None or not poll:
            return run
        self._follow(run, start)
        if receiver is not None:
            run.callbacks = _callbacks(receiver, run.job_id)
        return run

    def _prepared(
        self, item: PlanItem, receiver: CallbackReceiver | None
    ) -> tuple[WireRequest, bool]:
        """Return the request to send (with `receiver`'s URL as its callback_url unless it
        brings one) and whether its callbacks go to `receiver`."""
        request = item.request
        if item.scenario and self.target.controls is not None:
            request = request.with_headers(**{"X-Mock-Scenario": item.scenario})
        body = request.json()
        if receiver is None or not isinstance(body, dict):
            return request, False
        if "callback_url" not in body:
            return request.with_key("callback_url", receiver.url), True
        return request, body["callback_url"] == receiver.url

    def _follow(self, run: JobRun, start: float) -> None:
        """Poll until a terminal status (or the timeout); then query once more."""
        assert run.job_id is not None
        interval, name, query = self.poll_interval, run.item.name, WireRequest.job_query(run.job_id)
        while True:
            poll = self.send(query, start=start, name=name)
            run.polls.append(poll)
            if status_of(poll) in TERMINAL or status_of(poll) is None:
                break
            if poll.at >= self.timeout:
                run.timed_out = True
                return
            self._wait(interval)
            interval = min(interval * 2, MAX_BACKOFF)
        run.final = self.send(query, start=start, name=name)

    def _wait(self, interval: float) -> None:
        """Let time pass: the mock's clock when it has controls, else the wall clock."""
        if self.target.controls is not None:
            self.target.controls.advance(self.poll_interval)
        else:
            self.target.sleep(interval)


CALLBACK_WAIT = 5.0  # wall seconds a background sender may take to deliver


def _callbacks(receiver: CallbackReceiver, job_id: str) -> list[dict[str, Any]]:
    """Return the callback bodies `receiver` got for `job_id` (waiting briefly for one)."""
    deadline = time.monotonic() + CALLBACK_WAIT
    found = _received(receiver, job_id)
    while not any(_terminal(body) for body in found) and time.monotonic() < deadline:
        time.sleep(0.02)  # delivery is the sender's background work, not the job's
        found = _received(receiver, job_id)
    return found


def _terminal(body: dict[str, Any]) -> bool:
    return body.get("data", {}).get("status") in TERMINAL


def _received(receiver: CallbackReceiver, job_id: str) -> list[dict[str, Any]]:
    found = []
    for received in list(receiver.received):
        try:
            body = json.loads(received.body)
        except ValueError:
            body = {"unparsable": received.body.decode("utf-8", "replace")}
        data = body.get("data") if isinstance(body, dict) else None
        if isinstance(data, dict) and data.get("job_id") == job_id:
            found.append(body)
    return found
