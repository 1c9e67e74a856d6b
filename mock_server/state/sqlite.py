"""The SQLite store: one file shared by every worker process; state survives a restart.

Each thread has its own connection. WAL mode lets readers run beside the one writer;
read-modify-write steps take the write lock first (BEGIN IMMEDIATE) so workers never
interleave them.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

from mock_server.state.records import (
    DONE,
    JOURNAL_FIELDS,
    Account,
    Delivery,
    Job,
    Rule,
    Runtime,
    charge,
    check_admission,
    refund,
    rule_matches,
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    owner TEXT NOT NULL,
    polls INTEGER NOT NULL DEFAULT 0,
    stage INTEGER NOT NULL DEFAULT 0,
    next_event_at REAL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_owner ON jobs(owner, stage);
CREATE INDEX IF NOT EXISTS jobs_due ON jobs(next_event_at) WHERE next_event_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS accounts (owner TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id TEXT NOT NULL,
    state TEXT NOT NULL,
    due_at REAL NOT NULL,
    claimed_until REAL NOT NULL DEFAULT 0,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries(state, due_at);
CREATE TABLE IF NOT EXISTS rules (
    id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS journal (id INTEGER PRIMARY KEY AUTOINCREMENT, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS state (name TEXT PRIMARY KEY, data TEXT NOT NULL);
"""
_JOB_COLUMNS = ("polls", "stage", "next_event_at")
_TRIM_EVERY = 256
FLUSH_SECONDS = 0.025  # how long a journal entry may wait in a worker's buffer


