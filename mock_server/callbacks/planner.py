"""What is sent when: the deliveries a settled status change calls for (A-callback-events),
with the job's adversarial callback mode applied (drop, duplicate, delay:S, out-of-order).
The body is A-callback-body: the query response's shape plus ``data.job_id``."""

from __future__ import annotations

from typing import Any

from mock_server.callbacks.lanes import destination_of
from mock_server.jobs import lifecycle
from mock_server.jobs.lifecycle import Change
from mock_server.jobs.status import Status
from mock_server.state.records import Delivery, Job, Runtime
from mock_server.urls import is_http_url


def planner(runtime: Runtime, now: float) -> lifecycle.Planner:
    """Return what `lifecycle.settle` calls to learn a change's deliveries at `now`."""

    def plan(change: Change) -> list[Delivery]:
        job = change.job
        if not job.callback_url or not is_http_url(job.callback_url):
            return []
        if change.status == Status.PROCESSING and runtime.callback_events != "all":
            return []
        data = lifecycle.data_for(job, change.status, runtime, job.base_url)
        body = {"code": 0, "data": {**data, "job_id": job.id}}
        return variants(job, change, body, now)

    return plan


def variants(job: Job, change: Change, body: dict[str, Any], now: float) -> list[Delivery]:
    """Apply the job's adversarial callback setting (scenario ``callback:...``)."""
    mode = job.outcome.callback or ""
    due = min(change.at, now)
    url = str(job.callback_url)
    base = Delivery(
        id=0,
        job_id=job.id,
        url=url,
        body=body,
        due_at=due,
        destination=destination_of(url),
        queued_at=now,
    )
    if mode == "drop":
        base.state = "dropped"
        return [base]
    if mode == "duplicate":
        return [base, Delivery(**{**base.to_dict(), "attempts": []})]
    if mode.startswith("delay:"):
        base.due_at = due + float(mode.removeprefix("delay:"))
    elif mode == "out-of-order" and change.status == Status.PROCESSING and not job.outcome.stuck:
        # Sent just after the terminal callback, as a late network would.
        base.due_at = lifecycle.finishes_at(job) + 0.001
    return [base]
