"""Where state lives: the records (`records.py`), one protocol per kind of state
(`protocol.py`), the memory, SQLite and Redis backends. Every piece of mutable state is here,
so several worker processes on one SQLite file, or several hosts on one Redis, answer alike.
No Flask, no policy.
"""

from __future__ import annotations

from mock_server.errors import ConfigError
from mock_server.state.protocol import Store


def open_store(url: str, *, journal_limit: int = 10_000, max_jobs: int = 100_000) -> Store:
    """Open the store named by `url`: ``memory``, ``sqlite:PATH`` or
    ``redis://HOST:PORT/DB`` (``rediss://`` for TLS; the password in the URL or in
    SHORTAPI_MOCK_REDIS_PASSWORD).

    The memory store keeps at most `max_jobs` jobs, forgetting the oldest finished ones;
    the SQLite and Redis stores keep every job (until a reset).
    """
    if url == "memory":
        from mock_server.state.memory import MemoryStore

        return MemoryStore(journal_limit=journal_limit, max_jobs=max_jobs)
    if url.startswith("sqlite:") and len(url) > len("sqlite:"):
        from mock_server.state.sqlite import SQLiteStore

        return SQLiteStore(url.removeprefix("sqlite:"), journal_limit=journal_limit)
    if url.startswith(("redis://", "rediss://")):
        from mock_server.state.redis_store import RedisStore

        return RedisStore(url, journal_limit=journal_limit)
    raise ConfigError(
        f"unknown store {url.split('@')[-1]!r}; use 'memory', 'sqlite:PATH' or "
        "'redis://HOST:PORT/DB'"
    )


__all__ = ["Store", "open_store"]
