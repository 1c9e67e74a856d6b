"""Where state lives: jobs, the runtime settings (clock included) and the request journal.

Two stores share one interface: `MemoryStore` (default for tests, one process) and
`SQLiteStore` (`sqlite:PATH`, shared by several worker processes, survives a restart).
"""

from __future__ import annotations

import dataclasses
import threading
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from flask import Flask

from .errors import ConfigError


@dataclass
class Job:
    """One job as stored; its status is derived from the clock (see lifecycle.py)."""

    id: str
    owner: str  # the creating key's fingerprint, never the key
    model: str
    args: dict[str, Any]
    amount: str
    created_at: float  # clock seconds
    created_wall: float  # unix time, for display
    queued_for: float  # clock seconds spent queued
    processing_for: float  # clock seconds spent processing
    outcome: dict[str, Any] = field(default_factory=lambda: {"status": 2})
    callback_url: str | None = None
    polls: int = 0
    warnings: list[dict[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Return the job as a JSON-ready dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Job:
        """Build a job from `to_dict` output."""
        return cls(**data)


@dataclass
class Runtime:
    """Settings that may change while serving, shared by every worker."""

    clock: str = "realtime"  # realtime | manual | per-poll
    speed: float = 1.0
    origin_wall: float = 0.0  # wall time at which realtime clock offset was taken
    offset: float = 0.0  # clock seconds at origin_wall
    profile: str = "default"
    result_key: str = "images"
    queued_for: float = 2.0
    processing_for: float = 8.0

    def to_dict(self) -> dict[str, Any]:
        """Return the settings as a JSON-ready dict."""
        return dataclasses.asdict(self)


class Store(Protocol):
    """What every store offers. Methods are thread-safe and, for SQLite, process-safe."""

    def add_job(self, job: Job) -> None: ...
    def get_job(self, job_id: str) -> Job | None: ...
    def bump_polls(self, job_id: str) -> int: ...
    def list_jobs(self, *, limit: int = 100, owner: str | None = None) -> list[Job]: ...
    def count_jobs(self) -> int: ...
    def journal_append(self, entry: dict[str, Any]) -> int: ...
    def journal_list(self, *, limit: int = 100, after: int = 0) -> list[dict[str, Any]]: ...
    def runtime(self) -> Runtime: ...
    def update_runtime(self, change: Callable[[Runtime], Runtime]) -> Runtime: ...
    def reset(self, runtime: Runtime) -> None: ...
    def close(self) -> None: ...


class MemoryStore:
    """State in this process's memory: fast, gone when the process ends."""

    def __init__(self, *, journal_limit: int = 10_000, runtime: Runtime | None = None) -> None:
        self._lock = threading.Lock()
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._journal: deque[dict[str, Any]] = deque(maxlen=journal_limit)
        self._journal_seq = 0
        self._runtime = runtime or Runtime()

    def add_job(self, job: Job) -> None:
        with self._lock:
            if job.id in self._jobs:
                raise KeyError(f"duplicate job id {job.id}")
            self._jobs[job.id] = dataclasses.replace(job)

    def get_job(self, job_id: str) -> Job | None:
        with self._lock:
            job = self._jobs.get(job_id)
            return dataclasses.replace(job) if job else None

    def bump_polls(self, job_id: str) -> int:
        with self._lock:
            job = self._jobs[job_id]
            job.polls += 1
            return job.polls

    def list_jobs(self, *, limit: int = 100, owner: str | None = None) -> list[Job]:
        with self._lock:
            found = []
            for job in reversed(self._jobs.values()):
                if owner is None or job.owner == owner:
                    found.append(dataclasses.replace(job))
                    if len(found) >= limit:
                        break
            return found

    def count_jobs(self) -> int:
        with self._lock:
            return len(self._jobs)

    def journal_append(self, entry: dict[str, Any]) -> int:
        with self._lock:
            self._journal_seq += 1
            self._journal.append({**entry, "id": self._journal_seq})
            return self._journal_seq

    def journal_list(self, *, limit: int = 100, after: int = 0) -> list[dict[str, Any]]:
        with self._lock:
            entries = [e for e in self._journal if e["id"] > after]
        return entries[-limit:] if limit else []

    def runtime(self) -> Runtime:
        with self._lock:
            return dataclasses.replace(self._runtime)

    def update_runtime(self, change: Callable[[Runtime], Runtime]) -> Runtime:
        with self._lock:
            self._runtime = change(dataclasses.replace(self._runtime))
            return dataclasses.replace(self._runtime)

    def reset(self, runtime: Runtime) -> None:
        with self._lock:
            self._jobs.clear()
            self._journal.clear()
            self._runtime = dataclasses.replace(runtime)

    def close(self) -> None:
        """Nothing to release."""


def open_store(url: str, *, journal_limit: int = 10_000) -> Store:
    """Open the store named by `url`: ``memory`` or ``sqlite:PATH``."""
    if url == "memory":
        return MemoryStore(journal_limit=journal_limit)
    if url.startswith("sqlite:") and len(url) > len("sqlite:"):
        from .store_sqlite import SQLiteStore

        return SQLiteStore(url.removeprefix("sqlite:"), journal_limit=journal_limit)
    raise ConfigError(f"unknown store {url!r}; use 'memory' or 'sqlite:PATH'")


def init_app(app: Flask) -> None:
    """Open the configured store and attach it as ``app.extensions['shortapi.store']``."""
    store = open_store(app.config["STORE"], journal_limit=app.config["JOURNAL_LIMIT"])
    app.extensions["shortapi.store"] = store


def get_store(app: Flask) -> Store:
    """Return the app's store."""
    store: Store = app.extensions["shortapi.store"]
    return store
