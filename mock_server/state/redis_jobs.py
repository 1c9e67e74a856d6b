"""The Redis store's jobs and accounts (a mixin of `RedisStore`).

A job is a hash (``data``: the record's JSON without the fields that change in place;
``polls``, ``stage``, ``nea`` (next_event_at, empty for None), ``owner``, ``seq``), indexed by
creation order (all jobs, and per owner), by next_event_at (the due ones), and per owner the set
of jobs in flight (stage before DONE). What runs the policy's callables (an admission, an
account change, a re-plan) is a WATCH/MULTI transaction: Redis aborts it if another host
changed a watched key in between, and it runs again on fresh data."""

from __future__ import annotations

import dataclasses
import itertools
import json
from collections.abc import Callable, Sequence
from typing import Any

from mock_server.jobs.status import Stage
from mock_server.state.protocol import Admission, StageMove
from mock_server.state.records import Account, Delivery, Job
from mock_server.state.redis_conn import Client, Keys, Pipe, transact
from mock_server.state.redis_scripts import Scripts

_CHANGING = ("polls", "stage", "next_event_at")  # kept as hash fields, not in ``data``


def job_fields(job: Job, seq: int | None = None) -> dict[str, str | int]:
    """Return the hash fields of `job` (with its creation sequence when it is new)."""
    data = job.to_dict()
    for name in _CHANGING:
        del data[name]
    fields: dict[str, str | int] = {
        "data": json.dumps(data),
        "polls": int(job.polls),
        "stage": int(job.stage),
        "nea": "" if job.next_event_at is None else repr(job.next_event_at),
        "owner": job.owner,
    }
    if seq is not None:
        fields["seq"] = seq
    return fields


def job_of(fields: dict[bytes, bytes]) -> Job:
    """Build a job from its hash fields."""
    nea = fields[b"nea"]
    return Job.from_dict(
        {
            **json.loads(fields[b"data"]),
            "polls": int(fields[b"polls"]),
            "stage": int(fields[b"stage"]),
            "next_event_at": float(nea) if nea else None,
        }
    )


def account_of(raw: bytes | None) -> Account | None:
    """Build an account from its JSON (None: no account)."""
    return Account(**json.loads(raw)) if raw else None


def queue_delivery(pipe: Pipe, keys: Keys, delivery: Delivery) -> None:
    """Queue the writes that store `delivery` (its id set) in a MULTI block."""
    key = str(delivery.id)
    pipe.hset(keys.deliveries, key, json.dumps(delivery.to_dict()))
    pipe.hset(keys.claims, key, repr(delivery.claimed_until))
    pipe.zadd(keys.delivery_ids, {key: delivery.id})
    pipe.sadd(keys.job_deliveries(delivery.job_id), key)
    if delivery.state == "pending":
        pipe.zadd(keys.pending, {key: delivery.due_at})
    else:
        pipe.zrem(keys.pending, key)


