"""The Redis store's callback deliveries (a mixin of `RedisStore`): adding, claiming (one host
per attempt), saving, listing, counting and expiring them.

A delivery's JSON is in one hash, its claim (``claimed_until``, wall time) in another, and the
pending ones in a zset scored by due time. A claim reads the candidates first, then takes them
in one Lua step that re-checks each is still pending, due and unclaimed, so two hosts never
hold the same delivery; a host that dies holding one leaves a claim that simply runs out."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Collection, Iterator, Sequence
from typing import Any

from mock_server.state.protocol import DueClaim
from mock_server.state.records import Delivery
from mock_server.state.redis_conn import Client, Keys
from mock_server.state.redis_jobs import queue_delivery
from mock_server.state.redis_scripts import Scripts

_PAGE = 500  # pending deliveries read per round trip while looking for candidates
_EXPIRE_BATCH = 200


def delivery_of(raw: bytes, claimed_until: bytes | None) -> Delivery:
    """Build a delivery from its JSON and its claim."""
    delivery = Delivery(**json.loads(raw))
    delivery.claimed_until = float(claimed_until) if claimed_until else 0.0
    return delivery


class RedisDeliveries:
    """The delivery operations; `r`, `keys` and `scripts` are the store's."""

    r: Client
    keys: Keys
    scripts: Scripts

    def add_delivery(self, delivery: Delivery) -> int:
        delivery_id = int(self.r.incr(self.keys.seq_deliveries))
        pipe = self.r.pipeline(transaction=True)
        queue_delivery(pipe, self.keys, dataclasses.replace(delivery, id=delivery_id))
        pipe.execute()
        return delivery_id

    def _read_raw(self, ids: Sequence[bytes | str]) -> list[tuple[bytes, Delivery]]:
        """The deliveries `ids` still stored, in the order given, each with its JSON."""
        if not ids:
            return []
        reads = self.r.pipeline(transaction=False)
        reads.hmget(self.keys.deliveries, list(ids)).hmget(self.keys.claims, list(ids))
        data, claims = reads.execute()
        return [
            (raw, delivery_of(raw, claim)) for raw, claim in zip(data, claims, strict=True) if raw
        ]

    def _read(self, ids: Sequence[bytes | str]) -> list[Delivery]:
        return [delivery for _, delivery in self._read_raw(ids)]

    def _pending(self, now: float | str = "+inf") -> Iterator[list[tuple[bytes, Delivery]]]:
        """The pending deliveries due by `now` (with their JSON), a page at a time."""
        start = 0
        while True:
            ids = self.r.zrangebyscore(self.keys.pending, "-inf", now, start=start, num=_PAGE)
            if not ids:
                return
            yield [(raw, d) for raw, d in self._read_raw(ids) if d.state == "pending"]
            if len(ids) < _PAGE:
                return
            start += _PAGE

    def claim_due(self, claim: DueClaim) -> list[Delivery]:
        if claim.saved:
            self.save_deliveries(claim.saved)
        if claim.limit <= 0:
            return []
        candidates: list[Delivery] = []
        for page in self._pending(claim.now):
            candidates += [d for _, d in page if claim.takes(d)]
            if len(candidates) >= claim.limit:
                break
        candidates.sort(key=lambda d: (d.due_at, d.id))
        ids = [str(d.id) for d in candidates[: claim.limit]]
        if not ids:
            return []
        until = claim.wall + claim.hold
        taken = self.scripts.claim(
            keys=[self.keys.pending, self.keys.claims, self.keys.deliveries],
            args=[repr(claim.now), repr(claim.wall), repr(until), *ids],
        )
        claimed = [delivery_of(raw, repr(until).encode()) for raw in taken[1::2]]
        return sorted(claimed, key=lambda d: (d.due_at, d.id))

    def save_delivery(self, delivery: Delivery) -> None:
        self.save_deliveries([delivery])

    def save_deliveries(self, deliveries: Sequence[Delivery]) -> None:
        if not deliveries:
            return
        pipe = self.r.pipeline(transaction=True)
        for delivery in deliveries:
            queue_delivery(pipe, self.keys, delivery)
        pipe.execute()

    def list_deliveries(self, *, limit: int = 100, job_id: str | None = None) -> list[Delivery]:
        if limit <= 0:
            return []
        if job_id is None:
            ids: list[bytes] = self.r.zrevrange(self.keys.delivery_ids, 0, limit - 1)
            return self._read(ids[::-1])
        members = self.r.smembers(self.keys.job_deliveries(job_id))
        return self._read(sorted(members, key=int)[-limit:])

    def pending_due(self, now: float) -> int:
        return int(self.r.zcount(self.keys.pending, "-inf", now))

    def next_delivery_at(self) -> float | None:
        first = self.r.zrange(self.keys.pending, 0, 0, withscores=True)
        return float(first[0][1]) if first else None

    def count_due(self, now: float, *, skip_destinations: Collection[str] = ()) -> int:
        if not skip_destinations:
            return self.pending_due(now)
        return sum(
            1
            for page in self._pending(now)
            for _, d in page
            if d.destination not in skip_destinations
        )

    def expire_deliveries(self, queued_before: float, wall: float, note: dict[str, Any]) -> int:
        old = [
            (raw, d)
            for page in self._pending()
            for raw, d in page
            if d.claimed_until <= wall
            and (d.due_at if d.queued_at is None else d.queued_at) < queued_before
        ]
        expired = 0
        for start in range(0, len(old), _EXPIRE_BATCH):
            args: list[str | bytes] = [repr(wall)]
            for raw, delivery in old[start : start + _EXPIRE_BATCH]:
                delivery.state, delivery.claimed_until = "expired", 0.0
                delivery.attempts = [*delivery.attempts, dict(note)]
                args += [str(delivery.id), raw, json.dumps(delivery.to_dict())]
            expired += int(
                self.scripts.expire(
                    keys=[self.keys.pending, self.keys.claims, self.keys.deliveries], args=args
                )
            )
        return expired
