"""Benchmark the served mock against Prism and a bare Flask app, with wrk, in one run.

Cases (each a wrk run of ``--seconds`` at 16 connections, 2 threads, after a warm-up):

* ``bare``: `bench/bare_app.py` (``return {}``) under gunicorn, 2 gthread workers x 2 threads
  (as `serve` by default);
* ``mock``: ``shortapi-mock serve`` with the same worker settings and a SQLite store;
* ``prism-default`` / ``prism-silent``: Prism mocking the mock's own ``/openapi.json``,
  with its default logging (to a file) and with ``-v silent``.

Each server answers the same two requests: ``POST /api/v1/job/create`` with a valid body and
``GET /api/v1/job/query?id=<job created before the run>``. A wrk Lua script counts every
non-2xx answer; a case with any is reported as failed, never as throughput. The script
prints a table and the mock/Prism ratios, writes ``reports/bench.json`` and exits 1 if a
case failed. Every server is started in its own process group and killed at the end.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PRISM_PREFIX = ROOT / ".bench"
PRISM_BIN = PRISM_PREFIX / "node_modules" / ".bin" / "prism"
PRISM_PACKAGE = "@stoplight/prism-cli"
HOST = "127.0.0.1"
API_KEY = "bench-key"
AUTH = {"Authorization": f"Bearer {API_KEY}"}
CREATE_PATH = "/api/v1/job/create"
QUERY_PATH = "/api/v1/job/query"
CREATE_BODY = {
    "model": "kwaivgi/kling-o1/image-to-video",
    "args": {
        "mode": "std",
        "action": "frame",
        "prompt": "a cat walks",
        "images": ["https://example.com/a.jpg"],
    },
}
WORKERS = 2
THREADS = 2
CONNECTIONS = 16
WRK_THREADS = 2
RESULT_MARK = "BENCH_RESULT "

# Shared by both wrk scripts: count non-2xx answers per thread, then print one JSON line.
LUA_COMMON = r"""
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  non2xx = 0
  statuses = {}
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    local key = tostring(status)
    statuses[key] = (statuses[key] or 0) + 1
  end
end

function done(summary, latency, requests)
  local non = 0
  local merged = {}
  for _, thread in ipairs(threads) do
    non = non + thread:get("non2xx")
    for code, count in pairs(thread:get("statuses")) do
      merged[code] = (merged[code] or 0) + count
    end
  end
  local parts = {}
  for code, count in pairs(merged) do
    table.insert(parts, string.format('"%s":%d', code, count))
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,'
      .. '"p50_us":%.0f,"p90_us":%.0f,"p99_us":%.0f,"mean_us":%.1f,"max_us":%.0f,'
      .. '"non2xx":%d,"statuses":{%s},'
      .. '"errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d,"status":%d}}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.mean, latency.max, non, table.concat(parts, ","),
    e.connect, e.read, e.write, e.timeout, e.status))
end
"""


class BenchError(RuntimeError):
    """A set-up step failed; the message says what to do."""


@dataclass
class Request:
    """One of the two benchmarked requests."""

    name: str
    method: str
    path: str
    body: bytes | None = None


@dataclass
class CaseResult:
    """One wrk run against one server."""

    case: str
    server: str
    request: str
    seconds: float
    requests: int
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float
    non2xx: int
    statuses: dict[str, int]
    socket_errors: dict[str, int]

    @property
    def ok(self) -> bool:
        """Whether every answer was a 2xx and no socket failed."""
        return self.non2xx == 0 and not any(self.socket_errors.values())


@dataclass
class ServerResult:
    """Start-up time and memory of one server."""

    name: str
    command: list[str]
    startup_s: float
    rss_idle_kb: int
    rss_after_kb: int
    pss_idle_kb: int | None
    pss_after_kb: int | None
    processes: int
    log_bytes: int


# --- tools --------------------------------------------------------------------------------


def ensure_wrk() -> str:
    """Return the path of wrk, installing it with apt-get (as root) if it is missing."""
    found = shutil.which("wrk")
    if found:
        return found
    hint = "install wrk (Debian/Ubuntu: sudo apt-get install -y wrk; macOS: brew install wrk)"
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise BenchError(f"wrk is not installed and cannot be installed from here: {hint}")
    print("wrk not found: apt-get update && apt-get install -y wrk", flush=True)
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", "wrk"]):
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise BenchError(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}\n{hint}")
    found = shutil.which("wrk")
    if not found:
        raise BenchError(f"apt-get installed no wrk: {hint}")
    return found


def ensure_prism() -> Path:
    """Return Prism's launcher, installing it into .bench/ with npm if it is missing."""
    if PRISM_BIN.exists():
        return PRISM_BIN
    npm = shutil.which("npm")
    if not npm:
        raise BenchError("Prism needs Node.js and npm: install them (e.g. apt-get install npm)")
    print(f"Prism not found: npm install --prefix .bench {PRISM_PACKAGE}", flush=True)
    command = [npm, "install", "--prefix", str(PRISM_PREFIX), PRISM_PACKAGE]
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)
    if done.returncode != 0 or not PRISM_BIN.exists():
        raise BenchError(f"npm install of {PRISM_PACKAGE} failed:\n{done.stderr[-2000:]}")
    return PRISM_BIN


