"""The SQLite store: one file shared by every worker process; state survives a restart.

The queries of each kind of state are here, the callback deliveries' in
`sqlite_deliveries.py`, the uploads' in `sqlite_uploads.py`; the file, its connections and
write transactions are `sqlite_db.py`, the tables `schema.sql`, the batched journal
`sqlite_journal.py`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

from mock_server.jobs.status import Stage
from mock_server.state import sqlite_uploads
from mock_server.state.journal_buffer import JournalMethods
from mock_server.state.protocol import Admission, Pick, StageMove, Upload
from mock_server.state.records import (
    Account,
    Injection,
    Job,
    Runtime,
    runtime_from_json,
)
from mock_server.state.sqlite_db import Database
from mock_server.state.sqlite_deliveries import SQLiteDeliveries
from mock_server.state.sqlite_journal import SQLiteJournal

_JOB_COLUMNS = ("polls", "stage", "next_event_at")


class SQLiteStore(SQLiteDeliveries, JournalMethods):
    """State in an SQLite file, safe to share between threads and processes."""

    def __init__(self, path: str, *, journal_limit: int = 10_000) -> None:
        self.path = path
        self.journal_limit = journal_limit
        self.db = Database(path)
        self.journal = SQLiteJournal(self.db, limit=journal_limit)

    # jobs
    def admit(self, job: Job, admission: Admission) -> None:
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
                admission(None, lambda: self.in_flight(job.owner))
                self.db.write_one(insert, row)
                return
            with self.db.write() as db:
                account = self._account(db, job.owner)
                charged = admission(account, lambda: self._in_flight(db, job.owner))
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
        row = self.db.connection().execute(f"{self._SELECT_JOB} WHERE id = ?", (job_id,)).fetchone()
        return self._job(row) if row else None

    def bump_polls(self, job_id: str) -> int:
        row = self.db.write_one(
            "UPDATE jobs SET polls = polls + 1 WHERE id = ? RETURNING polls", (job_id,)
        )
        if row is None:
            raise KeyError(job_id)
        return int(row[0])

    def list_jobs(self, *, limit: int = 100, owner: str | None = None) -> list[Job]:
        if owner is None:
            rows = self.db.connection().execute(
                f"{self._SELECT_JOB} ORDER BY seq DESC LIMIT ?", (limit,)
            )
        else:
            rows = self.db.connection().execute(
                f"{self._SELECT_JOB} WHERE owner = ? ORDER BY seq DESC LIMIT ?", (owner, limit)
            )
        return [self._job(row) for row in rows.fetchall()]

    def replan_job(self, job_id: str, change: Callable[[Job], Job]) -> Job | None:
        with self.db.write() as db:
            row = db.execute(
                f"{self._SELECT_JOB} WHERE id = ? AND stage < ?", (job_id, Stage.DONE)
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
        return int(self.db.connection().execute("SELECT count(*) FROM jobs").fetchone()[0])

    def due_jobs(self, now: float, *, limit: int = 200) -> list[Job]:
        rows = (
            self.db.connection()
            .execute(
                f"{self._SELECT_JOB} WHERE next_event_at IS NOT NULL AND next_event_at <= ? "
                "ORDER BY next_event_at, seq LIMIT ?",
                (now, limit),
            )
            .fetchall()
        )
        return [self._job(row) for row in rows]

    def move_stage(self, move: StageMove) -> bool:
        return self.move_stages([move])[0]

    def move_stages(self, moves: Sequence[StageMove]) -> list[bool]:
        with self.db.write() as db:
            if len({move.job_id for move in moves}) < len(moves):  # a job twice: in order
                return [self._move(db, move) for move in moves]
            moved = self._move_all(db, moves)
            done = [move for move in moves if move.job_id in moved]
            for move in done:
                self._refund(db, move, moved[move.job_id])
            self._insert_deliveries(db, [d for move in done for d in move.deliveries])
            return [move.job_id in moved for move in moves]

    @staticmethod
    def _move_all(db: sqlite3.Connection, moves: Sequence[StageMove]) -> dict[str, str]:
        """Move every job of `moves` still at its move's stage, in one statement (a
        statement a move held the write lock 50 times as long under load: each gives the
        GIL up and waits for it back); return the owners of the jobs moved, by job id."""
        if not moves:
            return {}
        rows = ", ".join("(?, ?, ?, ?)" for _ in moves)
        params = [
            value
            for move in moves
            for value in (move.job_id, move.stage, move.new_stage, move.next_event_at)
        ]
        return dict(
            db.execute(
                f"WITH moves (id, stage, new_stage, next_event_at) AS (VALUES {rows}) "
                "UPDATE jobs SET stage = moves.new_stage, next_event_at = moves.next_event_at "
                "FROM moves WHERE jobs.id = moves.id AND jobs.stage = moves.stage "
                "RETURNING jobs.id, jobs.owner",
                params,
            ).fetchall()
        )

    @classmethod
    def _move(cls, db: sqlite3.Connection, move: StageMove) -> bool:
        row = db.execute(
            "UPDATE jobs SET stage = ?, next_event_at = ? WHERE id = ? AND "
            "stage = ? RETURNING owner",
            (move.new_stage, move.next_event_at, move.job_id, move.stage),
        ).fetchone()
        if row is None:
            return False
        cls._refund(db, move, row[0])
        cls._insert_deliveries(db, move.deliveries)
        return True

    @classmethod
    def _refund(cls, db: sqlite3.Connection, move: StageMove, owner: str) -> None:
        """Apply a made move's account change (a failed job's refund), if it has one and
        its owner has an account."""
        if move.account_change is not None and (account := cls._account(db, owner)):
            cls._put_account(db, move.account_change(account))

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
                "SELECT count(*) FROM jobs WHERE owner = ? AND stage < ?", (owner, Stage.DONE)
            ).fetchone()[0]
        )

    def get_account(self, owner: str) -> Account | None:
        return self._account(self.db.connection(), owner)

    def put_account(self, account: Account) -> Account:
        with self.db.write() as db:
            self._put_account(db, account)
        return account

    def in_flight(self, owner: str) -> int:
        return self._in_flight(self.db.connection(), owner)

    # scenarios and faults
    def add_injection(self, injection: Injection) -> int:
        row = self.db.write_one(
            "INSERT INTO injections (kind, data) VALUES (?, ?) RETURNING id",
            (injection.kind, json.dumps(injection.to_dict())),
        )
        return int(row[0])

    def _injections(self, db: sqlite3.Connection, kind: str) -> list[Injection]:
        rows = db.execute("SELECT id, data FROM injections WHERE kind = ? ORDER BY id", (kind,))
        return [Injection(**{**json.loads(data), "id": row_id}) for row_id, data in rows]

    def take_injection(self, kind: str, pick: Pick) -> Injection | None:
        with self.db.write() as db:
            chosen = pick(self._injections(db, kind))
            if chosen is not None and chosen.remaining is not None:
                left = chosen.remaining - 1
                if left <= 0:
                    db.execute("DELETE FROM injections WHERE id = ?", (chosen.id,))
                else:
                    db.execute(
                        "UPDATE injections SET data = ? WHERE id = ?",
                        (json.dumps({**chosen.to_dict(), "remaining": left}), chosen.id),
                    )
            return chosen

    def snapshot(self) -> tuple[Runtime, set[str]]:
        # One read per request for both: the settings and which kinds of injections wait.
        row = (
            self.db.connection()
            .execute(
                "SELECT (SELECT data FROM state WHERE name = 'runtime'), "
                "(SELECT group_concat(DISTINCT kind) FROM injections)"
            )
            .fetchone()
        )
        return runtime_from_json(row[0]), set(row[1].split(",")) if row[1] else set()

    def list_injections(self, kind: str) -> list[Injection]:
        return self._injections(self.db.connection(), kind)

    def clear_injections(self, kind: str, key: str | None = None) -> None:
        if key is None:
            self.db.write_one("DELETE FROM injections WHERE kind = ?", (kind,))
        else:
            self.db.write_one(
                "DELETE FROM injections WHERE kind = ? AND json_extract(data, '$.key') = ?",
                (kind, key),
            )

    def next_count(self, name: str) -> int:
        row = self.db.write_one(
            "INSERT INTO counters (name, value) VALUES (?, 1) ON CONFLICT(name) DO UPDATE "
            "SET value = value + 1 RETURNING value",
            (name,),
        )
        return int(row[0])

    # uploads (sqlite_uploads.py)
    def put_upload(self, upload: Upload, *, max_count: int, max_bytes: int) -> None:
        sqlite_uploads.put_upload(self.db, upload, max_count=max_count, max_bytes=max_bytes)

    def get_upload(self, upload_id: str) -> Upload | None:
        return sqlite_uploads.get_upload(self.db, upload_id)

    # journal, runtime, lifetime
    def runtime(self) -> Runtime:
        row = (
            self.db.connection().execute("SELECT data FROM state WHERE name = 'runtime'").fetchone()
        )
        return runtime_from_json(row[0] if row else None)

    def update_runtime(self, change: Callable[[Runtime], Runtime]) -> Runtime:
        with self.db.write() as db:
            row = db.execute("SELECT data FROM state WHERE name = 'runtime'").fetchone()
            new = change(runtime_from_json(row[0] if row else None))
            db.execute(
                "INSERT OR REPLACE INTO state (name, data) VALUES ('runtime', ?)",
                (json.dumps(new.to_dict()),),
            )
        return new

    def reset(self, runtime: Runtime) -> None:
        self.journal.discard_buffer()
        with self.db.write() as db:
            tables = ("jobs", "accounts", "deliveries", "injections", "counters", "journal")
            for table in (*tables, "uploads"):
                db.execute(f"DELETE FROM {table}")
            db.execute(
                "INSERT OR REPLACE INTO state (name, data) VALUES ('runtime', ?)",
                (json.dumps(runtime.to_dict()),),
            )

    def close(self) -> None:
        self.journal.close()
        self.db.close()
