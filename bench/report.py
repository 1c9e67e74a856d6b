"""The end of a bench run: the tables on stdout, the mock/other req/s ratios and
``reports/bench.json`` with the machine, the settings and every figure."""

from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.common import ROOT, job_body, write_json
from bench.probes import ServerResult
from bench.servers import THREADS, WORKERS
from bench.wrk import CONNECTIONS, WRK_THREADS, CaseResult


@dataclass
class Settings:
    """How the run was made, as recorded in the report."""

    seconds: float
    warmup: float
    output: Path
    wrk: str
    prism: Path | None
    prism_silent_flags: list[str]


def tool_version(command: Sequence[str]) -> str:
    """Return the first line a `--version`-like command prints (wrk prints it on exit 1)."""
    done = subprocess.run(list(command), capture_output=True, text=True, check=False)
    lines = (done.stdout + done.stderr).strip().splitlines()
    return lines[0].strip() if lines else "?"


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


def print_tables(
    servers: list[ServerResult], cases: list[CaseResult], computed: dict[str, float | str]
) -> None:
    """Print the cases, the servers' start-up and memory, and the ratios."""
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
    print("req/s ratios (>1: the mock is faster)")
    for key, value in computed.items():
        shown = f"{value:.2f}" if isinstance(value, float) else value
        print(f"  {key:<28} {shown}")


def document(
    settings: Settings,
    servers: list[ServerResult],
    cases: list[CaseResult],
    computed: dict[str, float | str],
) -> dict[str, Any]:
    """Return the content of bench.json."""
    prism = settings.prism
    return {
        "when": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "git_commit": _git_commit(),
        "settings": {
            "seconds": settings.seconds,
            "warmup_seconds": settings.warmup,
            "connections": CONNECTIONS,
            "wrk_threads": WRK_THREADS,
            "gunicorn": {"workers": WORKERS, "threads": THREADS, "worker_class": "gthread"},
            "wrk": tool_version([settings.wrk, "--version"]),
            "prism": tool_version([str(prism), "--version"]) if prism else None,
            "prism_silent_flags": settings.prism_silent_flags,
            "create_body": job_body(),
        },
        "servers": [asdict(s) for s in servers],
        "cases": [{**asdict(c), "ok": c.ok} for c in cases],
        "ratios": computed,
        "failed_cases": [c.case for c in cases if not c.ok],
    }


def report(settings: Settings, servers: list[ServerResult], cases: list[CaseResult]) -> int:
    """Print the tables, write the JSON report and return 1 if a case failed."""
    computed = ratios(cases)
    print_tables(servers, cases, computed)
    out = write_json(settings.output, document(settings, servers, cases, computed))
    print(f"\nwrote {out}")
    failed = [c.case for c in cases if not c.ok]
    if failed:
        print(f"FAILED (non-2xx answers or socket errors): {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def _git_commit() -> str | None:
    done = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    return done.stdout.strip() or None
