"""Where state lives: the records (`records.py`), one protocol per kind of state
(`protocol.py`), the memory and SQLite backends. Every piece of mutable state is here, so
several worker processes on one SQLite file answer alike. No Flask, no policy.
"""

from __future__ import annotations

from mock_server.errors import ConfigError
from mock_server.state.protocol import Store


def open_store(url: str, *, journal_limit: int = 10_000, max_jobs: int = 100_000) -> Store:
    """Open the store named by `url`: ``memory`` or ``sqlite:PATH``.

    The memory store keeps at most `max_jobs` jobs, forgetting the oldest finished ones;
    the SQLite store keeps every job (it lives on disk).
    """
    if url == "memory":
        from mock_server.state.memory import MemoryStore

        return MemoryStore(journal_limit=journal_limit, max_jobs=max_jobs)
    if url.startswith("sqlite:") and len(url) > len("sqlite:"):
        from mock_server.state.sqlite import SQLiteStore

        return SQLiteStore(url.removeprefix("sqlite:"), journal_limit=journal_limit)
    raise ConfigError(f"unknown store {url!r}; use 'memory' or 'sqlite:PATH'")


__all__ = ["Store", "open_store"]
