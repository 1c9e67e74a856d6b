"""The Redis store's request journal: one capped stream that every host appends to.

An entry's id comes from an INCR and is its stream id (``<id>-0``), both in one Lua step, so
ids increase across hosts and `after` means what it means in the other stores (entries with a
larger id). Each process's batches (`journal_buffer`) go in one round trip each. The
stream is trimmed approximately (``MAXLEN ~``, cheap); reading keeps the exact window the
SQLite store keeps, the last `limit` ids."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

from mock_server.state.journal_buffer import FLUSH_SECONDS, BufferedJournal
from mock_server.state.records import JOURNAL_FIELDS
from mock_server.state.redis_conn import Client, Keys
from mock_server.state.redis_scripts import Scripts

_PAGE = 500  # entries read per round trip while filtering


class RedisJournal(BufferedJournal):
    """The journal stream, written in batches by a background thread."""

    THREAD_NAME = "shortapi-redis-journal"

    def __init__(self, client: Client, keys: Keys, scripts: Scripts, *, limit: int) -> None:
        super().__init__(limit=limit)
        self.r = client
        self.keys = keys
        self.scripts = scripts

    def _store(self, batch: list[str]) -> None:
        pipe = self.r.pipeline(transaction=False)
        for encoded in batch:
            self.scripts.journal_append(
                keys=[self.keys.seq_journal, self.keys.journal],
                args=[self.limit, encoded],
                client=pipe,
            )
        pipe.execute()

    def list(
        self, *, limit: int = 100, after: int = 0, match: Mapping[str, str] | None = None
    ) -> list[dict[str, Any]]:
        """Return the newest `limit` entries after id `after` that `match`, oldest first."""
        wanted = list((match or {}).items())
        for name, _ in wanted:
            if name not in JOURNAL_FIELDS:
                raise ValueError(f"cannot filter the journal by {name!r}")
        self.flush()
        time.sleep(2 * FLUSH_SECONDS)  # other processes store theirs within FLUSH_SECONDS
        if limit <= 0:
            return []
        last = int(self.r.get(self.keys.seq_journal) or 0)
        floor = max(after, last - self.limit)  # the entries kept have larger ids
        found: list[dict[str, Any]] = []
        top = "+"
        count = _PAGE if wanted else min(limit, _PAGE)
        while len(found) < limit:
            page = self.r.xrevrange(self.keys.journal, top, f"({floor}-0", count=count)
            for stream_id, fields in page:
                entry = {**json.loads(fields[b"e"]), "id": int(stream_id.split(b"-")[0])}
                if all(str(entry.get(k)) == v for k, v in wanted):
                    found.append(entry)
                    if len(found) >= limit:
                        break
            if len(page) < count:
                break
            top = f"({page[-1][0].decode()}"
        return found[::-1]
