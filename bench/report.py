"""The end of a bench run: the tables on stdout, the mock/other req/s ratios, issue 15's
targets (`targets`) and ``reports/bench.json`` with the machine, the settings and every
figure."""

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

    server: str
    seconds: float
    warmup: float
    output: Path
    wrk: str
    prism: Path | None
    prism_silent_flags: list[str]


@dataclass
class TargetLine:
    """One target of issue 15: this run's figure, the target, the peer's figure, met."""

    what: str
    figure: str
    target: str
    peer: str
    peer_figure: str
    met: bool | None  # None: a side is missing or failed


CREATE_RATIO, CREATE_P99_MS, QUERY_RATIO = 1.0, 10.0, 0.8
IDLE_PSS_MIB, STARTUP_S = 60.0, 0.5


SERVER_NAMES = ("granian", "gunicorn")


def target_lines(
    servers: list[ServerResult], cases: list[CaseResult], primary: str = "granian"
) -> list[TargetLine]:
    """Return issue 15's served targets, each beside the peer's figure from this run: for the
    mock under `primary` (cases ``mock``, ``bare``) and, when the run measured it, under the
    other server (``mock-<server>``, ``bare-<server>``)."""
    lines = []
    for name in (primary, *[n for n in SERVER_NAMES if n != primary]):
        suffix = "" if name == primary else f"-{name}"
        if any(s.name == "mock" + suffix for s in servers):
            lines += _server_targets(servers, cases, suffix, name)
    return lines


def _server_targets(
    servers: list[ServerResult], cases: list[CaseResult], suffix: str, label: str
) -> list[TargetLine]:
    case = {(c.server, c.request): c for c in cases if c.ok}
    server = {s.name: s for s in servers}
    mock, prism = case.get(("mock" + suffix, "create")), case.get(("prism-silent", "create"))
    lines = []
    if mock and prism:
        ratio = mock.rps / prism.rps
        lines.append(
            TargetLine(
                f"{label}: create req/s vs Prism -v silent",
                f"{mock.rps:,.0f} ({ratio:.2f}x)",
                f">= {CREATE_RATIO}x",
                "prism",
                f"{prism.rps:,.0f} req/s",
                ratio >= CREATE_RATIO,
            )
        )
    else:
        lines.append(
            TargetLine(
                f"{label}: create req/s vs Prism -v silent",
                f"{mock.rps:,.0f}" if mock else "n/a",
                f">= {CREATE_RATIO}x",
                "prism",
                "n/a",
                None,
            )
        )
    if mock:
        peer = f"{prism.p99_ms:.1f} ms" if prism else "n/a"
        lines.append(
            TargetLine(
                f"{label}: create p99 at 16 connections",
                f"{mock.p99_ms:.1f} ms",
                f"<= {CREATE_P99_MS:g} ms",
                "prism",
                peer,
                mock.p99_ms <= CREATE_P99_MS,
            )
        )
    query, bare = case.get(("mock" + suffix, "query")), case.get(("bare" + suffix, "query"))
    if query and bare:
        ratio = query.rps / bare.rps
        lines.append(
            TargetLine(
                f"{label}: query req/s vs bare Flask, same server",
                f"{query.rps:,.0f} ({ratio:.2f}x)",
                f">= {QUERY_RATIO}x",
                "bare",
                f"{bare.rps:,.0f} req/s",
                ratio >= QUERY_RATIO,
            )
        )
    idle, peer_server = server.get("mock" + suffix), server.get("prism-silent")
    if idle:
        pss = idle.pss_idle_kb / 1024 if idle.pss_idle_kb else None
        peer_pss = peer_server.pss_idle_kb if peer_server and peer_server.pss_idle_kb else None
        lines.append(
            TargetLine(
                f"{label}: idle memory, PSS over {idle.processes} processes",
                f"{pss:.1f} MiB" if pss is not None else "n/a",
                f"<= {IDLE_PSS_MIB:g} MiB",
                "prism",
                f"{peer_pss / 1024:.1f} MiB" if peer_pss else "n/a",
                pss <= IDLE_PSS_MIB if pss is not None else None,
            )
        )
        startup = f"{peer_server.startup_s:.2f} s" if peer_server else "n/a"
        lines.append(
            TargetLine(
                f"{label}: start-up to the first answer",
                f"{idle.startup_s:.2f} s",
                f"<= {STARTUP_S} s",
                "prism",
                startup,
                idle.startup_s <= STARTUP_S,
            )
        )
    return lines


