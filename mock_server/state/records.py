"""The records that state is made of: jobs, their outcomes, accounts, callback deliveries,
waiting scenarios and faults (injections) and the runtime settings. Plain data: no backend,
no policy, no Flask. `state/protocol.py` says what a store does with them.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

JOURNAL_FIELDS = ("key", "outcome", "request_id", "job_id", "path", "method")
"""The journal entry fields that `journal_list(match=...)` may filter on."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """The fate a scenario chose for a job: its final status (2 or 3, a `jobs.status.Status`),
    the failure text, whether it never finishes, and how its callbacks misbehave."""

    status: int = 2
    reason: str | None = None  # the failure text of a failed job
    stuck: bool = False  # never leaves processing
    callback: str | None = None  # a callback mode token: duplicate, delay:S, drop, ...

    def to_dict(self) -> dict[str, Any]:
        """Return the outcome as a JSON-ready dict, leaving out what is not set."""
        data: dict[str, Any] = {"status": self.status}
        if self.reason is not None:
            data["reason"] = self.reason
        if self.stuck:
            data["stuck"] = True
        if self.callback is not None:
            data["callback"] = self.callback
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Outcome:
        """Build an outcome from `to_dict` output."""
        return cls(
            status=int(data.get("status", 2)),
            reason=data.get("reason"),
            stuck=bool(data.get("stuck", False)),
            callback=data.get("callback"),
        )


@dataclass(slots=True)  # no per-instance __dict__: a store holds 100k of them
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
    outcome: Outcome = field(default_factory=lambda: Outcome())  # the fate a scenario chose
    callback_url: str | None = None
    base_url: str = ""  # where result files are served, as seen when the job was created
    polls: int = 0
    warnings: list[dict[str, str]] = field(default_factory=list)
    key_name: str = ""  # the name of the creating key, as query answers it (A-key-name)
    # Settling (jobs/lifecycle.settle): status changes already acted on (a `jobs.status.Stage`:
    # 0, 1 or 2), and the clock time of the next one to act on (None: none is due by the clock).
    stage: int = 0
    next_event_at: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the job as a JSON-ready dict (nested values shared, not copied)."""
        data = {name: getattr(self, name) for name in _JOB_FIELDS}
        data["outcome"] = self.outcome.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Job:
        """Build a job from `to_dict` output."""
        return cls(**{**data, "outcome": Outcome.from_dict(data.get("outcome") or {})})


_JOB_FIELDS = tuple(f.name for f in dataclasses.fields(Job))


@dataclass
class Runtime:
    """Settings that may change while serving, shared by every worker."""

    clock: str = "realtime"  # realtime | manual | per-poll
    speed: float = 1.0
    origin_wall: float = 0.0  # wall time at which realtime clock offset was taken
    offset: float = 0.0  # clock seconds at origin_wall
    profile: str = "default"
    strict_args: bool = False  # the pages' strict reading of args (validation/leniency.py)
    result_key: str = "auto"  # "auto": by the model's output kind; else forced for all
    error_status: str = "http"  # "http": errors answer their HTTP status; "200": HTTP 200
    failed_status: int = 3  # the status a failed job reports: 3, or 4 (a variant)
    status_form: str = "number"  # or "string": statuses as words (A-status-strings, a variant)
    queued_for: float = 2.0
    processing_for: float = 8.0
    callback_events: str = "terminal"  # or "all": a callback on every status change

    def to_dict(self) -> dict[str, Any]:
        """Return the settings as a JSON-ready dict."""
        return dataclasses.asdict(self)


@functools.lru_cache(maxsize=64)
def runtime_from_json(data: str | bytes | None) -> Runtime:
    """The settings a store keeps as `data` (JSON text; None: never set), parsed once per
    text: every request reads them and they change seldom. The one instance is shared, so
    it is never edited: a change makes a new one (`dataclasses.replace`)."""
    return Runtime(**json.loads(data)) if data else Runtime()


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
    state: str = "pending"  # pending | delivered | failed | refused | dropped | expired
    attempts: list[dict[str, Any]] = field(default_factory=list)
    claimed_until: float = 0.0  # wall time until which one worker owns the next attempt
    # The lane the delivery's attempts share (callbacks/lanes.py: "host:port"), and the clock
    # time it was queued at (its age is measured from it). Empty / None in a delivery stored
    # before they existed.
    destination: str = ""
    queued_at: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the delivery as a JSON-ready dict (nested values shared, not copied: it is
        encoded at once on the callback path, where `dataclasses.asdict`'s deep copy of the
        body was a tenth of the server's time)."""
        return {name: getattr(self, name) for name in _DELIVERY_FIELDS}


_DELIVERY_FIELDS = tuple(f.name for f in dataclasses.fields(Delivery))


@dataclass
class Injection:
    """A waiting scenario or fault set through the control API, for the next N matching
    requests (which one serves a request is decided in `control/injections.py`)."""

    id: int
    kind: str  # "scenario" | "fault"
    spec: dict[str, Any]
    key: str | None = None  # a key fingerprint, or None for every key
    endpoint: str = "any"  # create | query | any (faults)
    remaining: int | None = None  # None: until cleared

    def to_dict(self) -> dict[str, Any]:
        """Return the injection as a JSON-ready dict."""
        return dataclasses.asdict(self)
