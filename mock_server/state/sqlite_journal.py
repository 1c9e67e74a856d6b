"""The SQLite store's request journal: each worker's batches (`journal_buffer`) stored in one
transaction each. Bounded: old entries are trimmed."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

from mock_server.state.journal_buffer import FLUSH_SECONDS, BufferedJournal
from mock_server.state.records import JOURNAL_FIELDS
from mock_server.state.sqlite_db import Database

_TRIM_EVERY = 256


class SQLiteJournal(BufferedJournal):
    """The journal table, written in batches by a background thread."""

    def __init__(self, db: Database, *, limit: int) -> None:
        super().__init__(limit=limit)
        self.db = db

    def _store(self, batch: list[str]) -> None:
        with self.db.write() as db:
            db.executemany("INSERT INTO journal (data) VALUES (?)", [(e,) for e in batch])
            last = db.execute("SELECT max(id) FROM journal").fetchone()[0]
            if last // _TRIM_EVERY != (last - len(batch)) // _TRIM_EVERY:
                db.execute("DELETE FROM journal WHERE id <= ?", (last - self.limit,))

    def list(
        self, *, limit: int = 100, after: int = 0, match: Mapping[str, str] | None = None
    ) -> list[dict[str, Any]]:
        """Return the newest `limit` entries after id `after` that `match`, oldest first."""
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
            self.db.connection()
            .execute(
                "SELECT id, data FROM journal WHERE id > ? AND id > "
                f"(SELECT coalesce(max(id), 0) FROM journal) - ?{filters} ORDER BY id DESC LIMIT ?",
                (after, self.limit, *params, limit),
            )
            .fetchall()
        )
        return [{**json.loads(data), "id": entry_id} for entry_id, data in reversed(rows)]