class RedisJobs:
    """The job and account operations; `r`, `keys` and `scripts` are the store's."""

    r: Client
    keys: Keys
    scripts: Scripts

    # jobs
    def admit(self, job: Job, admission: Admission) -> None:
        if self._admit_unlimited(job, admission):
            return
        keys = self.keys
        job_key, account_key = keys.job(job.id), keys.account(job.owner)
        flight_key = keys.in_flight(job.owner)

        def run(pipe: Pipe) -> None:
            reads = self.r.pipeline(transaction=False)
            reads.incr(keys.seq_jobs).exists(job_key).get(account_key)
            seq, exists, raw = reads.execute()
            if exists:
                raise KeyError(f"duplicate job id {job.id}")

            def in_flight() -> int:
                # Watched only when the admission asks: every job of a key joins this set,
                # so watching it always would make a key's concurrent creates retry.
                pipe.watch(flight_key)
                return int(self.r.scard(flight_key))

            charged = admission(account_of(raw), in_flight)
            pipe.multi()
            pipe.hset(job_key, mapping=job_fields(job, seq))
            pipe.zadd(keys.jobs, {job.id: seq})
            pipe.zadd(keys.owner_jobs(job.owner), {job.id: seq})
            if job.stage != Stage.DONE:
                pipe.sadd(flight_key, job.id)
            if job.next_event_at is not None:
                pipe.zadd(keys.due, {job.id: job.next_event_at})
            if charged is not None:
                pipe.set(keys.account(charged.owner), json.dumps(charged.to_dict()))

        transact(self.r, run, job_key, account_key)

    def _admit_unlimited(self, job: Job, admission: Admission) -> bool:
        """Store `job` in one round trip if its key has no account (the common case: an
        unlimited key, nothing to charge); return False to admit it with its account."""
        try:
            if admission(None, lambda: self.in_flight(job.owner)) is not None:
                return False  # the policy would store an account: the transaction does
        except Exception:  # refused as unlimited: let the transaction decide on the account
            return False
        keys = self.keys
        fields = job_fields(job)
        nea = "" if job.next_event_at is None else repr(job.next_event_at)
        seq = int(
            self.scripts.admit_unlimited(
                keys=[
                    keys.job(job.id),
                    keys.account(job.owner),
                    keys.seq_jobs,
                    keys.jobs,
                    keys.owner_jobs(job.owner),
                    keys.in_flight(job.owner),
                    keys.due,
                ],
                args=[int(job.stage != Stage.DONE), nea, job.id, *itertools.chain(*fields.items())],
            )
        )
        if seq == -1:
            raise KeyError(f"duplicate job id {job.id}")
        return seq >= 0

    def get_job(self, job_id: str) -> Job | None:
        fields = self.r.hgetall(self.keys.job(job_id))
        return job_of(fields) if fields else None

    def _jobs(self, job_ids: list[bytes]) -> list[Job]:
        reads = self.r.pipeline(transaction=False)
        for job_id in job_ids:
            reads.hgetall(self.keys.job(job_id.decode()))
        return [job_of(fields) for fields in reads.execute() if fields]  # {}: reset meanwhile

    def bump_polls(self, job_id: str) -> int:
        polls = int(self.scripts.bump_polls(keys=[self.keys.job(job_id)]))
        if polls < 0:
            raise KeyError(job_id)
        return polls

    def list_jobs(self, *, limit: int = 100, owner: str | None = None) -> list[Job]:
        if limit <= 0:
            return []
        index = self.keys.jobs if owner is None else self.keys.owner_jobs(owner)
        return self._jobs(self.r.zrevrange(index, 0, limit - 1))

    def count_jobs(self) -> int:
        return int(self.r.zcard(self.keys.jobs))

    def replan_job(self, job_id: str, change: Callable[[Job], Job]) -> Job | None:
        job_key = self.keys.job(job_id)

        def run(pipe: Pipe) -> Job | None:
            fields = self.r.hgetall(job_key)
            if not fields or int(fields[b"stage"]) == Stage.DONE:
                return None
            new = change(job_of(fields))
            pipe.multi()
            stored = job_fields(new)
            del stored["stage"]  # as the other stores: a re-plan never moves the stage
            pipe.hset(job_key, mapping=stored)
            self._queue_due(pipe, job_id, new.next_event_at)
            return new

        result: Job | None = transact(self.r, run, job_key)
        return result

    def _queue_due(self, pipe: Pipe, job_id: str, next_event_at: float | None) -> None:
        if next_event_at is None:
            pipe.zrem(self.keys.due, job_id)
        else:
            pipe.zadd(self.keys.due, {job_id: next_event_at})

    def due_jobs(self, now: float, *, limit: int = 200) -> list[Job]:
        if limit <= 0:
            return []
        ids = self.r.zrangebyscore(self.keys.due, "-inf", now, start=0, num=limit)
        jobs = self._jobs(ids)
        return sorted(jobs, key=lambda j: (j.next_event_at or 0.0, j.created_at))

    def move_stages(self, moves: Sequence[StageMove]) -> list[bool]:
        return [self.move_stage(move) for move in moves]  # one transaction each

    def move_stage(self, move: StageMove) -> bool:
        keys = self.keys
        job_key = keys.job(move.job_id)

        def run(pipe: Pipe) -> bool:
            stage, owner = self.r.hmget(job_key, ["stage", "owner"])
            if stage is None or int(stage) != move.stage:
                return False
            account_key = keys.account(owner.decode())
            pipe.watch(account_key)  # the account change reads it: watched from here on
            reads = self.r.pipeline(transaction=False).get(account_key)
            if move.deliveries:
                reads.incrby(keys.seq_deliveries, len(move.deliveries))
            raw, *last = reads.execute()
            account = account_of(raw)
            pipe.multi()
            pipe.hset(job_key, mapping=job_fields_stage(move))
            self._queue_due(pipe, move.job_id, move.next_event_at)
            if move.new_stage == Stage.DONE:
                pipe.srem(keys.in_flight(owner.decode()), move.job_id)
            if move.account_change is not None and account is not None:
                changed = move.account_change(account)
                pipe.set(keys.account(changed.owner), json.dumps(changed.to_dict()))
            first = int(last[0]) - len(move.deliveries) + 1 if last else 0
            for n, delivery in enumerate(move.deliveries):
                queue_delivery(pipe, keys, dataclasses.replace(delivery, id=first + n))
            return True

        moved: bool = transact(self.r, run, job_key)
        return moved

    # accounts
    def get_account(self, owner: str) -> Account | None:
        return account_of(self.r.get(self.keys.account(owner)))

    def put_account(self, account: Account) -> Account:
        self.r.set(self.keys.account(account.owner), json.dumps(account.to_dict()))
        return account

    def in_flight(self, owner: str) -> int:
        return int(self.r.scard(self.keys.in_flight(owner)))


def job_fields_stage(move: StageMove) -> dict[str, Any]:
    """Return the hash fields a stage move writes."""
    nea = move.next_event_at
    return {"stage": int(move.new_stage), "nea": "" if nea is None else repr(nea)}
