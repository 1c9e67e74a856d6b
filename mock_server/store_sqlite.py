"""The SQLite store: one file shared by every worker process; jobs survive a restart.

Each thread has its own connection. WAL mode lets readers run beside the one writer;
read-modify-write steps take the write lock first (BEGIN IMMEDIATE) so workers never
interleave them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from typing import Any

from .store import Job, Runtime

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    owner TEXT NOT NULL,
    polls INTEGER NOT NULL DEFAULT 0,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_owner ON jobs(owner, seq);
CREATE TABLE IF NOT EXISTS journal (id INTEGER PRIMARY KEY AUTOINCREMENT, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS state (name TEXT PRIMARY KEY, data TEXT NOT NULL);
"""
_TRIM_EVERY = 256


class SQLiteStore:
    """State in an SQLite file, safe to share between threads and processes."""

    def __init__(self, path: str, *, journal_limit: int = 10_000) -> None:
        self.path = path
        self.journal_limit = journal_limit
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        directory = os.path.dirname(os.path.abspath(path))
        os.makedirs(directory, exist_ok=True)
        self._db().executescript(_SCHEMA)

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

    def add_job(self, job: Job) -> None:
        data = job.to_dict()
        del data["polls"]
        try:
            self._db().execute(
                "INSERT INTO jobs (id, owner, polls, data) VALUES (?, ?, ?, ?)",
                (job.id, job.owner, job.polls, json.dumps(data)),
            )
        except sqlite3.IntegrityError:
            raise KeyError(f"duplicate job id {job.id}") from None

    @staticmethod
    def _job(row: tuple[int, str]) -> Job:
        polls, data = row
        return Job.from_dict({**json.loads(data), "polls": polls})

    def get_job(self, job_id: str) -> Job | None:
        row = self._db().execute("SELECT polls, data FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return self._job(row) if row else None

    def bump_polls(self, job_id: str) -> int:
        row = (
            self._db()
            .execute("UPDATE jobs SET polls = polls + 1 WHERE id = ? RETURNING polls", (job_id,))
            .fetchone()
        )
        if row is None:
            raise KeyError(job_id)
        return int(row[0])

    def list_jobs(self, *, limit: int = 100, owner: str | None = None) -> list[Job]:
        if owner is None:
            rows = self._db().execute(
                "SELECT polls, data FROM jobs ORDER BY seq DESC LIMIT ?", (limit,)
            )
        else:
            rows = self._db().execute(
                "SELECT polls, data FROM jobs WHERE owner = ? ORDER BY seq DESC LIMIT ?",
                (owner, limit),
            )
        return [self._job(row) for row in rows.fetchall()]

    def count_jobs(self) -> int:
        return int(self._db().execute("SELECT count(*) FROM jobs").fetchone()[0])

    def journal_append(self, entry: dict[str, Any]) -> int:
        db = self._db()
        row = db.execute(
            "INSERT INTO journal (data) VALUES (?) RETURNING id", (json.dumps(entry),)
        ).fetchone()
        entry_id = int(row[0])
        if entry_id % _TRIM_EVERY == 0:
            db.execute("DELETE FROM journal WHERE id <= ?", (entry_id - self.journal_limit,))
        return entry_id

    def journal_list(self, *, limit: int = 100, after: int = 0) -> list[dict[str, Any]]:
        rows = (
            self._db()
            .execute(
                "SELECT id, data FROM journal WHERE id > ? AND id > "
                "(SELECT coalesce(max(id), 0) FROM journal) - ? ORDER BY id DESC LIMIT ?",
                (after, self.journal_limit, limit),
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
            current = Runtime(**json.loads(row[0])) if row else Runtime()
            new = change(current)
            db.execute(
                "INSERT OR REPLACE INTO state (name, data) VALUES ('runtime', ?)",
                (json.dumps(dataclasses.asdict(new)),),
            )
        return new

    def reset(self, runtime: Runtime) -> None:
        with self._write() as db:
            db.execute("DELETE FROM jobs")
            db.execute("DELETE FROM journal")
            db.execute(
                "INSERT OR REPLACE INTO state (name, data) VALUES ('runtime', ?)",
                (json.dumps(dataclasses.asdict(runtime)),),
            )

    def close(self) -> None:
        with self._lock:
            for db in self._connections:
                with contextlib.suppress(sqlite3.Error):
                    db.close()
            self._connections.clear()
        self._local = threading.local()