class SQLiteStore:
    """State in an SQLite file, safe to share between threads and processes."""

    def __init__(self, path: str, *, journal_limit: int = 10_000) -> None:
        self.path = path
        self.journal_limit = journal_limit
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self._thread_lock = threading.Lock()
        self._lock_fd = os.open(path + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        with self._thread_lock, _file_lock(self._lock_fd):
            self._db().executescript(_SCHEMA)
        self._buffer: list[str] = []
        self._buffer_lock = threading.Lock()
        self._flusher: threading.Thread | None = None
        self._closing = threading.Event()

    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(
                self.path, timeout=30, isolation_level=None, check_same_thread=False
            )
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA busy_timeout=30000")
            self._local.db = db
            with self._lock:
                self._connections.append(db)
        return db

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def _write_one(self, sql: str, params: tuple[Any, ...]) -> Any:
        """Run one writing statement in its own transaction; return its first row."""
        with self._write() as db:
            return db.execute(sql, params).fetchone()

    # jobs
    def admit(self, job: Job) -> None:
        data = job.to_dict()
        for column in _JOB_COLUMNS:
            del data[column]
        row = (job.id, job.owner, job.polls, job.stage, job.next_event_at, json.dumps(data))
        insert = (
            "INSERT INTO jobs (id, owner, polls, stage, next_event_at, data) "
            "VALUES (?, ?, ?, ?, ?, ?)"
        )
        try:
            if self.get_account(job.owner) is None:  # unlimited: nothing to check or charge
                self._write_one(insert, row)
                return
            with self._write() as db:
                account = self._account(db, job.owner)
                check_admission(account, job.amount, lambda: self._in_flight(db, job.owner))
                charged = charge(account, job.amount)
                if charged is not None:
                    self._put_account(db, charged)
                db.execute(insert, row)
        except sqlite3.IntegrityError:
            raise KeyError(f"duplicate job id {job.id}") from None

    @staticmethod
    def _job(row: tuple[Any, ...]) -> Job:
        *columns, data = row
        return Job.from_dict({**json.loads(data), **dict(zip(_JOB_COLUMNS, columns, strict=True))})

    _SELECT_JOB = "SELECT polls, stage, next_event_at, data FROM jobs"

    def get_job(self, job_id: str) -> Job | None:
        row = self._db().execute(f"{self._SELECT_JOB} WHERE id = ?", (job_id,)).fetchone()
        return self._job(row) if row else None

    def bump_polls(self, job_id: str) -> int:
        row = self._write_one(
            "UPDATE jobs SET polls = polls + 1 WHERE id = ? RETURNING polls", (job_id,)
        )
        if row is None:
            raise KeyError(job_id)
        return int(row[0])

    def list_jobs(self, *, limit: int = 100, owner: str | None = None) -> list[Job]:
        if owner is None:
            rows = self._db().execute(f"{self._SELECT_JOB} ORDER BY seq DESC LIMIT ?", (limit,))
        else:
            rows = self._db().execute(
                f"{self._SELECT_JOB} WHERE owner = ? ORDER BY seq DESC LIMIT ?", (owner, limit)
            )
        return [self._job(row) for row in rows.fetchall()]

    def replan_job(self, job_id: str, change: Callable[[Job], Job]) -> Job | None:
        with self._write() as db:
            row = db.execute(
                f"{self._SELECT_JOB} WHERE id = ? AND stage < ?", (job_id, DONE)
            ).fetchone()
            if row is None:
                return None
            new = change(self._job(row))
            data = new.to_dict()
            for column in _JOB_COLUMNS:
                del data[column]
            db.execute(
                "UPDATE jobs SET polls = ?, next_event_at = ?, data = ? WHERE id = ?",
                (new.polls, new.next_event_at, json.dumps(data), job_id),
            )
            return new

    def count_jobs(self) -> int:
        return int(self._db().execute("SELECT count(*) FROM jobs").fetchone()[0])

    def due_jobs(self, now: float, *, limit: int = 200) -> list[Job]:
        rows = (
            self._db()
            .execute(
                f"{self._SELECT_JOB} WHERE next_event_at IS NOT NULL AND next_event_at <= ? "
                "ORDER BY next_event_at, seq LIMIT ?",
                (now, limit),
            )
            .fetchall()
        )
        return [self._job(row) for row in rows]

    def move_stage(
        self,
        job_id: str,
        stage: int,
        new_stage: int,
        next_event_at: float | None,
        refund_amount: str | None,
        deliveries: Sequence[Delivery] = (),
    ) -> bool:
        with self._write() as db:
            row = db.execute(
                "UPDATE jobs SET stage = ?, next_event_at = ? WHERE id = ? AND "
                "stage = ? RETURNING owner",
                (new_stage, next_event_at, job_id, stage),
            ).fetchone()
            if row is None:
                return False
            account = self._account(db, row[0])
            if refund_amount is not None and account is not None:
                self._put_account(db, refund(account, refund_amount))
            for delivery in deliveries:
                self._insert_delivery(db, delivery)
            return True

    # accounts
    @staticmethod
    def _account(db: sqlite3.Connection, owner: str) -> Account | None:
        row = db.execute("SELECT data FROM accounts WHERE owner = ?", (owner,)).fetchone()
        return Account(**json.loads(row[0])) if row else None

    @staticmethod
    def _put_account(db: sqlite3.Connection, account: Account) -> None:
        db.execute(
            "INSERT OR REPLACE INTO accounts (owner, data) VALUES (?, ?)",
            (account.owner, json.dumps(account.to_dict())),
        )

    @staticmethod
    def _in_flight(db: sqlite3.Connection, owner: str) -> int:
        return int(
            db.execute(
                "SELECT count(*) FROM jobs WHERE owner = ? AND stage < ?", (owner, DONE)
            ).fetchone()[0]
        )

    def get_account(self, owner: str) -> Account | None:
        return self._account(self._db(), owner)

    def put_account(self, account: Account) -> Account:
        with self._write() as db:
            self._put_account(db, account)
        return account

    def in_flight(self, owner: str) -> int:
        return self._in_flight(self._db(), owner)

    # callbacks
    def add_delivery(self, delivery: Delivery) -> int:
        with self._write() as db:
            return self._insert_delivery(db, delivery)

    @staticmethod
    def _insert_delivery(db: sqlite3.Connection, delivery: Delivery) -> int:
        row = db.execute(
            "INSERT INTO deliveries (job_id, state, due_at, claimed_until, data) "
            "VALUES (?, ?, ?, ?, ?) RETURNING id",
            (
                delivery.job_id,
                delivery.state,
                delivery.due_at,
                delivery.claimed_until,
                json.dumps(delivery.to_dict()),
            ),
        ).fetchone()
        return int(row[0])

    @staticmethod
    def _delivery(row: tuple[Any, ...]) -> Delivery:
        delivery_id, state, due_at, claimed_until, data = row
        return Delivery(
            **{
                **json.loads(data),
                "id": delivery_id,
                "state": state,
                "due_at": due_at,
                "claimed_until": claimed_until,
            }
        )

    _SELECT_DELIVERY = "SELECT id, state, due_at, claimed_until, data FROM deliveries"

    def claim_deliveries(
        self, now: float, wall: float, *, hold: float, limit: int = 50
    ) -> list[Delivery]:
        with self._write() as db:
            rows = db.execute(
                f"{self._SELECT_DELIVERY} WHERE state = 'pending' AND due_at <= ? AND "
                "claimed_until <= ? ORDER BY due_at, id LIMIT ?",
                (now, wall, limit),
            ).fetchall()
            db.executemany(
                "UPDATE deliveries SET claimed_until = ? WHERE id = ?",
                [(wall + hold, row[0]) for row in rows],
            )
        return [self._delivery((*row[:3], wall + hold, row[4])) for row in rows]

    def save_delivery(self, delivery: Delivery) -> None:
        self._write_one(
            "UPDATE deliveries SET state = ?, due_at = ?, claimed_until = ?, data = ? WHERE id = ?",
            (
                delivery.state,
                delivery.due_at,
                delivery.claimed_until,
                json.dumps(delivery.to_dict()),
                delivery.id,
            ),
        )

    def list_deliveries(self, *, limit: int = 100, job_id: str | None = None) -> list[Delivery]:
        if job_id is None:
            rows = (
                self._db()
                .execute(f"{self._SELECT_DELIVERY} ORDER BY id DESC LIMIT ?", (limit,))
                .fetchall()
            )
        else:
            rows = (
                self._db()
                .execute(
                    f"{self._SELECT_DELIVERY} WHERE job_id = ? ORDER BY id DESC LIMIT ?",
                    (job_id, limit),
                )
                .fetchall()
            )
        return [self._delivery(row) for row in reversed(rows)]

    def pending_due(self, now: float) -> int:
        row = (
            self._db()
            .execute(
                "SELECT count(*) FROM deliveries WHERE state = 'pending' AND due_at <= ?", (now,)
            )
            .fetchone()
        )
        return int(row[0])

    def next_delivery_at(self) -> float | None:
        row = (
            self._db()
            .execute("SELECT min(due_at) FROM deliveries WHERE state = 'pending'")
            .fetchone()
        )
        return None if row[0] is None else float(row[0])

    # scenarios and faults
    def add_rule(self, rule: Rule) -> int:
        row = self._write_one(
            "INSERT INTO rules (kind, data) VALUES (?, ?) RETURNING id",
            (rule.kind, json.dumps(rule.to_dict())),
        )
        return int(row[0])

    def _rules(self, db: sqlite3.Connection, kind: str) -> list[Rule]:
        rows = db.execute("SELECT id, data FROM rules WHERE kind = ? ORDER BY id", (kind,))
        return [Rule(**{**json.loads(data), "id": rule_id}) for rule_id, data in rows]

    def take_rule(self, kind: str, owner: str | None, endpoint: str) -> Rule | None:
        with self._write() as db:
            rules = sorted(self._rules(db, kind), key=lambda r: (r.key is None, r.id))
            for rule in rules:
                if rule_matches(rule, kind, owner, endpoint):
                    if rule.remaining is not None:
                        left = rule.remaining - 1
                        if left <= 0:
                            db.execute("DELETE FROM rules WHERE id = ?", (rule.id,))
                        else:
                            db.execute(
                                "UPDATE rules SET data = ? WHERE id = ?",
                                (json.dumps({**rule.to_dict(), "remaining": left}), rule.id),
                            )
                    return rule
        return None

    def snapshot(self) -> tuple[Runtime, set[str]]:
        # One read per request for both: the settings and which kinds of rules exist.
        row = (
            self._db()
            .execute(
                "SELECT (SELECT data FROM state WHERE name = 'runtime'), "
                "(SELECT group_concat(DISTINCT kind) FROM rules)"
            )
            .fetchone()
        )
        runtime = Runtime(**json.loads(row[0])) if row[0] else Runtime()
        return runtime, set(row[1].split(",")) if row[1] else set()

    def list_rules(self, kind: str) -> list[Rule]:
        return self._rules(self._db(), kind)

    def clear_rules(self, kind: str, key: str | None = None) -> None:
        if key is None:
            self._write_one("DELETE FROM rules WHERE kind = ?", (kind,))
        else:
            self._write_one(
                "DELETE FROM rules WHERE kind = ? AND json_extract(data, '$.key') = ?", (kind, key)
            )

    def next_count(self, name: str) -> int:
        row = self._write_one(
            "INSERT INTO counters (name, value) VALUES (?, 1) ON CONFLICT(name) DO UPDATE "
            "SET value = value + 1 RETURNING value",
            (name,),
        )
        return int(row[0])

    # journal, runtime, lifetime
    def journal_append(self, entry: dict[str, Any]) -> None:
        # Buffered: a writer thread stores a batch every FLUSH_SECONDS in one transaction,
        # instead of one write transaction per request (the hot path's largest cost).
        encoded = json.dumps(entry)
        with self._buffer_lock:
            self._buffer.append(encoded)
            if self._flusher is None:
                self._flusher = threading.Thread(
                    target=self._flush_loop, daemon=True, name="shortapi-journal"
                )
                self._flusher.start()

    def _flush_loop(self) -> None:
        while not self._closing.wait(FLUSH_SECONDS):
            self.flush()

    def flush(self) -> None:
        """Store the buffered journal entries now."""
        with self._buffer_lock:
            batch, self._buffer = self._buffer, []
        if not batch:
            return
        with self._write() as db:
            db.executemany("INSERT INTO journal (data) VALUES (?)", [(e,) for e in batch])
            last = db.execute("SELECT max(id) FROM journal").fetchone()[0]
            if last // _TRIM_EVERY != (last - len(batch)) // _TRIM_EVERY:
                db.execute("DELETE FROM journal WHERE id <= ?", (last - self.journal_limit,))

    def journal_list(
        self, *, limit: int = 100, after: int = 0, match: Mapping[str, str] | None = None
    ) -> list[dict[str, Any]]:
        self.flush()
        # Other worker processes store theirs within FLUSH_SECONDS: wait that long.
        time.sleep(2 * FLUSH_SECONDS)
        filters, params = "", []
        for name, value in (match or {}).items():
            if name not in JOURNAL_FIELDS:
                raise ValueError(f"cannot filter the journal by {name!r}")
            filters += f" AND json_extract(data, '$.{name}') = ?"
            params.append(value)
        rows = (
            self._db()
            .execute(
                "SELECT id, data FROM journal WHERE id > ? AND id > "
                f"(SELECT coalesce(max(id), 0) FROM journal) - ?{filters} ORDER BY id DESC LIMIT ?",
                (after, self.journal_limit, *params, limit),
            )
            .fetchall()
        )
        return [{**json.loads(data), "id": entry_id} for entry_id, data in reversed(rows)]

    def runtime(self) -> Runtime:
        row = self._db().execute("SELECT data FROM state WHERE name = 'runtime'").fetchone()
        return Runtime(**json.loads(row[0])) if row else Runtime()

    def update_runtime(self, change: Callable[[Runtime], Runtime]) -> Runtime:
        with self._write() as db:
            row = db.execute("SELECT data FROM state WHERE name = 'runtime'").fetchone()
            new = change(Runtime(**json.loads(row[0])) if row else Runtime())
            db.execute(
                "INSERT OR REPLACE INTO state (name, data) VALUES ('runtime', ?)",
                (json.dumps(new.to_dict()),),
            )
        return new

    def reset(self, runtime: Runtime) -> None:
        with self._buffer_lock:
            self._buffer = []
        with self._write() as db:
            for table in ("jobs", "accounts", "deliveries", "rules", "counters", "journal"):
                db.execute(f"DELETE FROM {table}")
            db.execute(
                "INSERT OR REPLACE INTO state (name, data) VALUES ('runtime', ?)",
                (json.dumps(runtime.to_dict()),),
            )

    def close(self) -> None:
        self._closing.set()
        if self._flusher is not None:
            self._flusher.join(timeout=5)
        self.flush()
        with self._lock:
            for db in self._connections:
                with contextlib.suppress(sqlite3.Error):
                    db.close()
            self._connections.clear()
        self._local = threading.local()
        with contextlib.suppress(OSError):
            os.close(self._lock_fd)


@contextlib.contextmanager
def _file_lock(fd: int) -> Iterator[None]:
    """Hold an exclusive flock on `fd` (a no-op where fcntl does not exist)."""
    if fcntl is None:  # pragma: no cover - Windows
        yield
        return
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
