"""The journal's write path, shared by the SQLite and Redis stores: each process buffers its
entries, and a thread of its own stores a batch every FLUSH_SECONDS (one transaction or one
round trip) instead of one write per request, the hot path's largest cost after the job."""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from typing import Any

FLUSH_SECONDS = 0.025  # how long a journal entry may wait in a process's buffer


class BufferedJournal:
    """Buffered entries, stored by a writer thread; a backend says how (`_store`)."""

    THREAD_NAME = "shortapi-journal"

    def __init__(self, *, limit: int) -> None:
        self.limit = limit
        self._buffer: list[str] = []
        self._buffer_lock = threading.Lock()
        # Flushes one at a time, so batches are stored in the order they were taken: a reader's
        # flush must not store a later batch before the writer thread's earlier one.
        self._flush_lock = threading.Lock()
        self._flusher: threading.Thread | None = None
        self._closing = threading.Event()

    def _store(self, batch: list[str]) -> None:
        """Store `batch` (entries as JSON, oldest first) in one write."""
        raise NotImplementedError

    def list(
        self, *, limit: int = 100, after: int = 0, match: Mapping[str, str] | None = None
    ) -> list[dict[str, Any]]:
        """Return the newest `limit` entries after id `after` that `match`, oldest first."""
        raise NotImplementedError

    def append(self, entry: dict[str, Any]) -> None:
        """Buffer one entry; the writer thread stores it within FLUSH_SECONDS."""
        encoded = json.dumps(entry)
        with self._buffer_lock:
            self._buffer.append(encoded)
            if self._flusher is None:  # started on first use: after a fork, in the worker
                self._flusher = threading.Thread(
                    target=self._flush_loop, daemon=True, name=self.THREAD_NAME
                )
                self._flusher.start()

    def _flush_loop(self) -> None:
        while not self._closing.wait(FLUSH_SECONDS):
            self.flush()

    def flush(self) -> None:
        """Store the buffered entries now, after any batch taken before them."""
        with self._flush_lock:
            with self._buffer_lock:
                batch, self._buffer = self._buffer, []
            if batch:
                self._store(batch)

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


class JournalMethods:
    """The store's journal methods (a mixin of the SQLite and Redis stores): its `journal`'s."""

    journal: BufferedJournal

    def journal_append(self, entry: dict[str, Any]) -> None:
        self.journal.append(entry)

    def flush(self) -> None:
        """Store the buffered journal entries now."""
        self.journal.flush()

    def journal_list(
        self, *, limit: int = 100, after: int = 0, match: Mapping[str, str] | None = None
    ) -> list[dict[str, Any]]:
        return self.journal.list(limit=limit, after=after, match=match)
