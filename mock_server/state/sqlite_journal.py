"""The SQLite store's request journal, written by a thread of its own: each worker buffers
its entries and stores a batch every FLUSH_SECONDS in one transaction, instead of one write
transaction per request (the hot path's largest cost). Bounded: old entries are trimmed."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping
from typing import Any

from mock_server.state.records import JOURNAL_FIELDS
from mock_server.state.sqlite_db import Database

FLUSH_SECONDS = 0.025  # how long a journal entry may wait in a worker's buffer
_TRIM_EVERY = 256


class SQLiteJournal:
    """The journal table, written in batches by a background thread."""

    def __init__(self, db: Database, *, limit: int) -> None:
        self.db = db
        self.limit = limit
        self._buffer: list[str] = []
        self._buffer_lock = threading.Lock()
        self._flusher: threading.Thread | None = None
        self._closing = threading.Event()

    def append(self, entry: dict[str, Any]) -> None:
        """Buffer one entry; a writer thread stores it within FLUSH_SECONDS."""
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

    def discard_buffer(self) -> None:
        """Forget the entries not stored yet (a reset)."""
        with self._buffer_lock:
            self._buffer = []

    def close(self) -> None:
        """Stop the writer thread and store what is buffered."""
        self._closing.set()
        if self._flusher is not None:
            self._flusher.join(timeout=5)
        self.flush()
