"""Issue 24's headline: the default ``serve`` as users run it, beside Prism, in one run.

Cases (wrk, 1 thread, 16 connections, ``--seconds`` each after a warm-up):

* ``default``: ``shortapi-mock serve`` with no server or clock option (realtime clock, the
  default server, 2 workers x 2 threads, SQLite), creates carrying a ``callback_url`` to a
  live loopback receiver (`receiver.py`, answers 200); then its query path; then the
  delay of one create while 64 connections are stalled mid-request (half stopped in the
  headers, half in the body); the callbacks the receiver got during the create run beside
  the creates (warmed up past a job's life, as many jobs finish as start: 1.0x is keeping
  up); callbacks delivered per second (the receiver's count while the backlog of the
  create run drains); idle PSS (master + workers);
* ``manual``: the same with ``--clock manual`` (no job ever finishes, no callbacks);
* ``after-100k``: the default configuration on a store already holding 100,000 finished
  jobs, beside a fresh store's first creates (the same short run on each, alternated three
  times, medians);
* ``prism-silent``: Prism ``-v silent`` mocking the mock's OpenAPI document cut to the one
  model created (kling-o1 image-to-video), same requests.

Prints each figure beside its target and Prism's figure, writes ``reports/headline.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # see bench/__init__.py
from bench.common import CREATE_PATH, QUERY_PATH, ROOT, http, job_body, write_json
from bench.probes import rss_kb, wait_ready
from bench.servers import (
    BIN,
    HOST,
    PRISM_READY_PATH,
    SERVE_SETTINGS,
    Server,
    Servers,
    bare_command,
    ensure_prism,
    free_port,
    prism_command,
    prism_silent_flags,
)
from bench.wrk import Request, ensure_wrk, measure, run_wrk, write_lua

MODEL = "kwaivgi/kling-o1/image-to-video"
STALLED = 64
PREFILL = 100_000
ROUNDS = 3  # alternated short runs of the fresh and the 100,000-job stores
JOB_SECONDS = 10.0  # queued 2 s + processing 8 s: `serve`'s defaults
TARGETS = {"ratio": 1.0, "p99_ms": 25.0, "after_100k": 0.9, "stall_s": 1.0, "pss_mib": 60.0}


def serve(port: int, store: Path, *options: str, reset: bool = True) -> list[str]:
    """`shortapi-mock serve` with no server or clock option unless `options` give one."""
    command = [str(BIN / "shortapi-mock"), "serve", "--host", HOST, "--port", str(port)]
    command += ["--store", f"sqlite:{store}", *SERVE_SETTINGS, *options]
    return [*command, "--reset"] if reset else command


def create_body(receiver_port: int | None) -> bytes:
    """A valid create; with a callback_url to the receiver when it is given."""
    body: dict[str, Any] = job_body()
    if receiver_port is not None:
        body["callback_url"] = f"http://{HOST}:{receiver_port}/callback"
    return json.dumps(body).encode()


def received(port: int) -> int:
    """The receiver's count of callbacks."""
    return int(http(f"http://{HOST}:{port}/count")[1])


def stall_delay(port: int, body: bytes) -> float:
    """Hold `STALLED` connections mid-request; return how long one create then takes."""
    head = (
        f"POST {CREATE_PATH} HTTP/1.1\r\nHost: {HOST}\r\nAuthorization: Bearer k\r\n"
        "Content-Type: application/json\r\n"
    ).encode()
    held = []
    try:
        for index in range(STALLED):
            sock = socket.create_connection((HOST, port), timeout=5)
            if index % 2:
                sock.sendall(head + b"Content-Length: %d\r\n\r\n" % len(body) + body[:10])
            else:
                sock.sendall(head[:40])
            held.append(sock)
        time.sleep(0.2)
        started = time.perf_counter()
        status, _ = http(f"http://{HOST}:{port}{CREATE_PATH}", "POST", body, timeout=30)
        delay = time.perf_counter() - started
        return delay if status == 200 else float("inf")
    except OSError:
        return float("inf")
    finally:
        for sock in held:
            sock.close()


def drain_rate(port: int, seconds: float = 40.0) -> tuple[float, int]:
    """Callbacks per second while the backlog drains: from the first new arrival to the
    last, polled every 0.25 s until nothing arrives for 3 s (or `seconds` pass)."""
    start_count, deadline = received(port), time.monotonic() + seconds
    first = last = None
    count = start_count
    quiet_since = time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.25)
        now_count = received(port)
        if now_count > count:
            first = first or (time.monotonic(), count)
            last, count, quiet_since = (time.monotonic(), now_count), now_count, time.monotonic()
        elif first and time.monotonic() - quiet_since > 3:
            break
    if not first or not last or last[0] <= first[0]:
        return 0.0, count - start_count
    return (last[1] - first[1]) / (last[0] - first[0]), count - start_count


