"""What a store does, one small protocol per kind of state (as WireMock's `store/` does), so a
new backend implements small pieces. Every method is atomic: several threads and processes may
call them at once. Policy stays out of the backends: what an account admits or refunds comes in
as a function (`jobs/accounts.py`), which waiting injection serves a request as a `pick`
(`control/injections.py`); a backend only runs them inside its transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from mock_server.state.records import Account, Delivery, Injection, Job, Runtime

Admission = Callable[[Account | None, Callable[[], int]], Account | None]
"""Given the key's account (None: unlimited) and a count of its jobs in flight, raise to
refuse the job or return the account to store (None: nothing to store)."""

AccountChange = Callable[[Account], Account]
"""What settling a status change does to the job's account (a refund)."""

Pick = Callable[[Sequence[Injection]], Injection | None]
"""Choose the injection that serves a request among the waiting ones of a kind (id order)."""


@dataclass(frozen=True)
class DueClaim:
    """Which due deliveries one claim takes: pending, due by clock time `now`, unclaimed at
    wall time `wall`, at most `limit`, none whose destination or job is in the skip lists
    (and, given a `destination`, none of any other); each is held for `hold` wall seconds.
    The deliveries in `saved` (an attempt just made) are saved first, in the same
    transaction where the store has one: a chain's save and next claim are one write."""

    now: float
    wall: float
    hold: float
    limit: int = 50
    skip_destinations: Collection[str] = ()
    skip_jobs: Collection[str] = ()
    destination: str | None = None
    saved: Sequence[Delivery] = ()

    def takes(self, delivery: Delivery) -> bool:
        """Say whether `delivery` (pending) is one this claim takes."""
        return (
            delivery.due_at <= self.now
            and delivery.claimed_until <= self.wall
            and delivery.destination not in self.skip_destinations
            and delivery.job_id not in self.skip_jobs
            and self.destination in (None, delivery.destination)
        )


@dataclass(frozen=True)
class StageMove:
    """Mark a job's status change as acted on, if no one did yet: from `stage` to
    `new_stage`, with its account change and its callback deliveries, in one transaction."""

    job_id: str
    stage: int
    new_stage: int
    next_event_at: float | None
    account_change: AccountChange | None = None
    deliveries: Sequence[Delivery] = ()


class JobStore(Protocol):
    """Jobs: admitted once, read, re-planned, settled stage by stage."""

    def admit(self, job: Job, admission: Admission) -> None: ...
    def get_job(self, job_id: str) -> Job | None: ...
    def bump_polls(self, job_id: str) -> int: ...
    def list_jobs(self, *, limit: int = 100, owner: str | None = None) -> list[Job]: ...
    def count_jobs(self) -> int: ...
    def replan_job(self, job_id: str, change: Callable[[Job], Job]) -> Job | None: ...
    def due_jobs(self, now: float, *, limit: int = 200) -> list[Job]: ...
    def move_stage(self, move: StageMove) -> bool: ...
    def move_stages(self, moves: Sequence[StageMove]) -> list[bool]:
        """Make each move as `move_stage` would, in order (one transaction where the store
        can: settling a batch of jobs is one write); return which were made."""
        ...


class AccountStore(Protocol):
    """What each key may spend."""

    def get_account(self, owner: str) -> Account | None: ...
    def put_account(self, account: Account) -> Account: ...
    def in_flight(self, owner: str) -> int: ...


class DeliveryStore(Protocol):
    """Callback deliveries, claimed by one worker at a time."""

    def add_delivery(self, delivery: Delivery) -> int: ...
    def save_delivery(self, delivery: Delivery) -> None: ...
    def list_deliveries(self, *, limit: int = 100, job_id: str | None = None) -> list[Delivery]: ...
    def next_delivery_at(self) -> float | None: ...
    def pending_due(self, now: float) -> int: ...
    def claim_due(self, claim: DueClaim) -> list[Delivery]:
        """Claim the pending deliveries `claim` asks for (oldest due first): each is held for
        `claim.hold` wall seconds, so no other worker or host takes it meanwhile."""
        ...

    def save_deliveries(self, deliveries: Sequence[Delivery]) -> None:
        """Save several deliveries at once (one transaction), as `save_delivery` does."""
        ...

    def count_due(self, now: float, *, skip_destinations: Collection[str] = ()) -> int:
        """Count the pending deliveries due by `now`, leaving out those whose
        `destination` is in `skip_destinations`."""
        ...

    def expire_deliveries(self, queued_before: float, wall: float, note: dict[str, Any]) -> int:
        """Mark the unclaimed pending deliveries queued before clock time `queued_before`
        (`Delivery.queued_at`, else their due time) "expired", `note` appended to their
        attempts; return how many."""
        ...


class InjectionStore(Protocol):
    """Waiting scenarios and faults, and the counters random faults draw with."""

    def add_injection(self, injection: Injection) -> int: ...
    def take_injection(self, kind: str, pick: Pick) -> Injection | None: ...
    def list_injections(self, kind: str) -> list[Injection]: ...
    def clear_injections(self, kind: str, key: str | None = None) -> None: ...
    def next_count(self, name: str) -> int: ...


class JournalStore(Protocol):
    """The request journal, bounded."""

    def journal_append(self, entry: dict[str, Any]) -> None: ...
    def journal_list(
        self, *, limit: int = 100, after: int = 0, match: Mapping[str, str] | None = None
    ) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class Upload:
    """An uploaded image (POST /api/v1/image/send): its id, content type and bytes."""

    id: str
    content_type: str
    data: bytes


class UploadStore(Protocol):
    """Uploaded images, bounded: past `max_count` uploads or `max_bytes` in all, the oldest go
    first (the newest is always kept). Storing an id again makes it the newest."""

    def put_upload(self, upload: Upload, *, max_count: int, max_bytes: int) -> None: ...
    def get_upload(self, upload_id: str) -> Upload | None: ...


class RuntimeStore(Protocol):
    """The settings shared by every worker, the clock's mode and offset among them."""

    def runtime(self) -> Runtime: ...
    def update_runtime(self, change: Callable[[Runtime], Runtime]) -> Runtime: ...
    def snapshot(self) -> tuple[Runtime, set[str]]: ...


class Store(
    JobStore,
    AccountStore,
    DeliveryStore,
    InjectionStore,
    JournalStore,
    RuntimeStore,
    UploadStore,
    Protocol,
):
    """A whole store: every kind of state, plus reset and close."""

    def reset(self, runtime: Runtime) -> None: ...
    def close(self) -> None: ...