def tool_version(command: Sequence[str]) -> str:
    """Return the first line a `--version`-like command prints (wrk prints it on exit 1)."""
    done = subprocess.run(list(command), capture_output=True, text=True, check=False)
    lines = (done.stdout + done.stderr).strip().splitlines()
    return lines[0].strip() if lines else "?"


def ratios(cases: list[CaseResult]) -> dict[str, float | str]:
    """Return mock req/s over each other server's, per request ('n/a' if a side failed)."""
    by_case = {(c.server, c.request): c for c in cases}
    out: dict[str, float | str] = {}
    pairs = [("mock", o) for o in ("prism-default", "prism-silent", "bare", "mock-gunicorn")]
    pairs += [("mock-gunicorn", "bare-gunicorn"), ("bare", "bare-gunicorn")]
    for name, other in pairs:
        for request in ("create", "query"):
            mock, them = by_case.get((name, request)), by_case.get((other, request))
            if mock is None or them is None:
                continue
            key = f"{name}/{other} {request}"
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
    print(
        f"{'server':<16} {'start-up s':>10} {'PSS idle MiB':>12} {'RSS idle MiB':>12} "
        f"{'RSS after MiB':>13} procs"
    )
    for s in servers:
        pss = f"{s.pss_idle_kb / 1024:.1f}" if s.pss_idle_kb else "?"
        print(
            f"{s.name:<16} {s.startup_s:>10.2f} {pss:>12} {s.rss_idle_kb / 1024:>12.1f} "
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
            "server": settings.server,
            "server_settings": {"workers": WORKERS, "threads": THREADS},
            "wrk": tool_version([settings.wrk, "--version"]),
            "prism": tool_version([str(prism), "--version"]) if prism else None,
            "prism_silent_flags": settings.prism_silent_flags,
            "create_body": job_body(),
        },
        "servers": [asdict(s) for s in servers],
        "cases": [{**asdict(c), "ok": c.ok} for c in cases],
        "ratios": computed,
        "targets": [asdict(line) for line in target_lines(servers, cases, settings.server)],
        "failed_cases": [c.case for c in cases if not c.ok],
    }


def report(settings: Settings, servers: list[ServerResult], cases: list[CaseResult]) -> int:
    """Print the tables, write the JSON report and return 1 if a case failed."""
    computed = ratios(cases)
    print_tables(servers, cases, computed)
    print_targets(target_lines(servers, cases, settings.server))
    out = write_json(settings.output, document(settings, servers, cases, computed))
    print(f"\nwrote {out}")
    failed = [c.case for c in cases if not c.ok]
    if failed:
        print(f"FAILED (non-2xx answers or socket errors): {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def print_targets(lines: Sequence[Any]) -> None:
    """Print issue 15's targets: figure, target, the peer's figure, met or not."""
    print()
    print("targets (issue 15), this run's figures")
    header = f"  {'what':<50} {'figure':>16} {'target':>10} {'peer figure':>28}  met"
    print(header)
    for line in lines:
        met = "?" if line.met is None else ("yes" if line.met else "NO")
        print(
            f"  {line.what:<50} {line.figure:>16} {line.target:>10} "
            f"{line.peer + ' ' + line.peer_figure:>28}  {met}"
        )


def _git_commit() -> str | None:
    done = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    return done.stdout.strip() or None