def prefill(store: Path, count: int) -> None:
    """Copy the one job in `store` into `count` finished jobs (ids unique, settled)."""
    db = sqlite3.connect(store)
    row = db.execute("SELECT owner, data FROM jobs LIMIT 1").fetchone()
    rows = ((f"{i:024x}", row[0], 0, 2, None, row[1]) for i in range(count))
    db.executemany(
        "INSERT INTO jobs (id, owner, polls, stage, next_event_at, data) VALUES (?,?,?,?,?,?)",
        rows,
    )
    db.commit()
    db.close()


def cut_document(document: dict[str, Any]) -> dict[str, Any]:
    """Return the OpenAPI document with every other model's args schema left out."""
    schemas = document["components"]["schemas"]
    keep = "KlingO1ImageToVideoArgs"
    dropped = {f"#/components/schemas/{n}" for n in schemas if n.endswith("Args") and n != keep}

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: walk(v) for k, v in node.items() if k not in dropped}
        if isinstance(node, list):
            kept = [i for i in node if not (isinstance(i, dict) and _refs(i) & dropped)]
            return [walk(i) for i in kept]
        return node

    cut = walk(document)
    for name in list(cut["components"]["schemas"]):
        if f"#/components/schemas/{name}" in dropped:
            del cut["components"]["schemas"][name]
    return dict(cut)


def _refs(node: Any) -> set[str]:
    text = json.dumps(node)
    return {part.split('"')[0] for part in text.split('"$ref": "')[1:]}


