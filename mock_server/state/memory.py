"""The memory store: state in this process, fast, gone when the process ends.

Jobs are kept compact (100k of them by default, `MAX_JOBS`): a `_Row` holds the job with
its args and warnings as compact JSON bytes (rebuilt on every read, so callers never share
a stored dict), the repeated strings interned and the default outcome shared (it is frozen).
"""

from __future__ import annotations

import dataclasses
import json
import sys
import threading
from collections import OrderedDict, defaultdict, deque
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mock_server.jobs.status import Stage
from mock_server.state.protocol import Admission, DueClaim, Pick, StageMove, Upload
from mock_server.state.records import Account, Delivery, Injection, Job, Outcome, Runtime

_DEFAULT_OUTCOME = Outcome()
# A row's job holds these in place of its args and warnings; `_Row.copy` never hands them out.
_NO_ARGS: dict[str, Any] = {}
_NO_WARNINGS: list[dict[str, str]] = []


def _compact(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@dataclass(slots=True)
class _Row:
    """A stored job: the job without its args and warnings, which are kept as JSON bytes
    (about a quarter of the parsed dicts' and strings' size)."""

    job: Job
    args: bytes
    warnings: bytes | None  # None: no warnings (most jobs)

    @classmethod
    def of(cls, job: Job) -> _Row:
        """Return the compact row of `job` (nothing shared with it but immutable values)."""
        outcome = _DEFAULT_OUTCOME if job.outcome == _DEFAULT_OUTCOME else job.outcome
        stripped = dataclasses.replace(
            job,
            owner=sys.intern(job.owner),
            model=sys.intern(job.model),
            args=_NO_ARGS,
            amount=sys.intern(job.amount),
            outcome=outcome,
            base_url=sys.intern(job.base_url),
            warnings=_NO_WARNINGS,
            key_name=sys.intern(job.key_name),
        )
        return cls(stripped, _compact(job.args), _compact(job.warnings) if job.warnings else None)

    def copy(self) -> Job:
        """Return the job as callers see it: a fresh record with its own args and warnings."""
        warnings = json.loads(self.warnings) if self.warnings is not None else []
        return dataclasses.replace(self.job, args=json.loads(self.args), warnings=warnings)


class MemoryStore:
    """Every piece of state in dicts behind one lock."""

    def __init__(
        self,
        *,
        journal_limit: int = 10_000,
        max_jobs: int = 100_000,
        runtime: Runtime | None = None,
    ) -> None:
        self._lock = threading.RLock()
        self._max_jobs = max_jobs
        self._journal_limit = journal_limit
        self._runtime = runtime or Runtime()
        self._clear()

    def _clear(self) -> None:
        journal_seq = getattr(self, "_counts", {}).get("journal", 0)  # ids never repeat
        self._jobs: dict[str, _Row] = {}  # in creation order (eviction takes the oldest)
        self._unsettled: dict[str, _Row] = {}
        self._accounts: dict[str, Account] = {}
        self._deliveries: dict[int, Delivery] = {}
        self._pending: dict[int, Delivery] = {}  # the pending ones among them (same objects)
        self._injections: dict[int, Injection] = {}
        self._counts: defaultdict[str, int] = defaultdict(int, journal=journal_seq)
        self._journal: deque[dict[str, Any]] = deque(maxlen=self._journal_limit)
        self._uploads: OrderedDict[str, Upload] = OrderedDict()
        self._seq = 0

    def _next_id(self) -> int:
        self._seq += 1
        return self._seq

    # jobs
    def admit(self, job: Job, admission: Admission) -> None:
        with self._lock:
            if job.id in self._jobs:
                raise KeyError(f"duplicate job id {job.id}")
            account = self._accounts.get(job.owner)
            charged = admission(account, lambda: self.in_flight(job.owner))
            if charged is not None:
                self._accounts[job.owner] = charged
            stored = _Row.of(job)
            self._jobs[job.id] = stored
            if job.stage != Stage.DONE:
                self._unsettled[job.id] = stored
            if len(self._jobs) > self._max_jobs:
                self._evict()

    def _evict(self) -> None:
        """Forget the oldest settled jobs (never one in flight) down to the limit."""
        excess = len(self._jobs) - self._max_jobs
        for job_id in [j for j in self._jobs if j not in self._unsettled][:excess]:
            del self._jobs[job_id]

    def get_job(self, job_id: str) -> Job | None:
        with self._lock:  # a copy: callers never share a stored record
            row = self._jobs.get(job_id)
            return row.copy() if row is not None else None

    def bump_polls(self, job_id: str) -> int:
        with self._lock:
            job = self._jobs[job_id].job
            job.polls += 1
            return job.polls

    def list_jobs(self, *, limit: int = 100, owner: str | None = None) -> list[Job]:
        with self._lock:
            found = []
            for row in reversed(self._jobs.values()):
                if owner is None or row.job.owner == owner:
                    found.append(row.copy())
                    if len(found) >= limit:
                        break
            return found

    def replan_job(self, job_id: str, change: Callable[[Job], Job]) -> Job | None:
        with self._lock:
            row = self._jobs.get(job_id)
            if row is None or row.job.stage == Stage.DONE:
                return None
            new = change(row.copy())
            self._jobs[job_id] = self._unsettled[job_id] = _Row.of(new)
            return new  # not shared: the row holds its own copy

    def count_jobs(self) -> int:
        with self._lock:
            return len(self._jobs)

    def due_jobs(self, now: float, *, limit: int = 200) -> list[Job]:
        with self._lock:
            due = [
                r
                for r in self._unsettled.values()
                if r.job.next_event_at is not None and r.job.next_event_at <= now
            ]
            due.sort(key=lambda r: (r.job.next_event_at or 0.0, r.job.created_at))
            return [r.copy() for r in due[:limit]]

    def move_stages(self, moves: Sequence[StageMove]) -> list[bool]:
        with self._lock:
            return [self.move_stage(move) for move in moves]

    def move_stage(self, move: StageMove) -> bool:
        with self._lock:
            row = self._jobs.get(move.job_id)
            if row is None or row.job.stage != move.stage:
                return False
            job = row.job
            job.stage, job.next_event_at = move.new_stage, move.next_event_at
            if move.new_stage == Stage.DONE:
                self._unsettled.pop(move.job_id, None)
            account = self._accounts.get(job.owner)
            if move.account_change is not None and account is not None:
                self._accounts[job.owner] = move.account_change(account)
            for delivery in move.deliveries:
                self.add_delivery(delivery)
            return True

    # accounts
    def get_account(self, owner: str) -> Account | None:
        with self._lock:  # a copy: callers never share a stored record
            account = self._accounts.get(owner)
            return dataclasses.replace(account) if account is not None else None

    def put_account(self, account: Account) -> Account:
        with self._lock:
            self._accounts[account.owner] = dataclasses.replace(account)
            return account

    def in_flight(self, owner: str) -> int:
        with self._lock:
            return sum(1 for r in self._unsettled.values() if r.job.owner == owner)

    # callbacks
    def add_delivery(self, delivery: Delivery) -> int:
        with self._lock:
            delivery = dataclasses.replace(delivery, id=self._next_id())
            self._deliveries[delivery.id] = delivery
            self._index_pending(delivery)
            return delivery.id

    def _index_pending(self, delivery: Delivery) -> None:
        if delivery.state == "pending":
            self._pending[delivery.id] = delivery
        else:
            self._pending.pop(delivery.id, None)

    def save_delivery(self, delivery: Delivery) -> None:
        with self._lock:
            self._deliveries[delivery.id] = stored = dataclasses.replace(delivery)
            self._index_pending(stored)

    def list_deliveries(self, *, limit: int = 100, job_id: str | None = None) -> list[Delivery]:
        with self._lock:
            found = [
                dataclasses.replace(d, attempts=list(d.attempts))
                for d in self._deliveries.values()
                if job_id in (None, d.job_id)
            ]
        return found[-limit:] if limit else []

    def pending_due(self, now: float) -> int:
        with self._lock:
            return sum(
                1 for d in self._deliveries.values() if d.state == "pending" and d.due_at <= now
            )

    def next_delivery_at(self) -> float | None:
        with self._lock:
            pending = [d.due_at for d in self._deliveries.values() if d.state == "pending"]
            return min(pending, default=None)

    def claim_due(self, claim: DueClaim) -> list[Delivery]:
        with self._lock:
            if claim.saved:
                self.save_deliveries(claim.saved)
            due = sorted(
                (d for d in self._pending.values() if claim.takes(d)),
                key=lambda d: (d.due_at, d.id),
            )[: claim.limit]
            for delivery in due:
                delivery.claimed_until = claim.wall + claim.hold
            return [dataclasses.replace(d, attempts=list(d.attempts)) for d in due]

    def save_deliveries(self, deliveries: Sequence[Delivery]) -> None:
        with self._lock:
            for delivery in deliveries:
                self.save_delivery(delivery)

    def count_due(self, now: float, *, skip_destinations: Collection[str] = ()) -> int:
        with self._lock:
            return sum(
                1
                for d in self._pending.values()
                if d.due_at <= now and d.destination not in skip_destinations
            )

    def expire_deliveries(self, queued_before: float, wall: float, note: dict[str, Any]) -> int:
        with self._lock:
            old = [
                d
                for d in self._pending.values()
                if d.claimed_until <= wall
                and (d.due_at if d.queued_at is None else d.queued_at) < queued_before
            ]
            for delivery in old:
                delivery.state = "expired"
                delivery.attempts = [*delivery.attempts, dict(note)]
                del self._pending[delivery.id]
            return len(old)

    # scenarios and faults
    def add_injection(self, injection: Injection) -> int:
        with self._lock:
            injection = dataclasses.replace(injection, id=self._next_id())
            self._injections[injection.id] = injection
            return injection.id

    def take_injection(self, kind: str, pick: Pick) -> Injection | None:
        with self._lock:
            chosen = pick([i for i in self._injections.values() if i.kind == kind])
            if chosen is None:
                return None
            taken = dataclasses.replace(chosen)
            if chosen.remaining is not None:
                chosen.remaining -= 1
                if chosen.remaining <= 0:
                    del self._injections[chosen.id]
            return taken

    def snapshot(self) -> tuple[Runtime, set[str]]:
        with self._lock:
            return self.runtime(), {i.kind for i in self._injections.values()}

    def list_injections(self, kind: str) -> list[Injection]:
        with self._lock:
            return [dataclasses.replace(i) for i in self._injections.values() if i.kind == kind]

    def clear_injections(self, kind: str, key: str | None = None) -> None:
        with self._lock:
            for injection_id in [
                i.id for i in self._injections.values() if i.kind == kind and key in (None, i.key)
            ]:
                del self._injections[injection_id]

    def next_count(self, name: str) -> int:
        with self._lock:
            self._counts[name] += 1
            return self._counts[name]

    # uploads
    def put_upload(self, upload: Upload, *, max_count: int, max_bytes: int) -> None:
        with self._lock:
            self._uploads.pop(upload.id, None)
            self._uploads[upload.id] = upload
            total = sum(len(u.data) for u in self._uploads.values())
            while len(self._uploads) > 1 and (len(self._uploads) > max_count or total > max_bytes):
                _, oldest = self._uploads.popitem(last=False)
                total -= len(oldest.data)

    def get_upload(self, upload_id: str) -> Upload | None:
        with self._lock:
            return self._uploads.get(upload_id)  # frozen: shared safely

    # journal, runtime, lifetime
    def journal_append(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._counts["journal"] += 1
            self._journal.append({**entry, "id": self._counts["journal"]})

    def journal_list(
        self, *, limit: int = 100, after: int = 0, match: Mapping[str, str] | None = None
    ) -> list[dict[str, Any]]:
        wanted = list((match or {}).items())
        with self._lock:
            entries = [
                e
                for e in self._journal
                if e["id"] > after and all(str(e.get(k)) == v for k, v in wanted)
            ]
        return entries[-limit:] if limit else []

    def runtime(self) -> Runtime:
        with self._lock:
            return dataclasses.replace(self._runtime)

    def update_runtime(self, change: Callable[[Runtime], Runtime]) -> Runtime:
        with self._lock:
            self._runtime = change(dataclasses.replace(self._runtime))
            return dataclasses.replace(self._runtime)

    def reset(self, runtime: Runtime) -> None:
        with self._lock:
            self._clear()
            self._runtime = dataclasses.replace(runtime)

    def close(self) -> None:
        """Nothing to release."""
