"""Create and query throughput of 1, 2 and 3 `shortapi-mock serve` processes sharing one store:
Redis (one redis-server started here, on loopback) beside SQLite (N processes on one file on
this host), in the same run.

Each process runs one worker (2 threads) on a port of its own, manual clock. A case runs one
wrk per process at once (1 thread, 8 connections each; a wrk script cannot spread one run
over several ports) and sums their requests per second; every answer must be a 2xx. The query
asks every process for one job created through the first, so each host reads the shared
state. Prints a table; writes reports/bench-stores.json. About 80 s.

Figures on a shared 2-core machine say how the stores compare on it, not what a host of its
own gives: the wrk clients, the mock processes and the store all share those cores.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # see bench/__init__.py
from bench.common import QUERY_PATH, ROOT, BenchError, write_json
from bench.probes import wait_ready
from bench.run import requests_for, seed_job
from bench.servers import HOST, Server, Servers, free_port, serve_command
from bench.wrk import RESULT_MARK, Request, ensure_wrk, write_lua

PROCESSES = (1, 2, 3)
CONNECTIONS = 8  # per wrk, one wrk per serve process
READY_TIMEOUT = 30.0
# One serve process: one worker of 2 threads, the manual clock.
ONE_WORKER = ("--clock", "manual", "--workers", "1", "--threads", "2")


def start_redis(servers: Servers, tmp: Path) -> str:
    """Start redis-server on a free loopback port (no persistence); return its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise BenchError("redis-server is not installed: apt-get install redis-server (as root)")
    port = free_port()
    command = [binary, "--port", str(port), "--bind", HOST, "--save", "", "--appendonly", "no"]
    server = servers.start("redis", [*command, "--dir", str(tmp)], port)
    client = redis.Redis(host=HOST, port=port)
    deadline = time.monotonic() + READY_TIMEOUT
    while True:
        with contextlib.suppress(redis.ConnectionError):
            if client.ping():
                break
        if server.proc.poll() is not None or time.monotonic() > deadline:
            raise BenchError(f"redis-server did not start:\n{server.log_tail()}")
        time.sleep(0.05)
    client.close()
    return f"redis://{HOST}:{port}/0"


def run_wrk(wrk: str, script: Path, url: str, seconds: float) -> dict[str, Any]:
    """Run one wrk (1 thread, CONNECTIONS) and return the JSON its done() hook printed."""
    command = [wrk, "-t1", f"-c{CONNECTIONS}", f"-d{max(1, round(seconds))}s"]
    command += ["--timeout", "5s", "-s", str(script), url]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    for line in done.stdout.splitlines():
        if line.startswith(RESULT_MARK):
            result: dict[str, Any] = json.loads(line.removeprefix(RESULT_MARK))
            return result
    raise BenchError(f"wrk printed no result line (exit {done.returncode}):\n{done.stderr}")


def measure(
    wrk: str, tmp: Path, mocks: list[Server], request: Request, seconds: float
) -> dict[str, Any]:
    """Run one wrk per mock at once; return the summed figures of `request`."""
    script = write_lua(tmp, request)
    with ThreadPoolExecutor(len(mocks)) as pool:
        list(pool.map(lambda m: run_wrk(wrk, script, m.url(request.path), 1), mocks))  # warm
        runs = list(pool.map(lambda m: run_wrk(wrk, script, m.url(request.path), seconds), mocks))
    rps = sum(r["requests"] / (r["duration_us"] / 1e6) for r in runs)
    failed = sum(
        r["non2xx"] + sum(v for k, v in r["errors"].items() if k != "status") for r in runs
    )
    return {
        "rps": round(rps, 1),
        "p99_ms": max(r["p99_us"] for r in runs) / 1000,
        "requests": sum(r["requests"] for r in runs),
        "failed": failed,
    }


def bench_store(
    wrk: str, tmp: Path, servers: Servers, kind: str, store: str, processes: int, seconds: float
) -> dict[str, Any]:
    """Serve `processes` mocks on `store`; measure create and query across them."""
    mocks = []
    for n in range(processes):  # one at a time: the first resets the store
        port = free_port()
        mock = servers.start(
            f"{kind}-{processes}-{n}", serve_command(port, store, *ONE_WORKER, reset=n == 0), port
        )
        wait_ready(mock, "/_mock/health", READY_TIMEOUT, {})
        mocks.append(mock)
    try:
        job_id = seed_job(mocks[0])
        figures = {r.name: measure(wrk, tmp, mocks, r, seconds) for r in requests_for(job_id)}
    finally:
        for mock in mocks:
            servers.stop(mock)
    row = {"store": kind, "processes": processes, **figures}
    print(
        f"  {kind:<7} x{processes}  create {figures['create']['rps']:>7.0f} req/s  "
        f"query {figures['query']['rps']:>7.0f} req/s"
        + ("  FAILED" if any(f["failed"] for f in figures.values()) else ""),
        flush=True,
    )
    return row


def table(rows: list[dict[str, Any]]) -> str:
    """Return the figures as a Markdown table (req/s, summed over the processes)."""
    lines = [
        "| store | processes | create req/s | query req/s | create p99 ms | query p99 ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        create, query = row["create"], row["query"]
        lines.append(
            f"| {row['store']} | {row['processes']} | {create['rps']:.0f} | {query['rps']:.0f} "
            f"| {create['p99_ms']:.1f} | {query['p99_ms']:.1f} |"
        )
    return "\n".join(lines)


def main() -> int:
    """Run every case; print the table; write the report; return 1 if a case failed."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0, help="per wrk run")
    parser.add_argument("--output", default=str(ROOT / "reports" / "bench-stores.json"))
    args = parser.parse_args()
    wrk = ensure_wrk()
    rows = []
    with tempfile.TemporaryDirectory(prefix="shortapi-bench-stores-") as tmp_name:
        tmp = Path(tmp_name)
        servers = Servers(tmp)
        with servers.session():
            redis_url = start_redis(servers, tmp)
            stores = {"sqlite": f"sqlite:{tmp}/state.db", "redis": redis_url}
            for processes in PROCESSES:
                for kind, store in stores.items():
                    rows.append(
                        bench_store(wrk, tmp, servers, kind, store, processes, args.seconds)
                    )
    print(table(rows))
    write_json(
        args.output,
        {"query_path": QUERY_PATH, "connections_per_process": CONNECTIONS, "cases": rows},
    )
    print(f"wrote {args.output}")
    return 1 if any(row[r]["failed"] for row in rows for r in ("create", "query")) else 0


if __name__ == "__main__":
    sys.exit(main())