def cpu_seconds(pgid: int) -> float:
    """CPU seconds used so far by the processes of group `pgid`."""
    total = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Run every case; return the figures."""
    wrk = ensure_wrk()
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="shortapi-headline-") as name:
        tmp = Path(name)
        os.environ["FLOOR_DB"] = str(tmp / "floor.db")
        servers = Servers(tmp)
        with servers.session():
            rport = free_port()
            receiver = [sys.executable, str(ROOT / "bench" / "receiver.py"), str(rport)]
            servers.start("receiver", receiver, rport)
            time.sleep(0.5)
            hooked = create_body(rport)

            def start(
                label: str, command: Callable[[int], list[str]], path: str = "/_mock/health"
            ) -> Server:
                port = free_port()
                server = servers.start(label, command(port), port)
                wait_ready(server, path, 60, {"Authorization": "Bearer bench-key"})
                time.sleep(1)
                return server

            def load(
                server: Server,
                request: Request,
                seconds: float,
                warmup: float = args.warmup,
                hooks: int | None = None,
            ) -> dict[str, Any]:
                if warmup > 0:  # outside the CPU window
                    run_wrk(wrk, write_lua(tmp, request), server.url(request.path), warmup)
                before = cpu_seconds(server.proc.pid)
                hooked_before = received(hooks) if hooks else 0
                case = measure(wrk, tmp, server, request, seconds, 0)
                used = cpu_seconds(server.proc.pid) - before
                cpu_us = used / case.requests * 1e6 if case.requests else None
                figures = {
                    "rps": case.rps,
                    "p50_ms": case.p50_ms,
                    "p99_ms": case.p99_ms,
                    "ok": case.ok,
                    "cpu_us_per_request": cpu_us,
                }
                if hooks:  # warmed up past a job's life, as many fall due as are created
                    figures["callbacks_in_window"] = received(hooks) - hooked_before
                    figures["requests"] = case.requests
                return figures

            create = Request("create", "POST", CREATE_PATH, hooked)
            # the default serve, as users run it
            mock = start("default", lambda port: serve(port, tmp / "default.db"))
            figures["idle_pss_mib"] = (rss_kb(mock.proc.pid)[1] or 0) / 1024
            _, answer = http(mock.url(CREATE_PATH), "POST", hooked)
            job_id = json.loads(answer)["data"]["job_id"]
            query = Request("query", "GET", f"{QUERY_PATH}?id={job_id}")
            document = json.loads(http(mock.url("/openapi.json"))[1])
            # warmed up past a job's 10 s: its settling and callbacks run in the window too
            figures["default_create"] = load(
                mock, create, args.seconds, JOB_SECONDS + 1, hooks=rport
            )
            figures["callbacks_per_s"], figures["callbacks_drained"] = drain_rate(rport)
            figures["default_query"] = load(mock, query, args.seconds)
            figures["stall_delay_s"] = stall_delay(mock.port, hooked)
            servers.stop(mock)
            # the manual clock: nothing finishes, no callbacks
            manual = start("manual", lambda port: serve(port, tmp / "m.db", "--clock", "manual"))
            plain = Request("create", "POST", CREATE_PATH, create_body(None))
            figures["manual_create"] = load(manual, plain, args.seconds)
            servers.stop(manual)
            # after 100,000 jobs, beside a fresh store's first creates: short runs alternated,
            # `ROUNDS` of each, medians (one short run each swung 0.7x-1.3x on a noisy machine)
            big = tmp / "big.db"
            seed = start("seed", lambda port: serve(port, big))
            http(seed.url(CREATE_PATH), "POST", create_body(None))
            servers.stop(seed)
            prefill(big, PREFILL)
            runs: dict[str, list[dict[str, Any]]] = {"fresh": [], "after_100k": []}
            for round_number in range(ROUNDS):
                fresh_db = tmp / f"fresh-{round_number}.db"
                fresh = start("fresh", partial(serve, store=fresh_db))
                runs["fresh"].append(load(fresh, create, args.short))
                servers.stop(fresh)
                full_db = tmp / f"big-{round_number}.db"  # a copy: no backlog of a last round
                shutil.copyfile(big, full_db)
                full = start("after-100k", partial(serve, store=full_db, reset=False))
                runs["after_100k"].append(load(full, create, args.short))
                servers.stop(full)
            for label, cases in runs.items():
                figures[f"{label}_create"] = sorted(cases, key=lambda case: case["rps"])[
                    len(cases) // 2
                ]
                figures[f"{label}_create"]["rps_runs"] = [case["rps"] for case in cases]
            # the ceiling: a bare Flask app, and the least a create must do, same server
            for label in ("bare", "floor"):
                target = f"{label}_app:app"
                app = start(label, partial(bare_command, target=target), "/")
                figures[f"{label}_create"] = load(app, create, args.seconds)
                servers.stop(app)
            # Prism, the model alone
            prism = ensure_prism()
            spec = tmp / "kling-o1.json"
            spec.write_text(json.dumps(cut_document(document)))
            command = partial(prism_command, prism, spec, flags=prism_silent_flags(prism))
            peer = start("prism-silent", command, PRISM_READY_PATH)
            figures["prism_create"] = load(peer, create, args.seconds)
            figures["prism_query"] = load(peer, query, args.seconds)
            servers.stop(peer)
    return figures


def print_figures(f: dict[str, Any]) -> None:
    """Each figure beside its target and Prism's figure from this run."""
    prism, default = f["prism_create"]["rps"], f["default_create"]["rps"]
    d = f["default_create"]
    rows = [
        (
            "default serve create (callbacks on)",
            f"{default:,.0f} req/s",
            f">= {TARGETS['ratio']}x Prism",
            f"{default / prism:.2f}x",
            f"{prism:,.0f} req/s",
        ),
        (
            "  its p99 at 16 connections",
            f"{f['default_create']['p99_ms']:.1f} ms",
            f"<= {TARGETS['p99_ms']:.0f} ms",
            "",
            f"{f['prism_create']['p99_ms']:.1f} ms",
        ),
        (
            "manual clock create",
            f"{f['manual_create']['rps']:,.0f} req/s",
            "",
            "",
            f"{prism:,.0f} req/s",
        ),
        (
            "query",
            f"{f['default_query']['rps']:,.0f} req/s",
            "",
            "",
            f"{f['prism_query']['rps']:,.0f} req/s",
        ),
        (
            "create after 100k jobs / fresh",
            f"{f['after_100k_create']['rps']:,.0f} / {f['fresh_create']['rps']:,.0f} req/s",
            f">= {TARGETS['after_100k']}x",
            f"{f['after_100k_create']['rps'] / f['fresh_create']['rps']:.2f}x",
            "",
        ),
        (
            f"create delay, {STALLED} stalled connections",
            f"{f['stall_delay_s']:.3f} s",
            f"< {TARGETS['stall_s']:.0f} s",
            "",
            "",
        ),
        (
            "callbacks sent in the create run / creates",
            f"{d['callbacks_in_window']:,} / {d['requests']:,}",
            "",
            f"{d['callbacks_in_window'] / max(d['requests'], 1):.2f}x",
            "",
        ),
        ("callbacks delivered, backlog draining", f"{f['callbacks_per_s']:,.0f}/s", "", "", ""),
        (
            "server CPU per create: default / manual / floor / bare",
            " / ".join(
                f"{f[k]['cpu_us_per_request'] or 0:,.0f}"
                for k in ("default_create", "manual_create", "floor_create", "bare_create")
            )
            + " us",
            "",
            "",
            f"{f['prism_create']['cpu_us_per_request'] or 0:,.0f} us",
        ),
        (
            "idle PSS (master + workers)",
            f"{f['idle_pss_mib']:.1f} MiB",
            f"<= {TARGETS['pss_mib']:.0f} MiB",
            "",
            "",
        ),
    ]
    print(f"\n{'figure':<40} {'value':>22} {'target':>16} {'ratio':>7}  Prism -v silent")
    for what, value, target, ratio, peer in rows:
        print(f"{what:<40} {value:>22} {target:>16} {ratio:>7}  {peer}")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--short", type=float, default=3.0, help="the 100k comparison's runs")
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--output", default=str(ROOT / "reports" / "headline.json"))
    args = parser.parse_args()
    figures = run(args)
    print_figures(figures)
    write_json(args.output, figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
