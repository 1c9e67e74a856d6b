"""Callback figures under dead receivers, each on a served mock (``shortapi-mock serve``, two
workers, SQLite store, loopback only, the default --callback-timeout of 5 s unless told):

* ``head_of_line``: 40 jobs whose callback_url is a silent receiver (a loopback socket that
  accepts and never answers), then one with a healthy receiver, realtime clock x10 (a job
  lasts one wall second): how long after its job finished the healthy callback arrived;
* ``advance``: manual clock, 10 jobs to the silent receiver and one to a healthy one, then
  ``POST /_mock/clock/advance {"seconds": 11}``: its wall time, and whether the healthy
  callback had arrived when it answered;
* ``backlog``: a store holding 20,000 pending deliveries to a host that does not resolve
  (queued just now, and queued two clock hours ago, past --callback-max-age): the wall time
  to the first answer after start, of a first create, a first query and a first advance.

Run ``python bench/backlog.py`` (``--timeout S`` for another callback timeout). Prints the
figures; writes reports/backlog.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # see bench/__init__.py
from bench.common import CREATE_PATH, QUERY_PATH, http, job_body, write_json
from bench.probes import wait_ready
from bench.servers import Server, Servers, free_port, serve_command
from mock_server import close_app, create_app, extensions
from mock_server.callbacks.lanes import destination_of
from mock_server.control import get_control
from mock_server.state.records import Delivery
from mock_server.testing.receiver import CallbackReceiver, SilentReceiver

BACKLOG = 20_000
DEAD_URL = "http://callbacks.dead.invalid/hook"  # .invalid never resolves (RFC 6761)


@contextmanager
def served(servers: Servers, database: Path, *options: str, reset: bool = True) -> Iterator[Server]:
    """Serve the mock on `database` with `options`; stop it after."""
    port = free_port()
    command = serve_command(port, database, *options, reset=reset)
    server = servers.start(f"mock-{port}", command, port)
    try:
        wait_ready(server, "/_mock/health", 30, {})
        yield server
    finally:
        servers.stop(server)


def post_json(server: Server, path: str, payload: Any, timeout: float = 120) -> tuple[int, Any]:
    """POST `payload` as JSON; return the status and the parsed answer."""
    status, body = http(server.url(path), "POST", json.dumps(payload).encode(), timeout)
    return status, json.loads(body or b"null")


def create_job(server: Server, callback_url: str) -> str:
    """Create a job calling back `callback_url`; return its id."""
    status, answer = post_json(server, CREATE_PATH, {**job_body(), "callback_url": callback_url})
    if status != 200:
        raise RuntimeError(f"create answered {status}: {answer}")
    return str(answer["data"]["job_id"])


def head_of_line(servers: Servers, tmp: Path, timeout: float) -> dict[str, Any]:
    """The healthy callback's delay behind 40 jobs calling a silent receiver."""
    options = ("--clock", "realtime", "--speed", "10", "--callback-timeout", str(timeout))
    with (
        SilentReceiver(backlog=512) as silent,
        CallbackReceiver() as healthy,
        served(servers, tmp / "hol.db", *options) as mock,
    ):
        for _ in range(40):
            create_job(mock, silent.url)
        created = time.time()
        create_job(mock, healthy.url)
        finished = created + 1.0  # 2 + 8 clock seconds at x10
        got = healthy.wait_for(1, timeout=120)[0]
        delay = got.at - finished
    return {"silent_jobs": 40, "delay_s": round(delay, 3), "silent_connections": silent.accepted}


def advance_wall(servers: Servers, tmp: Path, timeout: float) -> dict[str, Any]:
    """The wall time of an advance past 10 silent receivers and one healthy one."""
    options = ("--clock", "manual", "--callback-timeout", str(timeout))
    with (
        SilentReceiver(backlog=512) as silent,
        CallbackReceiver() as healthy,
        served(servers, tmp / "adv.db", *options) as mock,
    ):
        for _ in range(10):
            create_job(mock, silent.url)
        create_job(mock, healthy.url)
        started = time.perf_counter()
        status, _ = post_json(mock, "/_mock/clock/advance", {"seconds": 11})
        took = time.perf_counter() - started
        arrived = len(healthy.received)
    return {"status": status, "wall_s": round(took, 3), "healthy_delivered_before": arrived == 1}


