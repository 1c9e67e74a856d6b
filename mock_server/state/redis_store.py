"""The Redis store: every piece of state in one Redis database, so several `shortapi-mock
serve` processes on one host or many, behind any load balancer, answer alike.

Jobs and accounts are in `redis_jobs.py`, callback deliveries in `redis_deliveries.py`, the
journal's batched writer in `redis_journal.py`, the Lua steps in `redis_scripts.py`, the
connection and key names in `redis_conn.py`. Here: the injections, counters, uploads, runtime
settings, reset and close. Records are stored as JSON; every key starts with the prefix."""

from __future__ import annotations

import json
from collections.abc import Callable

from mock_server.state.journal_buffer import JournalMethods
from mock_server.state.protocol import Pick, Upload
from mock_server.state.records import Injection, Runtime, runtime_from_json
from mock_server.state.redis_conn import (
    DEFAULT_PREFIX,
    Client,
    Keys,
    Pipe,
    connect,
    redact,
    transact,
)
from mock_server.state.redis_deliveries import RedisDeliveries
from mock_server.state.redis_jobs import RedisJobs
from mock_server.state.redis_journal import RedisJournal
from mock_server.state.redis_scripts import Scripts

_RESET_BATCH = 500  # keys deleted per round trip on reset


def _injection_of(raw: bytes) -> Injection:
    return Injection(**json.loads(raw))


class RedisStore(RedisJobs, RedisDeliveries, JournalMethods):
    """State in Redis, safe to share between threads, processes and hosts."""

    def __init__(
        self, url: str, *, journal_limit: int = 10_000, prefix: str = DEFAULT_PREFIX
    ) -> None:
        self.url = redact(url)  # never the password
        self.journal_limit = journal_limit
        self.r = connect(url)
        self.keys = Keys(prefix)
        self.scripts = Scripts.register(self.r)
        self.journal = RedisJournal(self.r, self.keys, self.scripts, limit=journal_limit)

    # scenarios and faults
    def add_injection(self, injection: Injection) -> int:
        injection_id = int(self.r.incr(self.keys.seq_injections))
        stored = Injection(**{**injection.to_dict(), "id": injection_id})
        self.r.hset(self.keys.injections, str(injection_id), json.dumps(stored.to_dict()))
        return injection_id

    def _injections(self, kind: str, client: Client | None = None) -> list[Injection]:
        raws = (client or self.r).hvals(self.keys.injections)
        found = [i for i in map(_injection_of, raws) if i.kind == kind]
        return sorted(found, key=lambda i: i.id)

    def take_injection(self, kind: str, pick: Pick) -> Injection | None:
        key = self.keys.injections

        def run(pipe: Pipe) -> Injection | None:
            chosen = pick(self._injections(kind, pipe))
            if chosen is None or chosen.remaining is None:
                return chosen
            pipe.multi()
            if chosen.remaining - 1 <= 0:
                pipe.hdel(key, str(chosen.id))
            else:
                left = {**chosen.to_dict(), "remaining": chosen.remaining - 1}
                pipe.hset(key, str(chosen.id), json.dumps(left))
            return chosen

        taken: Injection | None = transact(self.r, run, key)
        return taken

    def snapshot(self) -> tuple[Runtime, set[str]]:
        # One round trip per request for both: the settings and which kinds of injections wait.
        reads = self.r.pipeline(transaction=False)
        raw, injections = reads.get(self.keys.runtime).hvals(self.keys.injections).execute()
        return runtime_from_json(raw), {_injection_of(i).kind for i in injections}

    def list_injections(self, kind: str) -> list[Injection]:
        return self._injections(kind)

    def clear_injections(self, kind: str, key: str | None = None) -> None:
        ids = [str(i.id) for i in self._injections(kind) if key in (None, i.key)]
        if ids:  # a take that raced us retries (it watches the hash) and finds them gone
            self.r.hdel(self.keys.injections, *ids)

    def next_count(self, name: str) -> int:
        return int(self.r.hincrby(self.keys.counters, name, 1))

    # uploads
    def put_upload(self, upload: Upload, *, max_count: int, max_bytes: int) -> None:
        k = self.keys
        self.scripts.put_upload(
            keys=[k.uploads, k.upload_sizes, k.upload_types, k.upload_data, k.seq_uploads],
            args=[upload.id, upload.content_type, upload.data, max_count, max_bytes],
        )

    def get_upload(self, upload_id: str) -> Upload | None:
        reads = self.r.pipeline(transaction=False)
        reads.hget(self.keys.upload_types, upload_id).hget(self.keys.upload_data, upload_id)
        content_type, data = reads.execute()
        if content_type is None or data is None:
            return None
        return Upload(upload_id, content_type.decode(), bytes(data))

    # runtime, lifetime
    def runtime(self) -> Runtime:
        return runtime_from_json(self.r.get(self.keys.runtime))

    def update_runtime(self, change: Callable[[Runtime], Runtime]) -> Runtime:
        key = self.keys.runtime

        def run(pipe: Pipe) -> Runtime:
            new = change(runtime_from_json(pipe.get(key)))
            pipe.multi()
            pipe.set(key, json.dumps(new.to_dict()))
            return new

        updated: Runtime = transact(self.r, run, key)
        return updated

    def reset(self, runtime: Runtime) -> None:
        """Delete every key under the prefix but the id sequences (ids never repeat), and
        store `runtime`. Keys of other prefixes in the same database are left alone."""
        self.journal.discard_buffer()
        keep = f"{self.keys.prefix}seq:".encode()
        doomed: list[bytes] = []
        for key in self.r.scan_iter(match=self.keys.match_all(), count=1000):
            if not key.startswith(keep):
                doomed.append(key)
            if len(doomed) >= _RESET_BATCH:
                self.r.unlink(*doomed)
                doomed = []
        if doomed:
            self.r.unlink(*doomed)
        self.r.set(self.keys.runtime, json.dumps(runtime.to_dict()))

    def close(self) -> None:
        """Store the buffered journal entries, then close the connection pool."""
        self.journal.close()
        self.r.close()
