"""What a server costs to run: the time until it answers, and the memory of its process tree
(summed VmRSS and Pss from /proc)."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from bench.common import BenchError
from bench.servers import Server


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


def wait_ready(server: Server, path: str, timeout: float, headers: dict[str, str]) -> float:
    """Poll GET `path` until it answers 200; return the seconds since the server started."""
    deadline = server.started + timeout
    request = urllib.request.Request(server.url(path), headers=headers)
    while time.perf_counter() < deadline:
        if server.proc.poll() is not None:
            raise BenchError(
                f"{server.name} exited with {server.proc.returncode} before it was ready; "
                f"its log ends:\n{server.log_tail()}"
            )
        try:
            with urllib.request.urlopen(request, timeout=1) as answer:
                if answer.status == 200:
                    return time.perf_counter() - server.started
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(0.02)
    raise BenchError(f"{server.name} not ready after {timeout:.0f}s:\n{server.log_tail()}")


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
    found: list[int] = []
    todo = [pid]
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
