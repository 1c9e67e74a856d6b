"""Benchmark the served mock against Prism and a bare Flask app, with wrk, in one run.

Cases (each a wrk run of ``--seconds`` at 16 connections, 1 wrk thread, after a warm-up):

* ``mock``: ``shortapi-mock serve --server gunicorn --clock manual`` (the default server,
  2 workers x 2 threads, every model loaded, a SQLite store, the journal on);
* ``bare``: `bench/bare_app.py` (``return {}``) under the same server and settings: the
  ceiling of that server;
* ``mock-granian`` / ``bare-granian``: the same two under granian, measured in the same
  run (``--server`` picks the first pair's server, ``--no-compare`` leaves the second
  pair out);
* ``prism-default`` / ``prism-silent``: Prism mocking the mock's own ``/openapi.json``,
  with its default logging (to a file) and with ``-v silent``.

Each server answers the same two requests: ``POST /api/v1/job/create`` with a valid body and
``GET /api/v1/job/query?id=<job created before the run>``. A wrk Lua script counts every
non-2xx answer; a case with any is reported as failed, never as throughput. The script
prints a table, the mock/Prism ratios and issue 15's targets (each figure beside its target
and the peer's figure from this run, met or not), writes ``reports/bench.json`` and exits 1
if a case failed (a missed target is reported, not an error). Every server is started in
its own process group and killed at the end.

The parts: `servers` (what is started, and stopping it), `probes` (start-up and memory),
`wrk` (the load and its figures), `report` (the tables and bench.json).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # see bench/__init__.py
from bench.common import CREATE_PATH, QUERY_PATH, ROOT, BenchError, auth, http, job_body
from bench.probes import ServerResult, rss_kb, wait_ready
from bench.report import Settings, report
from bench.servers import (
    HTTP_SERVERS,
    PRISM_READY_PATH,
    Server,
    Servers,
    bare_command,
    ensure_prism,
    free_port,
    mock_command,
    prism_command,
    prism_silent_flags,
)
from bench.wrk import CaseResult, Request, ensure_wrk, measure


def seed_job(server: Server) -> str:
    """Create the job that the query case asks for; return its id."""
    status, body = http(server.url(CREATE_PATH), "POST", json.dumps(job_body()).encode())
    if status != 200:
        raise BenchError(f"creating the seed job answered {status}: {body[:500]!r}")
    job_id: str = json.loads(body)["data"]["job_id"]
    return job_id


def requests_for(job_id: str) -> list[Request]:
    """Return the two benchmarked requests, the query asking for `job_id`."""
    return [
        Request("create", "POST", CREATE_PATH, json.dumps(job_body()).encode()),
        Request("query", "GET", f"{QUERY_PATH}?id={job_id}"),
    ]


@dataclass
class Target:
    """One server to benchmark: its command for a port, its ready path, what to ask it.

    `prepare` runs once the idle RSS is taken and returns the requests to measure.
    """

    name: str
    command: Callable[[int], list[str]]
    ready_path: str
    prepare: Callable[[Server], list[Request]]


def bench_server(
    servers: Servers, target: Target, args: argparse.Namespace, wrk: str
) -> tuple[ServerResult, list[CaseResult]]:
    """Start a server, measure start-up, idle RSS, the requests and RSS after; stop it."""
    port = free_port()
    command = target.command(port)
    print(f"{target.name}: starting", flush=True)
    server = servers.start(target.name, command, port)
    startup = wait_ready(server, target.ready_path, args.startup_timeout, auth())
    time.sleep(args.settle)  # let every worker finish booting before the idle figure
    rss_idle, pss_idle, _ = rss_kb(server.proc.pid)
    requests = target.prepare(server)
    cases = [measure(wrk, servers.tmp, server, r, args.seconds, args.warmup) for r in requests]
    rss_after, pss_after, count = rss_kb(server.proc.pid)
    log_bytes = server.log_path.stat().st_size
    servers.stop(server)
    result = ServerResult(
        name=target.name,
        command=command,
        startup_s=round(startup, 3),
        rss_idle_kb=rss_idle,
        rss_after_kb=rss_after,
        pss_idle_kb=pss_idle,
        pss_after_kb=pss_after,
        processes=count,
        log_bytes=log_bytes,
    )
    return result, cases


def http_servers(args: argparse.Namespace) -> list[str]:
    """Return the HTTP servers to run the mock and the bare app under, `args.server` first."""
    others = [] if args.no_compare else [s for s in HTTP_SERVERS if s != args.server]
    return [args.server, *others]


def run(args: argparse.Namespace) -> int:
    """Run every case; print the table; write the report; return the exit status."""
    wrk = ensure_wrk()
    prism = None if args.no_prism else ensure_prism()
    silent = prism_silent_flags(prism) if prism else []
    all_servers: list[ServerResult] = []
    all_cases: list[CaseResult] = []
    with tempfile.TemporaryDirectory(prefix="shortapi-bench-") as tmp_name:
        tmp = Path(tmp_name)
        document = tmp / "openapi.json"
        requests: list[Request] = []

        def prepare_mock(server: Server) -> list[Request]:
            status, body = http(server.url("/openapi.json"))
            if status != 200:
                raise BenchError(f"GET /openapi.json answered {status}")
            document.write_bytes(body)
            requests.extend(requests_for(seed_job(server)))
            return requests

        def same_requests(_: Server) -> list[Request]:
            return requests

        def seeded_again(server: Server) -> list[Request]:
            return requests_for(seed_job(server))  # its own store: its own seed job

        # The mock goes first: it serves the document Prism mocks and creates the seed job.
        targets = []
        for index, server in enumerate(http_servers(args)):
            suffix = "" if index == 0 else f"-{server}"
            mock = partial(mock_command, database=tmp / f"bench{suffix}.db", server=server)
            prepare = prepare_mock if index == 0 else seeded_again
            targets.append(Target(f"mock{suffix}", mock, "/_mock/health", prepare))
            targets.append(
                Target(f"bare{suffix}", partial(bare_command, server=server), "/", same_requests)
            )
        if prism:
            for name, flags in (("prism-default", []), ("prism-silent", silent)):
                command = partial(prism_command, prism, document, flags=flags)
                targets.append(Target(name, command, PRISM_READY_PATH, same_requests))
        servers = Servers(tmp)
        with servers.session():
            for target in targets:
                result, cases = bench_server(servers, target, args, wrk)
                all_servers.append(result)
                all_cases += cases
    settings = Settings(
        server=args.server,
        seconds=args.seconds,
        warmup=args.warmup,
        output=Path(args.output),
        wrk=wrk,
        prism=prism,
        prism_silent_flags=silent,
    )
    return report(settings, all_servers, all_cases)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Return the command-line options; ``--quick`` sets 3 s per case."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="per case (default 10)")
    parser.add_argument("--quick", action="store_true", help="3 s per case")
    parser.add_argument("--warmup", type=float, default=1.0, help="warm-up seconds per case")
    parser.add_argument("--no-prism", action="store_true", help="skip the Prism cases")
    parser.add_argument(
        "--server", choices=HTTP_SERVERS, default="gunicorn", help="the mock's and bare app's"
    )
    parser.add_argument(
        "--no-compare", action="store_true", help="skip the other server's mock and bare app"
    )
    parser.add_argument("--output", default=str(ROOT / "reports" / "bench.json"))
    parser.add_argument("--startup-timeout", type=float, default=60.0)
    parser.add_argument(
        "--settle", type=float, default=1.0, help="seconds between ready and the idle RSS"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds = 3.0
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; 0 if every case passed, 1 if one failed, 2 if set-up failed."""
    args = parse_args(argv)

    def terminate(signum: int, _frame: Any) -> None:
        raise SystemExit(128 + signum)  # unwinds through every finally: servers stop

    signal.signal(signal.SIGTERM, terminate)
    signal.signal(signal.SIGHUP, terminate)
    try:
        return run(args)
    except BenchError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("bench: interrupted; servers stopped", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