def prism_silent_flags(prism: Path) -> list[str]:
    """Return the flags that silence `prism mock`, read from its --help."""
    done = subprocess.run(
        [str(prism), "mock", "--help"], capture_output=True, text=True, check=False
    )
    help_text = done.stdout + done.stderr
    for line in help_text.splitlines():
        if "--verboseLevel" in line and '"silent"' in line:
            return ["-v", "silent"]
    raise BenchError(f"this Prism's `mock --help` offers no silent log level:\n{help_text}")


def tool_version(command: Sequence[str]) -> str:
    """Return the first line a `--version`-like command prints (wrk prints it on exit 1)."""
    done = subprocess.run(list(command), capture_output=True, text=True, check=False)
    lines = (done.stdout + done.stderr).strip().splitlines()
    return lines[0].strip() if lines else "?"


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


# --- processes ----------------------------------------------------------------------------


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rpartition(")")[2].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def process_tree(pid: int) -> list[int]:
    """Return `pid` and all its descendants."""
    tree = _children()
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(tree.get(current, []))
    return found


def _status_kb(path: Path, key: str) -> int:
    try:
        text = path.read_text()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def rss_kb(pid: int) -> tuple[int, int | None, int]:
    """Return (sum of VmRSS, sum of Pss or None, process count) over `pid`'s tree."""
    pids = process_tree(pid)
    rss = sum(_status_kb(Path(f"/proc/{p}/status"), "VmRSS") for p in pids)
    pss_values = [_status_kb(Path(f"/proc/{p}/smaps_rollup"), "Pss") for p in pids]
    pss = sum(pss_values) if all(pss_values) else None
    return rss, pss, len(pids)


class Server:
    """A server subprocess in its own process group, logging to a file."""

    def __init__(
        self, name: str, command: list[str], port: int, log_path: Path, env: dict[str, str]
    ) -> None:
        self.name = name
        self.port = port
        self.command = command
        self.log_path = log_path
        self._log: IO[bytes] = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group: Ctrl-C does not reach it, stop() kills all
        )

    def log_tail(self, chars: int = 3000) -> str:
        """Return the end of the server's log."""
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def wait_ready(self, path: str, timeout: float, headers: dict[str, str]) -> float:
        """Poll GET `path` until it answers 200; return the seconds since the start."""
        deadline = self.started + timeout
        request = urllib.request.Request(self.url(path), headers=headers)
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(
                    f"{self.name} exited with {self.proc.returncode} before it was ready; "
                    f"its log ends:\n{self.log_tail()}"
                )
            try:
                with urllib.request.urlopen(request, timeout=1) as answer:
                    if answer.status == 200:
                        return time.perf_counter() - self.started
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.02)
        raise BenchError(f"{self.name} not ready after {timeout:.0f}s:\n{self.log_tail()}")

    def url(self, path: str) -> str:
        """Return the absolute URL of `path` on this server."""
        return f"http://{HOST}:{self.port}{path}"

    def stop(self) -> None:
        """Terminate the whole process group, then kill what is left."""
        pgid = self.proc.pid  # start_new_session: the group id is the leader's pid
        with suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)
        with suppress(ProcessLookupError):  # workers of a stopped master, or a stuck leader
            os.killpg(pgid, signal.SIGKILL)
        if self.proc.poll() is None:
            self.proc.wait(timeout=5)
        self._log.close()


