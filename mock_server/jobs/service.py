"""The create and query flow the routes call: where a job is made, admitted, read back and
settled on the per-poll clock. Plain Python: the routes hand over what the request said
(owner, validated args, scenario tokens) and the parts of the app; HTTP stays in `api/`.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from mock_server.catalog.pricing import amount
from mock_server.clock import Clock
from mock_server.errors import (
    BALANCE_DEPLETED,
    CONCURRENCY_LIMITED,
    NOT_FOUND,
    ApiError,
    echoed,
)
from mock_server.jobs import accounts, lifecycle, scenarios
from mock_server.jobs.accounts import AdmissionError
from mock_server.jobs.status import Status
from mock_server.state.protocol import Store
from mock_server.state.records import Injection, Job, Runtime
from mock_server.validation.request import CreateRequest


class Settler(Protocol):
    """What the service needs of the callback dispatcher (`callbacks/dispatcher.py`)."""

    def settle(self, now: float) -> object:
        """Act on every status change due by `now`."""

    def planner(self, now: float) -> lifecycle.Planner:
        """Return what says which callbacks a status change calls for."""


@dataclass(frozen=True)
class JobService:
    """The job flow over one app's store, clock and dispatcher."""

    store: Store
    clock: Clock
    settler: Settler
    prices: Mapping[str, Mapping[str, str]]

    def scenario(
        self, header: str | None, prompt: object, waiting: Callable[[], Injection | None]
    ) -> list[str]:
        """Return the scenario tokens of a create: the header's and the prompt's markers,
        else the waiting scenario that serves it (`waiting` takes one)."""
        chosen = scenarios.tokens(header) if header else []
        chosen += scenarios.prompt_tokens(prompt)
        if not chosen and (injection := waiting()):
            chosen = scenarios.tokens(injection.spec["scenario"])
        return chosen

    def create(
        self,
        owner: str,
        valid: CreateRequest,
        chosen: list[str],
        runtime: Runtime,
        base_url: str,
        *,
        key_name: str = "",
    ) -> Job:
        """Make the job a valid create asks for, with the fate `chosen` tokens give it, and
        store it if the key's account admits it (else raise the API's 429)."""
        outcome, processing_for = scenarios.fate(chosen, runtime.processing_for)
        wall = self.clock.wall()  # one reading: the id's seconds and created_at agree
        job = Job(
            id=new_job_id(wall),
            owner=owner,
            model=valid.model.id,
            args=valid.args,
            amount=amount(valid.model, valid.args, self.prices),
            created_at=self.clock.now(runtime),
            created_wall=wall,
            queued_for=runtime.queued_for,
            processing_for=processing_for,
            outcome=outcome,
            callback_url=valid.callback_url,
            base_url=base_url,
            warnings=[p.as_dict() for p in echoed(valid.warnings)],  # bounded, as echoed
            key_name=key_name,
        )
        job.next_event_at = lifecycle.first_event_at(job, runtime)
        self._admit(job, runtime)
        return job

    def _admit(self, job: Job, runtime: Runtime) -> None:
        """Store the job if its key's account allows (A-balance-depleted,
        A-concurrency-limit)."""
        try:
            try:
                self.store.admit(job, accounts.admission(job.amount))
            except AdmissionError:
                # Refunds and finished jobs may not be settled yet: settle, then ask again.
                self.settler.settle(self.clock.now(runtime))
                self.store.admit(job, accounts.admission(job.amount))
        except AdmissionError as refused:
            raise _refusal(job, refused) from None

    def find(self, owner: str | None, job_id: str) -> Job:
        """Return the job `job_id` (of `owner`, unless None), or raise the API's 404."""
        job = self.store.get_job(job_id)
        if job is None or (owner is not None and job.owner != owner):
            raise unknown_job(job_id)
        return job

    def query(self, owner: str, job_id: str, runtime: Runtime) -> tuple[Job, float]:
        """Return the job `owner` asks for and the clock time it is seen at; on the
        per-poll clock a query counts as a step and settles what it reached."""
        job = self.find(owner, job_id)
        now = self.clock.now(runtime)
        if runtime.clock == "per-poll":
            job.polls = self.store.bump_polls(job.id)
            reached = lifecycle.reached_stage(job, runtime, now)
            if reached > job.stage:
                lifecycle.settle_job(self.store, job, reached, self.settler.planner(now))
        return job, now

    def succeeded(self, job_id: str) -> Job:
        """Return the succeeded job `job_id` whose result file is asked for, or raise 404."""
        job = self.find(None, job_id)
        runtime = self.store.runtime()
        if lifecycle.status(job, runtime, self.clock.now(runtime)) != Status.SUCCEEDED:
            raise ApiError(
                404,
                NOT_FOUND,
                f"job {job.id} has no result yet; download it once query answers status 2",
            )
        return job


def new_job_id(wall: float) -> str:
    """Return a new job id shaped like the live API's (A-job-id-format): 24 lowercase hex
    characters, an ObjectId's layout: 4 bytes of unix seconds, then 8 random bytes, so ids
    from every worker and every restart are unique and sort by creation second."""
    return f"{int(wall) & 0xFFFFFFFF:08x}{secrets.token_hex(8)}"


def unknown_job(job_id: str) -> ApiError:
    """Return the API's answer to a job id it does not know (for this key)."""
    return ApiError(
        404,
        NOT_FOUND,
        f"job not found: {job_id[:100]}; query with the job_id "
        "that create returned, using the same API key",
    )


def _refusal(job: Job, refused: AdmissionError) -> ApiError:
    if refused.reason == "balance":
        return ApiError(
            429,
            BALANCE_DEPLETED,
            f"insufficient balance: the job costs {job.amount}, the balance is "
            f"{refused.account.balance}; top up the account",
        )
    return ApiError(
        429,
        CONCURRENCY_LIMITED,
        f"too many jobs in flight: {refused.in_flight} of "
        f"{refused.account.max_in_flight} allowed for this key; wait for one "
        "to finish",
        headers={"Retry-After": "1"},
    )
