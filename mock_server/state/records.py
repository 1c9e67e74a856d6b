"""Where state lives: jobs, accounts, callback deliveries, scenario and fault rules, the
runtime settings (clock included) and the request journal.

Two stores share one interface: `MemoryStore` (default for tests, one process) and
`SQLiteStore` (`sqlite:PATH`, shared by several worker processes, survives a restart).
Every method is atomic: several threads and processes may call them at once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from flask import Flask

from mock_server.catalog.pricing import format_amount
from mock_server.errors import ConfigError

DONE = 2  # Job.stage once its terminal status change has been settled


@dataclass
class Job:
    """One job as stored; its status is derived from the clock (see lifecycle.py)."""

    id: str
    owner: str  # the creating key's fingerprint, never the key
    model: str
    args: dict[str, Any]
    amount: str
    created_at: float  # clock seconds
    created_wall: float  # unix time, for display
    queued_for: float  # clock seconds spent queued
    processing_for: float  # clock seconds spent processing
    # {"status": 2|3, "reason": str, "stuck": bool, "callback": str}: the fate a scenario chose
    outcome: dict[str, Any] = field(default_factory=lambda: {"status": 2})
    callback_url: str | None = None
    base_url: str = ""  # where result files are served, as seen when the job was created
    polls: int = 0
    warnings: list[dict[str, str]] = field(default_factory=list)
    # Settling (lifecycle.settle): status changes already acted on (0, 1 or DONE), and the
    # clock time of the next one to act on (None: none is due by the clock).
    stage: int = 0
    next_event_at: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the job as a JSON-ready dict (nested values shared, not copied)."""
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Job:
        """Build a job from `to_dict` output."""
        return cls(**data)


@dataclass
class Runtime:
    """Settings that may change while serving, shared by every worker."""

    clock: str = "realtime"  # realtime | manual | per-poll
    speed: float = 1.0
    origin_wall: float = 0.0  # wall time at which realtime clock offset was taken
    offset: float = 0.0  # clock seconds at origin_wall
    profile: str = "default"
    result_key: str = "images"
    queued_for: float = 2.0
    processing_for: float = 8.0
    callback_events: str = "terminal"  # or "all": a callback on every status change

    def to_dict(self) -> dict[str, Any]:
        """Return the settings as a JSON-ready dict."""
        return dataclasses.asdict(self)


@dataclass
class Account:
    """What one key may spend. balance None means unlimited."""

    owner: str
    balance: str | None = None
    max_in_flight: int | None = None
    spent: str = "0"
    refunded: str = "0"

    def to_dict(self) -> dict[str, Any]:
        """Return the account as a JSON-ready dict."""
        return dataclasses.asdict(self)


@dataclass
class Delivery:
    """One callback to send (or that was sent), with every attempt."""

    id: int
    job_id: str
    url: str
    body: dict[str, Any]
    due_at: float  # clock seconds of the next attempt
    state: str = "pending"  # pending | delivered | failed | refused | dropped
    attempts: list[dict[str, Any]] = field(default_factory=list)
    claimed_until: float = 0.0  # wall time until which one worker owns the next attempt

    def to_dict(self) -> dict[str, Any]:
        """Return the delivery as a JSON-ready dict."""
        return dataclasses.asdict(self)


@dataclass
class Rule:
    """A scenario or fault set through the control API, for the next N matching requests."""

    id: int
    kind: str  # "scenario" | "fault"
    spec: dict[str, Any]
    key: str | None = None  # a key fingerprint, or None for every key
    endpoint: str = "any"  # create | query | any (faults)
    remaining: int | None = None  # None: until cleared

    def to_dict(self) -> dict[str, Any]:
        """Return the rule as a JSON-ready dict."""
        return dataclasses.asdict(self)


class AdmissionError(Exception):
    """A job refused by its key's account: balance or jobs in flight."""

    def __init__(self, reason: str, account: Account, in_flight: int) -> None:
        super().__init__(reason)
        self.reason = reason  # "balance" | "in_flight"
        self.account = account
        self.in_flight = in_flight


