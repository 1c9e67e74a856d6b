"""The Python control API of a running mock: what the admin routes and test fixtures call.

`MockControl(app)` reads and changes the shared state: the clock, runtime settings,
jobs and the journal. The admin HTTP API is a thin layer over it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Flask

from mock_server import bounds, extensions
from mock_server import config as config_module
from mock_server.callbacks.dispatcher import Dispatcher
from mock_server.catalog.pricing import format_amount
from mock_server.clock import Clock, check_seconds
from mock_server.control import faults
from mock_server.errors import ConfigError
from mock_server.jobs import lifecycle, scenarios
from mock_server.jobs.status import Stage, Status
from mock_server.keys import fingerprint
from mock_server.state.protocol import Store
from mock_server.state.records import Account, Injection, Job, Runtime

_SETTINGS = {
    "profile": config_module.PROFILES,
    "result_key": config_module.RESULT_KEYS,
    "callback_events": ("terminal", "all"),
    "error_status": config_module.ERROR_STATUSES,
    "failed_status": config_module.FAILED_STATUSES,
    "strict_args": (False, True),
    "status_form": config_module.STATUS_FORMS,
}


def key_id(key: str | None) -> str | None:
    """Return the fingerprint of an API key; a fingerprint ("key_...") is kept as it is."""
    if key is None:
        return None
    return key if key.startswith("key_") and len(key) == 16 else fingerprint(key)


def _money(value: object) -> str:
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ConfigError(f'balance must be a decimal string like "0.10", not {value!r}') from None
    if not amount.is_finite() or amount < 0 or isinstance(value, bool):
        raise ConfigError("balance must be a finite decimal >= 0")
    if amount > bounds.BALANCE:
        raise ConfigError(f"balance must be at most {bounds.BALANCE:,} (the mock's bound BALANCE)")
    return format_amount(amount)


class MockControl:
    """Control one mock app from Python."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    @property
    def store(self) -> Store:
        """The app's store."""
        return extensions.store(self.app)

    @property
    def clock(self) -> Clock:
        """The app's clock."""
        return extensions.clock(self.app)

    def now(self) -> float:
        """Return the current clock time in seconds."""
        return self.clock.now()

    def advance(self, seconds: float) -> float:
        """Move the clock forward; status changes and callbacks due by then happen first
        (waiting on receivers at most one callback timeout in all, callbacks/budget.py)."""
        with self.dispatcher.budget():
            now = self.clock.advance(seconds)
            # What was due before this advance is late: its attempt counts as made now.
            since = now - float(seconds) if seconds else None
            self.dispatcher.run_until(now, since=since)
            self.dispatcher.wait_for_due(now, since=since)
        return now

    def run_all(self, *, limit: float = 86_400.0) -> float:
        """Advance until no job and no callback is pending (stuck jobs aside, and callbacks
        still in flight once one callback timeout of waiting is spent); return now."""
        with self.dispatcher.budget() as budget:
            now = self.now()
            self.dispatcher.run_until(now)
            overdue = False
            for _ in range(10_000):
                due = [
                    t
                    for t in (self.store.next_delivery_at(), self._next_job_event())
                    if t is not None
                ]
                if not due or min(due) - now > limit or budget.spent:
                    break
                if min(due) <= now:  # still due after an advance: in flight, or never answered
                    if overdue:
                        break
                    overdue = True
                else:
                    overdue = False
                now = self.advance(max(min(due) - now, 0.0))
        return now

    def _next_job_event(self) -> float | None:
        due = self.store.due_jobs(float("inf"), limit=1)
        return due[0].next_event_at if due else None

    @property
    def dispatcher(self) -> Dispatcher:
        """The app's callback dispatcher."""
        return extensions.dispatcher(self.app)

    # scenarios, faults, accounts, callbacks
    def add_scenario(
        self, scenario: str, *, count: int | None = 1, key: str | None = None
    ) -> Injection:
        """Give the next `count` jobs (of API key `key`, or of any key) this scenario."""
        scenarios.tokens(scenario)
        return self._inject("scenario", {"scenario": scenario}, count=count, key=key)

    def add_fault(
        self, fault: str, *, count: int | None = 1, key: str | None = None, endpoint: str = "any"
    ) -> Injection:
        """Answer the next `count` requests to `endpoint` with `fault` ("503", "429", ...)."""
        faults.tokens(fault)
        if endpoint not in (*faults.ENDPOINTS, "any"):
            raise ConfigError(f"endpoint must be create, query or any, not {endpoint!r}")
        return self._inject("fault", {"fault": fault}, count=count, key=key, endpoint=endpoint)

    def set_random_faults(self, spec: dict[str, Any], *, key: str | None = None) -> Injection:
        """Draw faults at random (seeded) with a probability per endpoint."""
        self.store.clear_injections("fault-random")
        return self._inject("fault-random", faults.check_random(spec), count=None, key=key)

    def _inject(
        self,
        kind: str,
        spec: dict[str, Any],
        *,
        count: int | None,
        key: str | None,
        endpoint: str = "any",
    ) -> Injection:
        if count is not None and (
            isinstance(count, bool) or not isinstance(count, int) or count < 1
        ):
            raise ConfigError("count must be a whole number >= 1, or null for every request")
        injection = Injection(
            id=0, kind=kind, spec=spec, key=key_id(key), endpoint=endpoint, remaining=count
        )
        injection.id = self.store.add_injection(injection)
        return injection

    def injections(self, kind: str) -> list[Injection]:
        """Return the waiting scenarios or faults of `kind`."""
        return self.store.list_injections(kind)

    def clear(self, kind: str, *, key: str | None = None) -> None:
        """Remove the waiting injections of `kind` ("scenario", "fault" or "fault-random"): all
        of them, or only those scoped to API key `key`."""
        self.store.clear_injections(kind, key_id(key))

    def account(self, key: str) -> dict[str, Any]:
        """Return the account of API key `key` (or key fingerprint): balance, spent, in flight."""
        owner = key_id(key) or ""
        now = self.now()
        self.dispatcher.settle(now)
        account = self.store.get_account(owner) or self._unlimited(owner)
        return {**account.to_dict(), "key": owner, "in_flight": self.store.in_flight(owner)}

    def _unlimited(self, owner: str) -> Account:
        """The account of a key that has none: unlimited, its spending summed from its jobs."""
        jobs = self.store.list_jobs(owner=owner, limit=10**9)
        spent = sum((Decimal(j.amount) for j in jobs), Decimal(0))
        refunded = sum(
            (
                Decimal(j.amount)
                for j in jobs
                if j.stage == Stage.DONE and j.outcome.status == Status.FAILED
            ),
            Decimal(0),
        )
        return Account(owner=owner, spent=format_amount(spent), refunded=format_amount(refunded))

    def set_account(
        self, key: str, *, balance: str | None = None, max_in_flight: int | None = None
    ) -> dict[str, Any]:
        """Set the balance ("0.10"; None: unlimited) and jobs-in-flight limit of `key`."""
        owner = key_id(key) or ""
        if balance is not None:
            balance = _money(balance)
        if max_in_flight is not None and (
            isinstance(max_in_flight, bool)
            or not isinstance(max_in_flight, int)
            or max_in_flight < 0
        ):
            raise ConfigError("max_in_flight must be a whole number >= 0, or null")
        current = self.store.get_account(owner) or self._unlimited(owner)
        self.store.put_account(
            dataclasses.replace(current, balance=balance, max_in_flight=max_in_flight)
        )
        return self.account(owner)

    def deliveries(self, *, job_id: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Return callback deliveries with every attempt, oldest first."""
        return [d.to_dict() for d in self.store.list_deliveries(limit=limit, job_id=job_id)]

    def set_clock(self, mode: str, *, speed: float | None = None) -> Runtime:
        """Switch the clock mode (and speed) without a jump in time."""
        return self.clock.set_mode(mode, speed=speed)

    def configure(self, **settings: Any) -> Runtime:
        """Change runtime settings: profile, strict_args, result_key, callback_events,
        error_status, failed_status, status_form, queued_seconds, processing_seconds."""
        changes: dict[str, Any] = {}
        for name, value in settings.items():
            if name in _SETTINGS:
                if value not in _SETTINGS[name] or (name == "strict_args") != (
                    isinstance(value, bool)
                ):
                    raise ConfigError(f"{name} must be one of {_SETTINGS[name]}, not {value!r}")
                changes[name] = value
            elif name in ("queued_seconds", "processing_seconds"):
                changes[name.replace("_seconds", "_for")] = check_seconds(value)
            else:
                raise ConfigError(
                    f"unknown setting {name!r}; use profile, strict_args, result_key, "
                    "callback_events, error_status, failed_status, status_form, "
                    "queued_seconds or processing_seconds"
                )
        return self.store.update_runtime(lambda r: dataclasses.replace(r, **changes))

    def runtime(self) -> Runtime:
        """Return the current runtime settings."""
        return self.store.runtime()

    def reset(self) -> None:
        """Forget every job and journal entry and restore the configured settings."""
        self.store.reset(config_module.runtime_from(self.app.config, self.clock.wall()))

    def describe(self, job: Job, runtime: Runtime | None = None) -> dict[str, Any]:
        """Return an admin view of `job`: its request, status and timeline."""
        runtime = runtime or self.store.runtime()
        now = self.clock.now(runtime)
        return {
            "id": job.id,
            "key": job.owner,
            "model": job.model,
            "args": job.args,
            "callback_url": job.callback_url,
            "amount": job.amount,
            "status": lifecycle.status(job, runtime, now),
            "timeline": lifecycle.timeline(job, runtime, now),
            "answer": lifecycle.job_data(job, runtime, now, job.base_url),
            "outcome": job.outcome.to_dict(),
            "created_at": job.created_at,
            "created_wall": job.created_wall,
            "queued_for": job.queued_for,
            "processing_for": None if job.outcome.stuck else job.processing_for,
            "finishes_at": (
                None
                if job.outcome.stuck or runtime.clock == "per-poll"
                else lifecycle.finishes_at(job)
            ),
            "polls": job.polls,
            "warnings": job.warnings,
        }

    def jobs(self, *, key: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Return the newest jobs first, optionally only those of API key `key` (or its key_...
        fingerprint: the key itself is only fingerprinted, never kept)."""
        runtime = self.store.runtime()
        owner = key_id(key)
        return [
            self.describe(job, runtime) for job in self.store.list_jobs(limit=limit, owner=owner)
        ]

    def job(self, job_id: str) -> dict[str, Any] | None:
        """Return one job's admin view, or None."""
        job = self.store.get_job(job_id)
        return self.describe(job) if job else None

    def journal(
        self, *, limit: int = 100, after: int = 0, match: Mapping[str, str] | None = None
    ) -> list[dict[str, Any]]:
        """Return journal entries, oldest first, those whose fields equal `match` (its "key"
        an API key or its fingerprint, as the entries keep)."""
        if match and match.get("key"):
            match = {**match, "key": key_id(match["key"]) or ""}
        return self.store.journal_list(limit=limit, after=after, match=match)

    def finish_job(self, job_id: str, *, fail: str | None = None) -> dict[str, Any] | None:
        """End a job now: succeeded, or failed with reason `fail` (a scenario reason name).

        Its refund and callbacks happen before this returns; None if the job is unknown or
        already over.
        """
        runtime = self.store.runtime()
        now = self.clock.now(runtime)
        if fail is not None and fail not in scenarios.REASONS:
            raise ConfigError(f"reason must be one of {', '.join(scenarios.REASONS)}")

        def end(job: Job) -> Job:
            job.outcome = scenarios.ended(fail)
            ran = max(now - job.created_at, 0.0)
            job.queued_for = min(job.queued_for, ran)
            job.processing_for = ran - job.queued_for
            job.next_event_at = lifecycle.first_event_at(job, runtime)
            if job.stage == Stage.STARTED:
                job.next_event_at = lifecycle.finishes_at(job)
            job.polls = max(job.polls, 3)  # the per-poll clock's final step
            return job

        ended = self.store.replan_job(job_id, end)
        if ended is None:
            return None
        if runtime.clock == "per-poll":
            lifecycle.settle_job(self.store, ended, Stage.DONE, self.dispatcher.planner(now))
        self.dispatcher.run_until(now)
        return self.job(job_id)
