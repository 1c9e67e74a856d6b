"""The wrk driver: install wrk, write the Lua script of one request, run it and read the
figures its ``done()`` hook prints into a `CaseResult`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import BenchError, auth, http
from bench.servers import Server

CONNECTIONS = 16
WRK_THREADS = 1  # as the issue measured: a second thread takes a core from the server
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
    for key, value in auth().items():
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


def case_result(server: str, request: str, raw: dict[str, Any]) -> CaseResult:
    """Turn the figures of one wrk run (microseconds) into a `CaseResult` (milliseconds)."""
    duration = raw["duration_us"] / 1e6
    return CaseResult(
        case=f"{server} {request}",
        server=server,
        request=request,
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
    result = case_result(server.name, request.name, run_wrk(wrk, script, url, seconds))
    flag = "" if result.ok else f"  FAILED: non-2xx {result.statuses} {result.socket_errors}"
    print(f"  {result.case:<24} {result.rps:>9.0f} req/s  p99 {result.p99_ms:.2f} ms{flag}")
    return result