class Servers:
    """Starts servers and guarantees they are all stopped."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.running: list[Server] = []
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", "NO_COLOR": "1"}

    def start(self, name: str, command: list[str], port: int) -> Server:
        server = Server(name, command, port, self.tmp / f"{name}.log", self.env)
        self.running.append(server)
        return server

    def stop(self, server: Server) -> None:
        server.stop()
        self.running.remove(server)

    @contextmanager
    def session(self) -> Iterator[Servers]:
        try:
            yield self
        finally:
            for server in reversed(self.running):
                server.stop()
            self.running.clear()


# --- HTTP and wrk -------------------------------------------------------------------------


def http(
    url: str, method: str = "GET", body: bytes | None = None, timeout: float = 10
) -> tuple[int, bytes]:
    """Send one request with the bench key; return (status, body), errors included."""
    headers = dict(AUTH)
    if body is not None:
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def lua_string(text: str) -> str:
    """Return `text` as a Lua long-bracket string literal."""
    level = 0
    while f"]{'=' * level}]" in text:
        level += 1
    eq = "=" * level
    return f"[{eq}[{text}]{eq}]"


def write_lua(tmp: Path, request: Request) -> Path:
    """Write the wrk script that sends `request` with the bench key and counts non-2xx."""
    lines = [f'wrk.method = "{request.method}"']
    for key, value in AUTH.items():
        lines.append(f"wrk.headers[ {lua_string(key)} ] = {lua_string(value)}")
    if request.body is not None:
        lines.append('wrk.headers["Content-Type"] = "application/json"')
        lines.append(f"wrk.body = {lua_string(request.body.decode())}")
    path = tmp / f"{request.name}.lua"
    path.write_text("\n".join(lines) + "\n" + LUA_COMMON)
    return path


def run_wrk(wrk: str, script: Path, url: str, seconds: float) -> dict[str, Any]:
    """Run wrk once and return the JSON its done() hook printed."""
    command = [
        wrk,
        f"-t{WRK_THREADS}",
        f"-c{CONNECTIONS}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "5s",
        "-s",
        str(script),
        url,
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    for line in done.stdout.splitlines():
        if line.startswith(RESULT_MARK):
            result: dict[str, Any] = json.loads(line.removeprefix(RESULT_MARK))
            return result
    raise BenchError(
        f"wrk printed no result line (exit {done.returncode}):\n{done.stdout}\n{done.stderr}"
    )


def measure(
    wrk: str, tmp: Path, server: Server, request: Request, seconds: float, warmup: float
) -> CaseResult:
    """Check one request by hand, warm up, then run wrk and return its figures."""
    status, body = http(server.url(request.path), request.method, request.body)
    if not 200 <= status < 300:
        print(
            f"  ! {server.name} {request.name}: a single request answered {status}: "
            f"{body[:500].decode(errors='replace')}",
            flush=True,
        )
    script = write_lua(tmp, request)
    url = server.url(request.path)
    if warmup > 0:
        run_wrk(wrk, script, url, warmup)
    raw = run_wrk(wrk, script, url, seconds)
    duration = raw["duration_us"] / 1e6
    result = CaseResult(
        case=f"{server.name} {request.name}",
        server=server.name,
        request=request.name,
        seconds=round(duration, 3),
        requests=raw["requests"],
        rps=round(raw["requests"] / duration, 1) if duration else 0.0,
        p50_ms=raw["p50_us"] / 1000,
        p90_ms=raw["p90_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        mean_ms=round(raw["mean_us"] / 1000, 3),
        max_ms=raw["max_us"] / 1000,
        non2xx=raw["non2xx"],
        statuses=raw["statuses"],
        socket_errors={k: v for k, v in raw["errors"].items() if k != "status"},
    )
    flag = "" if result.ok else f"  FAILED: non-2xx {result.statuses} {result.socket_errors}"
    print(f"  {result.case:<24} {result.rps:>9.0f} req/s  p99 {result.p99_ms:.2f} ms{flag}")
    return result


# --- the run ------------------------------------------------------------------------------


def seed_job(server: Server) -> str:
    """Create the job that the query case asks for; return its id."""
    status, body = http(server.url(CREATE_PATH), "POST", json.dumps(CREATE_BODY).encode())
    if status != 200:
        raise BenchError(f"creating the seed job answered {status}: {body[:500]!r}")
    job_id: str = json.loads(body)["data"]["job_id"]
    return job_id


def bench_server(
    servers: Servers,
    name: str,
    command: list[str],
    port: int,
    ready_path: str,
    args: argparse.Namespace,
    wrk: str,
    prepare: Callable[[Server], list[Request]],
) -> tuple[ServerResult, list[CaseResult]]:
    """Start a server, measure start-up, idle RSS, the requests and RSS after; stop it.

    `prepare` runs once the idle RSS is taken and returns the requests to measure.
    """
    print(f"{name}: starting", flush=True)
    server = servers.start(name, command, port)
    startup = server.wait_ready(ready_path, args.startup_timeout, AUTH)
    time.sleep(args.settle)  # let every worker finish booting before the idle figure
    rss_idle, pss_idle, _ = rss_kb(server.proc.pid)
    requests = prepare(server)
    cases = [measure(wrk, servers.tmp, server, r, args.seconds, args.warmup) for r in requests]
    rss_after, pss_after, count = rss_kb(server.proc.pid)
    log_bytes = server.log_path.stat().st_size
    servers.stop(server)
    result = ServerResult(
        name=name,
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


def requests_for(job_id: str) -> list[Request]:
    """Return the two benchmarked requests, the query asking for `job_id`."""
    return [
        Request("create", "POST", CREATE_PATH, json.dumps(CREATE_BODY).encode()),
        Request("query", "GET", f"{QUERY_PATH}?id={job_id}"),
    ]


def run(args: argparse.Namespace) -> int:
    """Run every case; print the table; write the report; return the exit status."""
    wrk = ensure_wrk()
    prism = None if args.no_prism else ensure_prism()
    silent = prism_silent_flags(prism) if prism else []
    all_servers: list[ServerResult] = []
    all_cases: list[CaseResult] = []
    with tempfile.TemporaryDirectory(prefix="shortapi-bench-") as tmp_name:
        tmp = Path(tmp_name)
        servers = Servers(tmp)
        with servers.session():
            gunicorn_settings = ["--workers", str(WORKERS), "--threads", str(THREADS)]
            port = free_port()
            mock_command = [
                str(BIN / "shortapi-mock"),
                "serve",
                "--host",
                HOST,
                "--port",
                str(port),
                "--clock",
                "manual",
                "--store",
                f"sqlite:{tmp / 'bench.db'}",
                *gunicorn_settings,
                "--reset",
            ]
            document = tmp / "openapi.json"
            requests: list[Request] = []

            def prepare_mock(server: Server) -> list[Request]:
                status, body = http(server.url("/openapi.json"))
                if status != 200:
                    raise BenchError(f"GET /openapi.json answered {status}")
                document.write_bytes(body)
                requests.extend(requests_for(seed_job(server)))
                return requests

            mock, cases = bench_server(
                servers, "mock", mock_command, port, "/_mock/health", args, wrk, prepare_mock
            )
            all_servers.append(mock)
            all_cases += cases

            port = free_port()
            bare_command = [
                str(BIN / "gunicorn"),
                "--chdir",
                str(ROOT / "bench"),
                "--bind",
                f"{HOST}:{port}",
                *gunicorn_settings,
                "--worker-class",
                "gthread",
                "--keep-alive",
                "5",
                "--log-level",
                "warning",
                "bare_app:app",
            ]
            bare, cases = bench_server(
                servers, "bare", bare_command, port, "/", args, wrk, lambda _: requests
            )
            all_servers.append(bare)
            all_cases += cases

            if prism:
                for name, flags in (("prism-default", []), ("prism-silent", silent)):
                    port = free_port()
                    command = [
                        str(prism),
                        "mock",
                        str(document),
                        "-p",
                        str(port),
                        "-h",
                        HOST,
                        *flags,
                    ]
                    ready = f"{QUERY_PATH}?id=ready"
                    result, cases = bench_server(
                        servers, name, command, port, ready, args, wrk, lambda _: requests
                    )
                    all_servers.append(result)
                    all_cases += cases
    return report(args, all_servers, all_cases, prism, wrk, silent)


def ratios(cases: list[CaseResult]) -> dict[str, float | str]:
    """Return mock req/s over each other server's, per request ('n/a' if a side failed)."""
    by_case = {(c.server, c.request): c for c in cases}
    out: dict[str, float | str] = {}
    for other in ("prism-default", "prism-silent", "bare"):
        for request in ("create", "query"):
            mock, them = by_case.get(("mock", request)), by_case.get((other, request))
            if mock is None or them is None:
                continue
            key = f"mock/{other} {request}"
            if not (mock.ok and them.ok):
                out[key] = "n/a (non-2xx or socket errors)"
            else:
                out[key] = round(mock.rps / them.rps, 3) if them.rps else "n/a"
    return out


