"""Where status changes are decided: a job's status is derived from the clock.

0 queued -> 1 processing -> 2 succeeded (with result) or 3 failed (refunded, error; a
variant reports 4).
Nothing sleeps: the status at any moment follows from when the job was created and
how long each phase lasts (or, on the per-poll clock, how often it was queried).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from mock_server import utctime
from mock_server.jobs import results
from mock_server.jobs.accounts import refund_of
from mock_server.jobs.status import WORDS, Stage, Status
from mock_server.state.protocol import StageMove, Store
from mock_server.state.records import Delivery, Job, Runtime


@dataclass(frozen=True)
class Change:
    """A status change acted on: the job, its new status and the clock time it happened."""

    job: Job
    status: int
    at: float


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
        return Status.QUEUED
    if ran < queued + processing or job.outcome.stuck:
        return Status.PROCESSING
    return Status(job.outcome.status)


def timeline(job: Job, runtime: Runtime, now: float) -> list[dict[str, Any]]:
    """Return the status changes reached so far, each with its clock time (or step)."""
    queued, processing = phases(job, runtime)
    start = 0.0 if runtime.clock == "per-poll" else job.created_at
    steps = [(Status.QUEUED, start), (Status.PROCESSING, start + queued)]
    if not job.outcome.stuck:
        steps.append((Status(job.outcome.status), start + queued + processing))
    ran = elapsed(job, runtime, now)
    return [{"status": s, "at": at} for s, at in steps if ran >= at - start]


def job_data(job: Job, runtime: Runtime, now: float, base_url: str) -> dict[str, Any]:
    """Return the ``data`` object of a query response for `job` at `now`."""
    return data_for(job, status(job, runtime, now), runtime, base_url)


def data_for(job: Job, current: int, runtime: Runtime, base_url: str) -> dict[str, Any]:
    """Return the ``data`` object describing `job` at status `current`: the job record as
    public clients decode it (A-query-data-id). Every value keeps one JSON type: strings stay
    strings, ``refunded`` is always a bool; ``error`` and ``finished_at`` appear once they
    hold something."""
    final = current in (Status.SUCCEEDED, Status.FAILED)
    queued, processing = phases(job, runtime)
    changed = {
        Status.QUEUED: 0.0,
        Status.PROCESSING: queued,
    }.get(Status(current), queued + processing)
    data: dict[str, Any] = {
        "id": job.id,
        "key_name": job.key_name,
        "model": job.model,
        "args": job.args,
        "status": reported(current, runtime),
        "credit": job.amount,
        "refunded": current == Status.FAILED,
        "created_at": timestamp(job.created_wall),
        "updated_at": timestamp(job.created_wall + changed),
    }
    if final:
        data["finished_at"] = data["updated_at"]
    if current == Status.SUCCEEDED:
        data["result"] = results.result(job, runtime.result_key, base_url)
    elif current == Status.FAILED:
        data["error"] = job.outcome.reason or "internal error"
    return data


def number(current: int, runtime: Runtime) -> int:
    """Return the status number a job at `current` reports (a failed job: 3, or 4 under the
    failed-status-4 variant)."""
    return runtime.failed_status if current == Status.FAILED else int(current)


def reported(current: int, runtime: Runtime) -> int | str:
    """Return the status as queries and callbacks send it: its number, or its word under the
    statuses-as-strings variant (A-status-strings)."""
    code = number(current, runtime)
    return WORDS[code] if runtime.status_form == "string" else code


def timestamp(wall: float) -> str:
    """Return unix time `wall` as the API's time string (A-job-timestamps): RFC 3339 in UTC
    with milliseconds, e.g. ``2026-12-01T09:34:12.123Z``."""
    return utctime.text(wall)


def first_event_at(job: Job, runtime: Runtime) -> float | None:
    """Return the clock time of a new job's first status change (None on per-poll)."""
    return None if runtime.clock == "per-poll" else job.created_at + job.queued_for


def _terminal_at(job: Job) -> float | None:
    return None if job.outcome.stuck else finishes_at(job)


Planner = Callable[["Change"], Sequence[Delivery]]
# Jobs settled per store transaction: one write for many, short enough that a request
# waiting for the write lock behind it waits a few milliseconds at most.
SETTLE_BATCH = 50


def finishes_at(job: Job) -> float:
    """Return the clock time a job that is not stuck reaches its final status."""
    return job.created_at + job.queued_for + job.processing_for


def settle_job(store: Store, job: Job, reached: int, plan: Planner) -> list[Change]:
    """Act once on each status change of `job` up to stage `reached` (STARTED or DONE).

    `plan` says which callback deliveries a change calls for; they are stored in the same
    transaction that marks the change as acted on, so a crash loses neither. Returns the
    changes this call made; another worker racing on the same job gets none.
    """
    changes: list[Change] = []
    stage = job.stage
    while stage < reached:
        move, change = next_move(job, stage, plan)
        if not store.move_stage(move):
            break
        changes.append(change)
        stage = move.new_stage
    return changes


def next_move(job: Job, stage: int, plan: Planner) -> tuple[StageMove, Change]:
    """Return the move that acts on `job`'s status change after `stage`, and the change."""
    if stage == Stage.NONE:
        change = Change(job, Status.PROCESSING, job.created_at + job.queued_for)
        new_stage, next_at, back = Stage.STARTED, _terminal_at(job), None
    else:
        final = Status(job.outcome.status)
        change = Change(job, final, _terminal_at(job) or job.created_at)
        new_stage, next_at = Stage.DONE, None
        back = refund_of(job.amount) if final == Status.FAILED else None
    return StageMove(job.id, stage, new_stage, next_at, back, plan(change)), change


def settle(store: Store, now: float, plan: Planner) -> list[Change]:
    """Act on every status change that has fallen due by clock time `now`, in time order:
    each round moves every due job one stage, all in one store transaction."""
    changes: list[Change] = []
    while due := store.due_jobs(now, limit=SETTLE_BATCH):
        planned = [next_move(job, job.stage, plan) for job in due]
        made = store.move_stages([move for move, _ in planned])
        step = [change for (_, change), ok in zip(planned, made, strict=True) if ok]
        if not step:  # every due job was taken by another worker meanwhile
            break
        changes += step
    changes.sort(key=lambda change: change.at)
    return changes


def reached_stage(job: Job, runtime: Runtime, now: float) -> int:
    """Return the stage (a `Stage`) the job's status has reached at `now`."""
    current = status(job, runtime, now)
    if current == Status.QUEUED:
        return Stage.NONE
    return Stage.STARTED if current == Status.PROCESSING else Stage.DONE
