"""The SQLite store's callback deliveries (table ``deliveries``): adding, claiming (one worker
per attempt), saving, listing, counting and expiring them. A mixin of `SQLiteStore`."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Sequence
from typing import Any

from mock_server.state.protocol import DueClaim
from mock_server.state.records import Delivery
from mock_server.state.sqlite_db import Database


class SQLiteDeliveries:
    """The delivery queries; `db` is the store's `Database`."""

    db: Database

    def add_delivery(self, delivery: Delivery) -> int:
        with self.db.write() as db:
            return self._insert_delivery(db, delivery)

    _INSERT = (
        "INSERT INTO deliveries (job_id, state, due_at, claimed_until, data) VALUES (?, ?, ?, ?, ?)"
    )

    @staticmethod
    def _row(delivery: Delivery) -> tuple[Any, ...]:
        """A delivery as the values of `_INSERT`."""
        d = delivery
        return (d.job_id, d.state, d.due_at, d.claimed_until, json.dumps(d.to_dict()))

    @classmethod
    def _insert_delivery(cls, db: sqlite3.Connection, delivery: Delivery) -> int:
        row = db.execute(f"{cls._INSERT} RETURNING id", cls._row(delivery)).fetchone()
        return int(row[0])

    @classmethod
    def _insert_deliveries(cls, db: sqlite3.Connection, deliveries: Sequence[Delivery]) -> None:
        """Insert `deliveries` in one statement (their ids are not needed)."""
        db.executemany(cls._INSERT, [cls._row(d) for d in deliveries])

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

    def save_delivery(self, delivery: Delivery) -> None:
        self.db.write_one(
            "UPDATE deliveries SET state = ?, due_at = ?, claimed_until = ?, data = ? WHERE id = ?",
            (
                delivery.state,
                delivery.due_at,
                delivery.claimed_until,
                json.dumps(delivery.to_dict()),
                delivery.id,
            ),
        )

    def save_deliveries(self, deliveries: Sequence[Delivery]) -> None:
        with self.db.write() as db:
            self._save(db, deliveries)

    @staticmethod
    def _save(db: sqlite3.Connection, deliveries: Sequence[Delivery]) -> None:
        db.executemany(
            "UPDATE deliveries SET state = ?, due_at = ?, claimed_until = ?, data = ? WHERE id = ?",
            [
                (d.state, d.due_at, d.claimed_until, json.dumps(d.to_dict()), d.id)
                for d in deliveries
            ],
        )

    def list_deliveries(self, *, limit: int = 100, job_id: str | None = None) -> list[Delivery]:
        if job_id is None:
            rows = (
                self.db.connection()
                .execute(f"{self._SELECT_DELIVERY} ORDER BY id DESC LIMIT ?", (limit,))
                .fetchall()
            )
        else:
            rows = (
                self.db.connection()
                .execute(
                    f"{self._SELECT_DELIVERY} WHERE job_id = ? ORDER BY id DESC LIMIT ?",
                    (job_id, limit),
                )
                .fetchall()
            )
        return [self._delivery(row) for row in reversed(rows)]

    def pending_due(self, now: float) -> int:
        row = (
            self.db.connection()
            .execute(
                "SELECT count(*) FROM deliveries WHERE state = 'pending' AND due_at <= ?", (now,)
            )
            .fetchone()
        )
        return int(row[0])

    def next_delivery_at(self) -> float | None:
        row = (
            self.db.connection()
            .execute("SELECT min(due_at) FROM deliveries WHERE state = 'pending'")
            .fetchone()
        )
        return None if row[0] is None else float(row[0])

    def claim_due(self, claim: DueClaim) -> list[Delivery]:
        now, wall, hold, limit = claim.now, claim.wall, claim.hold, claim.limit
        destination = claim.destination
        lanes, jobs = list(claim.skip_destinations), list(claim.skip_jobs)
        lane = "coalesce(json_extract(data, '$.destination'), '')"
        only = (f"AND {lane} = ? ", (destination,)) if destination is not None else ("", ())
        # Look first without the write lock (a backlog makes this scan long), then claim
        # what is still unclaimed in a short write transaction.
        rows = (
            self.db.connection()
            .execute(
                f"{self._SELECT_DELIVERY} WHERE state = 'pending' AND due_at <= ? AND "
                f"claimed_until <= ? AND job_id NOT IN ({', '.join('?' * len(jobs))}) AND "
                f"{lane} NOT IN ({', '.join('?' * len(lanes))}) {only[0]}"
                "ORDER BY due_at, id LIMIT ?",
                (now, wall, *jobs, *lanes, *only[1], limit),
            )
            .fetchall()
        )
        claimed: list[Delivery] = []
        if not rows and not claim.saved:
            return claimed
        with self.db.write() as db:
            self._save(db, claim.saved)
            if rows:
                taken = {
                    taken_id
                    for (taken_id,) in db.execute(
                        "UPDATE deliveries SET claimed_until = ? WHERE id IN "
                        f"({', '.join('?' * len(rows))}) AND state = 'pending' "
                        "AND claimed_until <= ? RETURNING id",
                        (wall + hold, *(row[0] for row in rows), wall),
                    ).fetchall()
                }
                claimed = [
                    self._delivery((*row[:3], wall + hold, row[4]))
                    for row in rows
                    if row[0] in taken
                ]
        return claimed

    def count_due(self, now: float, *, skip_destinations: Collection[str] = ()) -> int:
        lanes = list(skip_destinations)
        row = (
            self.db.connection()
            .execute(
                "SELECT count(*) FROM deliveries WHERE state = 'pending' AND due_at <= ? AND "
                "coalesce(json_extract(data, '$.destination'), '') NOT IN "
                f"({', '.join('?' * len(lanes))})",
                (now, *lanes),
            )
            .fetchone()
        )
        return int(row[0])

    def expire_deliveries(self, queued_before: float, wall: float, note: dict[str, Any]) -> int:
        expired, batch = 0, 200  # a transaction each: requests' writes go in between
        while True:
            with self.db.write() as db:
                done = db.execute(
                    "UPDATE deliveries SET state = 'expired', "
                    "data = json_insert(data, '$.attempts[#]', json(?)) WHERE id IN ("
                    "SELECT id FROM deliveries WHERE state = 'pending' AND claimed_until <= ? "
                    "AND coalesce(json_extract(data, '$.queued_at'), due_at) < ? LIMIT ?)",
                    (json.dumps(note), wall, queued_before, batch),
                ).rowcount
            expired += done
            if done < batch:
                return expired