class Store(Protocol):
    """What every store offers."""

    # jobs
    def admit(self, job: Job) -> None: ...
    def get_job(self, job_id: str) -> Job | None: ...
    def bump_polls(self, job_id: str) -> int: ...
    def list_jobs(self, *, limit: int = 100, owner: str | None = None) -> list[Job]: ...
    def count_jobs(self) -> int: ...
    def replan_job(self, job_id: str, change: Callable[[Job], Job]) -> Job | None: ...
    def due_jobs(self, now: float, *, limit: int = 200) -> list[Job]: ...
    def move_stage(
        self,
        job_id: str,
        stage: int,
        new_stage: int,
        next_event_at: float | None,
        refund: str | None,
        deliveries: Sequence[Delivery] = (),
    ) -> bool: ...
    # accounts
    def get_account(self, owner: str) -> Account | None: ...
    def put_account(self, account: Account) -> Account: ...
    def in_flight(self, owner: str) -> int: ...
    # callbacks
    def add_delivery(self, delivery: Delivery) -> int: ...
    def claim_deliveries(
        self, now: float, wall: float, *, hold: float, limit: int = 50
    ) -> list[Delivery]: ...
    def save_delivery(self, delivery: Delivery) -> None: ...
    def list_deliveries(self, *, limit: int = 100, job_id: str | None = None) -> list[Delivery]: ...
    def next_delivery_at(self) -> float | None: ...
    def pending_due(self, now: float) -> int: ...
    # scenarios and faults
    def add_rule(self, rule: Rule) -> int: ...
    def take_rule(self, kind: str, owner: str | None, endpoint: str) -> Rule | None: ...
    def snapshot(self) -> tuple[Runtime, set[str]]: ...
    def list_rules(self, kind: str) -> list[Rule]: ...
    def clear_rules(self, kind: str, key: str | None = None) -> None: ...
    def next_count(self, name: str) -> int: ...
    # journal, runtime, lifetime
    def journal_append(self, entry: dict[str, Any]) -> None: ...
    def journal_list(
        self, *, limit: int = 100, after: int = 0, match: Mapping[str, str] | None = None
    ) -> list[dict[str, Any]]: ...
    def runtime(self) -> Runtime: ...
    def update_runtime(self, change: Callable[[Runtime], Runtime]) -> Runtime: ...
    def reset(self, runtime: Runtime) -> None: ...
    def close(self) -> None: ...


JOURNAL_FIELDS = ("key", "outcome", "request_id", "job_id", "path", "method")


def rule_matches(rule: Rule, kind: str, owner: str | None, endpoint: str) -> bool:
    """Say whether `rule` applies to a request of `owner` to `endpoint`."""
    return (
        rule.kind == kind
        and (rule.key is None or rule.key == owner)
        and rule.endpoint in ("any", endpoint)
    )


def check_admission(account: Account | None, amount: str, in_flight: Callable[[], int]) -> None:
    """Raise `AdmissionError` if `account` cannot take a job costing `amount`."""
    if account is None:
        return
    if account.balance is not None and Decimal(account.balance) < Decimal(amount):
        raise AdmissionError("balance", account, -1)
    if account.max_in_flight is not None:
        count = in_flight()
        if count >= account.max_in_flight:
            raise AdmissionError("in_flight", account, count)


def charge(account: Account | None, amount: str) -> Account | None:
    """Return `account` after paying `amount`. A key without an account is unlimited and
    pays nothing to track here (its spending is summed from its jobs when asked: keeping a
    row per create would cost a write on the hottest path)."""
    if account is None:
        return None
    balance = (
        None
        if account.balance is None
        else format_amount(Decimal(account.balance) - Decimal(amount))
    )
    return dataclasses.replace(
        account, balance=balance, spent=format_amount(Decimal(account.spent) + Decimal(amount))
    )


def refund(account: Account, amount: str) -> Account:
    """Return `account` after `amount` came back."""
    balance = (
        None
        if account.balance is None
        else format_amount(Decimal(account.balance) + Decimal(amount))
    )
    return dataclasses.replace(
        account,
        balance=balance,
        refunded=format_amount(Decimal(account.refunded) + Decimal(amount)),
    )


def open_store(url: str, *, journal_limit: int = 10_000, max_jobs: int = 100_000) -> Store:
    """Open the store named by `url`: ``memory`` or ``sqlite:PATH``.

    The memory store keeps at most `max_jobs` jobs, forgetting the oldest finished ones;
    the SQLite store keeps every job (it lives on disk).
    """
    if url == "memory":
        from mock_server.state.memory import MemoryStore

        return MemoryStore(journal_limit=journal_limit, max_jobs=max_jobs)
    if url.startswith("sqlite:") and len(url) > len("sqlite:"):
        from mock_server.state.sqlite import SQLiteStore

        return SQLiteStore(url.removeprefix("sqlite:"), journal_limit=journal_limit)
    raise ConfigError(f"unknown store {url!r}; use 'memory' or 'sqlite:PATH'")


def init_app(app: Flask) -> None:
    """Open the configured store and attach it as ``app.extensions['shortapi.store']``."""
    store = open_store(
        app.config["STORE"],
        journal_limit=app.config["JOURNAL_LIMIT"],
        max_jobs=app.config["MAX_JOBS"],
    )
    app.extensions["shortapi.store"] = store


def get_store(app: Flask) -> Store:
    """Return the app's store."""
    store: Store = app.extensions["shortapi.store"]
    return store
