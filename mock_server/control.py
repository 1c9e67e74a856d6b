"""The Python control API of a running mock: what the admin routes and test fixtures call.

`MockControl(app)` reads and changes the shared state: the clock, runtime settings,
jobs and the journal. The admin HTTP API is a thin layer over it.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from flask import Flask

from . import config as config_module
from . import lifecycle
from .clock import Clock, check_seconds, get_clock
from .errors import ConfigError
from .store import Job, Runtime, Store, get_store

_SETTINGS = {"profile": config_module.PROFILES, "result_key": config_module.RESULT_KEYS}


class MockControl:
    """Control one mock app from Python."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    @property
    def store(self) -> Store:
        """The app's store."""
        return get_store(self.app)

    @property
    def clock(self) -> Clock:
        """The app's clock."""
        return get_clock(self.app)

    def now(self) -> float:
        """Return the current clock time in seconds."""
        return self.clock.now()

    def advance(self, seconds: float) -> float:
        """Move the clock forward and return the new time."""
        return self.clock.advance(seconds)

    def set_clock(self, mode: str, *, speed: float | None = None) -> Runtime:
        """Switch the clock mode (and speed) without a jump in time."""
        return self.clock.set_mode(mode, speed=speed)

    def configure(self, **settings: Any) -> Runtime:
        """Change runtime settings: profile, result_key, queued_seconds, processing_seconds."""
        changes: dict[str, Any] = {}
        for name, value in settings.items():
            if name in _SETTINGS:
                if value not in _SETTINGS[name]:
                    raise ConfigError(f"{name} must be one of {_SETTINGS[name]}, not {value!r}")
                changes[name] = value
            elif name in ("queued_seconds", "processing_seconds"):
                changes[name.replace("_seconds", "_for")] = check_seconds(value)
            else:
                raise ConfigError(
                    f"unknown setting {name!r}; use profile, result_key, "
                    "queued_seconds or processing_seconds"
                )
        return self.store.update_runtime(lambda r: dataclasses.replace(r, **changes))

    def runtime(self) -> Runtime:
        """Return the current runtime settings."""
        return self.store.runtime()

    def reset(self) -> None:
        """Forget every job and journal entry and restore the configured settings."""
        self.store.reset(config_module.runtime_from(self.app.config, self.clock.wall()))

    def describe(self, job: Job, runtime: Runtime | None = None) -> dict[str, Any]:
        """Return an admin view of `job`: its request, status and timeline."""
        runtime = runtime or self.store.runtime()
        now = self.clock.now(runtime)
        return {
            "id": job.id,
            "key": job.owner,
            "model": job.model,
            "args": job.args,
            "callback_url": job.callback_url,
            "amount": job.amount,
            "status": lifecycle.status(job, runtime, now),
            "timeline": lifecycle.timeline(job, runtime, now),
            "outcome": job.outcome,
            "created_at": job.created_at,
            "created_wall": job.created_wall,
            "polls": job.polls,
            "warnings": job.warnings,
        }

    def jobs(self, *, key: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Return the newest jobs first, optionally only those of key fingerprint `key`."""
        runtime = self.store.runtime()
        return [self.describe(job, runtime) for job in self.store.list_jobs(limit=limit, owner=key)]

    def job(self, job_id: str) -> dict[str, Any] | None:
        """Return one job's admin view, or None."""
        job = self.store.get_job(job_id)
        return self.describe(job) if job else None

    def journal(self, *, limit: int = 100, after: int = 0) -> list[dict[str, Any]]:
        """Return journal entries, oldest first."""
        return self.store.journal_list(limit=limit, after=after)


def get_control(app: Flask) -> MockControl:
    """Return the control API of `app`."""
    control: MockControl = app.extensions["shortapi.control"]
    return control
