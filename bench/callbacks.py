"""Callback figures: deliveries per second to a local receiver, and the delay between a
job's terminal status and its callback on the manual and the realtime clock.

Run by ``make bench`` (after bench/run.py); in-process apps, a loopback receiver.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from mock_server import create_app
from mock_server.control.mock_control import get_control
from mock_server.testing.receiver import CallbackReceiver

BODY = {
    "model": "kwaivgi/kling-o1/image-to-video",
    "args": {
        "mode": "std",
        "action": "frame",
        "prompt": "a cat",
        "images": ["https://example.com/a.jpg"],
    },
}
AUTH = {"Authorization": "Bearer bench-key"}


def throughput(store: str, jobs: int) -> dict[str, Any]:
    """Create `jobs` jobs with a callback, advance once, time the deliveries."""
    app = create_app({"STORE": store, "CLOCK": "manual"})
    client = app.test_client()
    with CallbackReceiver() as receiver:
        for _ in range(jobs):
            client.post(
                "/api/v1/job/create", json={**BODY, "callback_url": receiver.url}, headers=AUTH
            )
        started = time.perf_counter()
        get_control(app).advance(10)
        elapsed = time.perf_counter() - started
        got = len(receiver.received)
    app.extensions["shortapi.callbacks"].stop()
    return {
        "store": store.split(":")[0],
        "jobs": jobs,
        "delivered": got,
        "seconds": round(elapsed, 3),
        "per_second": round(got / elapsed, 1),
    }


def manual_delay(samples: int) -> dict[str, Any]:
    """How long an advance that finishes one job takes to return with its callback sent."""
    app = create_app({"STORE": "memory", "CLOCK": "manual"})
    client = app.test_client()
    delays = []
    with CallbackReceiver() as receiver:
        for _ in range(samples):
            client.post(
                "/api/v1/job/create", json={**BODY, "callback_url": receiver.url}, headers=AUTH
            )
            started = time.perf_counter()
            get_control(app).advance(10)
            delays.append((time.perf_counter() - started) * 1000)
    app.extensions["shortapi.callbacks"].stop()
    return _summary(delays)


def realtime_delay(samples: int) -> dict[str, Any]:
    """Wall time from a job's terminal status (as the clock defines it) to its callback."""
    app = create_app(
        {"STORE": "memory", "CLOCK": "realtime", "QUEUED_SECONDS": 0.0, "PROCESSING_SECONDS": 0.2}
    )
    client = app.test_client()
    delays = []
    with CallbackReceiver() as receiver:
        for n in range(samples):
            time.sleep(random.uniform(0, 0.1))  # not in step with the dispatcher's tick
            created = time.time()
            client.post(
                "/api/v1/job/create", json={**BODY, "callback_url": receiver.url}, headers=AUTH
            )
            got = receiver.wait_for(n + 1, timeout=10)[-1]
            delays.append((got.at - (created + 0.2)) * 1000)
    app.extensions["shortapi.callbacks"].stop()
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
        results = {
            "throughput": [
                throughput("memory", args.jobs),
                throughput(f"sqlite:{tmp}/cb.db", args.jobs),
            ],
            "delay_manual": manual_delay(args.samples),
            "delay_realtime": realtime_delay(args.samples),
        }
    for row in results["throughput"]:
        print(
            f"callbacks/s ({row['store']} store): {row['per_second']} "
            f"({row['delivered']} of {row['jobs']} in {row['seconds']} s)"
        )
    for mode in ("manual", "realtime"):
        d = results[f"delay_{mode}"]
        print(
            f"terminal status -> callback ({mode} clock): median {d['median_ms']} ms, "
            f"p90 {d['p90_ms']} ms, max {d['max_ms']} ms over {d['samples']}"
        )
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
