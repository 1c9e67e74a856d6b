"""Where status changes are decided: a job's status is derived from the clock.

0 queued -> 1 processing -> 2 succeeded (with result) or 3 failed (refunded, reason).
Nothing sleeps: the status at any moment follows from when the job was created and
how long each phase lasts (or, on the per-poll clock, how often it was queried).
"""

from __future__ import annotations

from typing import Any

from .store import Job, Runtime

QUEUED, PROCESSING, SUCCEEDED, FAILED = 0, 1, 2, 3
TERMINAL = (SUCCEEDED, FAILED)


def elapsed(job: Job, runtime: Runtime, now: float) -> float:
    """Return how far the job has run: clock seconds, or steps on the per-poll clock."""
    if runtime.clock == "per-poll":
        return float(max(job.polls - 1, 0))
    return now - job.created_at


def phases(job: Job, runtime: Runtime) -> tuple[float, float]:
    """Return how long the job stays queued and processing (steps on the per-poll clock)."""
    if runtime.clock == "per-poll":
        return 1.0, 1.0
    return job.queued_for, job.processing_for


def status(job: Job, runtime: Runtime, now: float) -> int:
    """Return the job's status at clock time `now`."""
    ran = elapsed(job, runtime, now)
    queued, processing = phases(job, runtime)
    if ran < queued:
        return QUEUED
    if ran < queued + processing:
        return PROCESSING
    return int(job.outcome["status"])


def timeline(job: Job, runtime: Runtime, now: float) -> list[dict[str, Any]]:
    """Return the status changes reached so far, each with its clock time (or step)."""
    queued, processing = phases(job, runtime)
    start = 0.0 if runtime.clock == "per-poll" else job.created_at
    steps = [
        (QUEUED, start),
        (PROCESSING, start + queued),
        (int(job.outcome["status"]), start + queued + processing),
    ]
    ran = elapsed(job, runtime, now)
    return [{"status": s, "at": at} for s, at in steps if ran >= at - start]


def job_data(job: Job, runtime: Runtime, now: float, file_url: str) -> dict[str, Any]:
    """Return the ``data`` object of a query response for `job` at `now`."""
    current = status(job, runtime, now)
    data: dict[str, Any] = {"id": job.id, "status": current}
    if current == SUCCEEDED:
        data["result"] = {runtime.result_key: [{"url": file_url}]}
    elif current == FAILED:
        data["refunded"] = True
        data["reason"] = str(job.outcome.get("reason", "internal error"))
    return data