def fill_backlog(database: Path, count: int, *, age: float) -> None:
    """Leave `count` pending deliveries to a dead host in the store at `database`, queued
    `age` clock seconds before the clock's present time."""
    app = create_app({"STORE": f"sqlite:{database}", "CLOCK": "manual", "BACKGROUND": False})
    try:
        control = get_control(app)
        control.advance(age + 100)  # the clock the next run starts from
        now = control.now()
        for n in range(count):
            extensions.store(app).add_delivery(
                Delivery(
                    id=0,
                    job_id=f"load-{n}",
                    url=DEAD_URL,
                    body={"code": 0, "data": {"job_id": f"load-{n}"}},
                    due_at=now - age,
                    destination=destination_of(DEAD_URL),
                    queued_at=now - age,
                )
            )
    finally:
        close_app(app)


def first_requests(
    servers: Servers, tmp: Path, *, count: int, age: float, timeout: float
) -> dict[str, Any]:
    """Start a mock on a store holding `count` pending deliveries queued `age` clock
    seconds ago; time its first answers."""
    database = tmp / f"backlog-{count}-{int(age)}.db"
    fill_backlog(database, count, age=age)
    options = ("--clock", "manual", "--callback-timeout", str(timeout))
    with CallbackReceiver() as healthy, served(servers, database, *options, reset=False) as mock:
        figures: dict[str, Any] = {"backlog": count, "queued_ago_clock_s": age}
        figures["ready_s"] = round(time.perf_counter() - mock.started, 3)
        started = time.perf_counter()
        job_id = create_job(mock, healthy.url)
        figures["first_create_ms"] = round((time.perf_counter() - started) * 1000, 1)
        started = time.perf_counter()
        http(mock.url(f"{QUERY_PATH}?id={job_id}"))
        figures["first_query_ms"] = round((time.perf_counter() - started) * 1000, 1)
        started = time.perf_counter()
        post_json(mock, "/_mock/clock/advance", {"seconds": 11})
        figures["first_advance_ms"] = round((time.perf_counter() - started) * 1000, 1)
        figures["healthy_delivered_before"] = len(healthy.received) == 1
        started = time.perf_counter()  # the backlog's retries fall due in this one
        post_json(mock, "/_mock/clock/advance", {"seconds": 11})
        figures["second_advance_ms"] = round((time.perf_counter() - started) * 1000, 1)
        time.sleep(2.0)
        _, listed = http(mock.url("/_mock/callbacks?limit=10000"))
        states: dict[str, int] = {}
        for delivery in json.loads(listed)["callbacks"]:
            states[delivery["state"]] = states.get(delivery["state"], 0) + 1
        figures["states_of_newest_10000_after_2s"] = states
    return figures


def main() -> int:
    """Print the figures and write them to reports/backlog.json."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--timeout", type=float, default=5.0, help="--callback-timeout")
    parser.add_argument("--output", default="reports/backlog.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, Servers(Path(folder)).session() as servers:
        tmp = Path(folder)
        hol = head_of_line(servers, tmp, args.timeout)
        adv = advance_wall(servers, tmp, args.timeout)
        empty = first_requests(servers, tmp, count=0, age=0.0, timeout=args.timeout)
        young = first_requests(servers, tmp, count=BACKLOG, age=0.0, timeout=args.timeout)
        old = first_requests(servers, tmp, count=BACKLOG, age=7200.0, timeout=args.timeout)
    print(f"callback timeout {args.timeout:g} s")
    print(
        f"head of line: healthy callback {hol['delay_s']} s after its job finished, behind "
        f"{hol['silent_jobs']} jobs calling a silent receiver "
        f"({hol['silent_connections']} connections to it)"
    )
    print(
        f"advance past 10 silent receivers + 1 healthy: {adv['wall_s']} s wall "
        f"(healthy delivered before it answered: {adv['healthy_delivered_before']})"
    )
    rows = (("none", empty), ("queued now", young), ("queued 2 clock hours ago", old))
    for label, row in rows:
        print(
            f"store with {row['backlog']} pending to a dead host ({label}): ready "
            f"{row['ready_s']} s, first create {row['first_create_ms']} ms, first query "
            f"{row['first_query_ms']} ms, first advance {row['first_advance_ms']} ms "
            f"(healthy delivered: {row['healthy_delivered_before']}), second advance "
            f"{row['second_advance_ms']} ms; after 2 s more: "
            f"{row['states_of_newest_10000_after_2s']}"
        )
    write_json(
        args.output,
        {
            "callback_timeout_s": args.timeout,
            "head_of_line": hol,
            "advance": adv,
            "backlog": [empty, young, old],
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
