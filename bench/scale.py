"""Memory per job at 100k jobs, and query latency with 1k vs 100k jobs stored (in process,
memory store, manual clock). Prints the figures; writes reports/scale.json."""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # see bench/__init__.py
from bench.common import CREATE_PATH, QUERY_PATH, auth, job_body, write_json
from mock_server import create_app

BODY = job_body(prompt="a cat walks in Kyoto")
TARGET_BYTES = 1024  # per job at 100k jobs (issue 15)
AUTH = auth("scale-key")


def create_job(client: FlaskClient) -> str:
    """Create one job; return its id."""
    answer: dict[str, Any] = client.post(CREATE_PATH, json=BODY, headers=AUTH).get_json()
    job_id: str = answer["data"]["job_id"]
    return job_id


def query_latency_us(client: FlaskClient, job_ids: list[str], samples: int) -> float:
    """Median microseconds of a query, over `samples` queries of stored jobs."""
    times = []
    for n in range(samples):
        job_id = job_ids[(n * 7919) % len(job_ids)]
        started = time.perf_counter()
        client.get(f"{QUERY_PATH}?id={job_id}", headers=AUTH)
        times.append((time.perf_counter() - started) * 1e6)
    return statistics.median(times)


def main() -> int:
    """Fill a store to 1k and to N jobs; measure memory and query latency."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=3000)
    args = parser.parse_args()
    latency: dict[int, float] = {}
    per_job = 0.0
    for target in (1_000, args.jobs):
        app = create_app(
            {
                "STORE": "memory",
                "CLOCK": "manual",
                "BACKGROUND": False,
                "MAX_JOBS": target,
                "JOURNAL_LIMIT": 1,
            }
        )
        client = app.test_client()
        gc.collect()
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        job_ids = [create_job(client) for _ in range(target)]
        gc.collect()
        per_job = (tracemalloc.get_traced_memory()[0] - base) / target
        tracemalloc.stop()
        latency[target] = query_latency_us(client, job_ids, args.samples)
    result = {
        "jobs": args.jobs,
        "bytes_per_job": round(per_job),
        "target_bytes_per_job": TARGET_BYTES,
        "target_met": per_job <= TARGET_BYTES,
        "query_us_1k": round(latency[1_000], 1),
        f"query_us_{args.jobs // 1000}k": round(latency[args.jobs], 1),
        "ratio": round(latency[args.jobs] / latency[1_000], 3),
    }
    print(
        f"memory store: {per_job / 1024:.2f} KiB per job at {args.jobs} jobs; query median "
        f"{latency[1_000]:.0f} us at 1k jobs, {latency[args.jobs]:.0f} us at "
        f"{args.jobs // 1000}k (ratio {result['ratio']}); target <= {TARGET_BYTES / 1024:.0f} KiB "
        f"per job: {'met' if result['target_met'] else 'NOT met'}"
    )
    write_json("reports/scale.json", result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
