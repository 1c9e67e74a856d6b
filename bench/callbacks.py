"""Callback figures: deliveries per second to a local receiver, and the delay between a
job's terminal status and its callback on the manual and the realtime clock.

Run by ``make bench`` (after bench/run.py); in-process apps, a loopback receiver.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # see bench/__init__.py
from bench.common import CREATE_PATH, auth, job_body, write_json
from mock_server import close_app, create_app
from mock_server.control import get_control
from mock_server.testing.receiver import CallbackReceiver

BODY = job_body(prompt="a cat")


@contextmanager
def served(config: Mapping[str, Any]) -> Iterator[tuple[Flask, FlaskClient, CallbackReceiver]]:
    """Yield an in-process app, its test client and a running receiver; close them after."""
    app = create_app(config)
    try:
        with CallbackReceiver() as receiver:
            yield app, app.test_client(), receiver
    finally:
        close_app(app)


def create_job(client: FlaskClient, receiver: CallbackReceiver) -> None:
    """Create one job whose callback goes to `receiver`."""
    client.post(CREATE_PATH, json={**BODY, "callback_url": receiver.url}, headers=auth())


def throughput(store: str, jobs: int) -> dict[str, Any]:
    """Create `jobs` jobs with a callback, advance once, time the deliveries."""
    with served({"STORE": store, "CLOCK": "manual"}) as (app, client, receiver):
        for _ in range(jobs):
            create_job(client, receiver)
        started = time.perf_counter()
        get_control(app).advance(10)
        elapsed = time.perf_counter() - started
        got = len(receiver.received)
    return {
        "store": store.split(":")[0],
        "jobs": jobs,
        "delivered": got,
        "seconds": round(elapsed, 3),
        "per_second": round(got / elapsed, 1),
    }


def manual_delay(samples: int) -> dict[str, Any]:
    """How long an advance that finishes one job takes to return with its callback sent."""
    delays = []
    with served({"STORE": "memory", "CLOCK": "manual"}) as (app, client, receiver):
        for _ in range(samples):
            create_job(client, receiver)
            started = time.perf_counter()
            get_control(app).advance(10)
            delays.append((time.perf_counter() - started) * 1000)
    return _summary(delays)


def realtime_delay(samples: int) -> dict[str, Any]:
    """Wall time from a job's terminal status (as the clock defines it) to its callback."""
    config = {
        "STORE": "memory",
        "CLOCK": "realtime",
        "QUEUED_SECONDS": 0.0,
        "PROCESSING_SECONDS": 0.2,
    }
    delays = []
    with served(config) as (_, client, receiver):
        for n in range(samples):
            time.sleep(random.uniform(0, 0.1))  # not in step with the dispatcher's tick
            created = time.time()
            create_job(client, receiver)
            got = receiver.wait_for(n + 1, timeout=10)[-1]
            delays.append((got.at - (created + 0.2)) * 1000)
    return _summary(delays)


def _summary(values: list[float]) -> dict[str, Any]:
    ordered = sorted(values)
    return {
        "samples": len(values),
        "median_ms": round(statistics.median(values), 2),
        "p90_ms": round(ordered[int(len(ordered) * 0.9) - 1], 2),
        "max_ms": round(max(values), 2),
    }


def main() -> int:
    """Print the figures and write them to reports/callbacks.json."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=500)
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--output", default="reports/callbacks.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rates = [throughput("memory", args.jobs), throughput(f"sqlite:{tmp}/cb.db", args.jobs)]
        delays = {"manual": manual_delay(args.samples), "realtime": realtime_delay(args.samples)}
    for row in rates:
        print(
            f"callbacks/s ({row['store']} store): {row['per_second']} "
            f"({row['delivered']} of {row['jobs']} in {row['seconds']} s)"
        )
    for mode, d in delays.items():
        print(
            f"terminal status -> callback ({mode} clock): median {d['median_ms']} ms, "
            f"p90 {d['p90_ms']} ms, max {d['max_ms']} ms over {d['samples']}"
        )
    delay_rows = {f"delay_{mode}": d for mode, d in delays.items()}
    write_json(args.output, {"throughput": rates, **delay_rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
