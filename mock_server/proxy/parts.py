"""What one proxy app holds, and the getter the routes read it with."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from flask import Flask

from .budget import SpendCap
from .callbacks import CallbackRelay
from .findings import Findings
from .forward import Forwarder
from .recorder import ProxyRecorder

PARTS = "shortapi.proxy"  # the proxy's key in app.extensions (the mock's are in extensions.py)
JOBS_KEPT = 100_000  # job ids whose model and create item are remembered


@dataclass
class Parts:
    """The forwarder, the checks' report, the recording, the budget, the callbacks."""

    config: Mapping[str, Any]
    forwarder: Forwarder
    findings: Findings
    budget: SpendCap
    mock: Flask  # the mock app mounted at /_mock/, over the journal's store
    recorder: ProxyRecorder | None = None
    relay: CallbackRelay | None = None
    jobs: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (model, item)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def remember(self, job_id: str, model: str, item: str) -> None:
        """Remember the model and create item of job `job_id` (the oldest forgotten)."""
        with self._lock:
            if len(self.jobs) >= JOBS_KEPT:
                self.jobs.pop(next(iter(self.jobs)))
            self.jobs[job_id] = (model, item)

    def job(self, job_id: str) -> tuple[str | None, str]:
        """Return the model and create item of job `job_id` (None and "" if unknown)."""
        with self._lock:
            model, item = self.jobs.get(job_id, (None, ""))
        return model, item


def parts(app: Flask) -> Parts:
    """Return the proxy app's parts."""
    return cast(Parts, app.extensions[PARTS])