def report(
    args: argparse.Namespace,
    servers: list[ServerResult],
    cases: list[CaseResult],
    prism: Path | None,
    wrk: str,
    silent: list[str],
) -> int:
    """Print the tables, write the JSON report and return 1 if a case failed."""
    print()
    header = (
        f"{'case':<24} {'req/s':>9} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} "
        f"{'non-2xx':>8} {'sock err':>8}  status"
    )
    print(header)
    print("-" * len(header))
    for c in cases:
        status = "ok" if c.ok else "FAILED " + json.dumps(c.statuses)
        print(
            f"{c.case:<24} {c.rps:>9.0f} {c.p50_ms:>8.2f} {c.p90_ms:>8.2f} {c.p99_ms:>8.2f} "
            f"{c.non2xx:>8} {sum(c.socket_errors.values()):>8}  {status}"
        )
    print()
    print(f"{'server':<16} {'start-up s':>10} {'RSS idle MB':>12} {'RSS after MB':>13} procs")
    for s in servers:
        print(
            f"{s.name:<16} {s.startup_s:>10.2f} {s.rss_idle_kb / 1024:>12.1f} "
            f"{s.rss_after_kb / 1024:>13.1f} {s.processes:>5}"
        )
    print()
    computed = ratios(cases)
    print("req/s ratios (>1: the mock is faster)")
    for key, value in computed.items():
        shown = f"{value:.2f}" if isinstance(value, float) else value
        print(f"  {key:<28} {shown}")
    failed = [c.case for c in cases if not c.ok]
    document = {
        "when": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "git_commit": _git_commit(),
        "settings": {
            "seconds": args.seconds,
            "warmup_seconds": args.warmup,
            "connections": CONNECTIONS,
            "wrk_threads": WRK_THREADS,
            "gunicorn": {"workers": WORKERS, "threads": THREADS, "worker_class": "gthread"},
            "wrk": tool_version([wrk, "--version"]),
            "prism": tool_version([str(prism), "--version"]) if prism else None,
            "prism_silent_flags": silent,
            "create_body": CREATE_BODY,
        },
        "servers": [asdict(s) for s in servers],
        "cases": [{**asdict(c), "ok": c.ok} for c in cases],
        "ratios": computed,
        "failed_cases": failed,
    }
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(document, indent=2) + "\n")
    print(f"\nwrote {out}")
    if failed:
        print(f"FAILED (non-2xx answers or socket errors): {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def _git_commit() -> str | None:
    done = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    return done.stdout.strip() or None


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="per case (default 10)")
    parser.add_argument("--quick", action="store_true", help="3 s per case")
    parser.add_argument("--warmup", type=float, default=1.0, help="warm-up seconds per case")
    parser.add_argument("--no-prism", action="store_true", help="skip the Prism cases")
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
