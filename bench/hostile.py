"""The attacks of a hostile or clumsy client, against a real `serve` on 127.0.0.1: what each
costs the mock (memory of the serve processes, time, sizes of what is echoed).

    python bench/hostile.py [--code DIR] [--out reports/hostile.json]

`--code DIR` serves the `mock_server` package found in DIR instead (a checkout of another
commit), so the same attacks measure a before and an after. Every attack is bounded: 40
bodies of 10 MB, one create of 200,000 unknown args, 4 pixel bombs, one hour of latency
asked (the client gives up after 10 s).
"""

from __future__ import annotations

import argparse
import base64
import concurrent.futures
import contextlib
import http.client
import io
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # see bench/__init__.py
from bench.common import job_body, write_json
from bench.probes import rss_kb
from bench.servers import free_port

KEY = "bench-hostile-key"


def memory_mib(pid: int) -> dict[str, float]:
    """Return the PSS and RSS (MiB) of the serve process tree."""
    rss, pss, _ = rss_kb(pid)
    return {"pss_mib": round((pss or 0) / 1024, 1), "rss_mib": round(rss / 1024, 1)}


def send(
    url: str, body: bytes | None = None, headers: dict[str, str] | None = None, timeout: float = 60
) -> tuple[int, dict[str, str], bytes, float]:
    """Send one request; return status, headers, body and seconds taken."""
    sent = {"Authorization": f"Bearer {KEY}", **(headers or {})}
    if body is not None:
        sent.setdefault("Content-Type", "application/json")
    request = urllib.request.Request(url, data=body, headers=sent, method="POST" if body else "GET")
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            data = answer.read()
            return answer.status, dict(answer.headers), data, time.perf_counter() - started
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read(), time.perf_counter() - started
    except (TimeoutError, OSError, http.client.HTTPException) as exc:  # LineTooLong: a header
        return -1, {"error": type(exc).__name__}, b"", time.perf_counter() - started


@contextlib.contextmanager
def served(code: str | None, workdir: Path) -> Iterator[tuple[str, int]]:
    port = free_port()
    env = {**os.environ, **({"PYTHONPATH": code} if code else {})}
    command = [sys.executable, "-m", "mock_server", "serve", "--port", str(port)]
    command += ["--store", f"sqlite:{workdir}/state.db", "--clock", "manual", "--reset"]
    process = subprocess.Popen(
        command, cwd=workdir, env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while send(base + "/_mock/health", timeout=2)[0] != 200:
        if time.monotonic() > deadline or process.poll() is not None:
            raise RuntimeError("serve did not start")
        time.sleep(0.2)
    try:
        yield base, process.pid
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(20)


def webp_bomb() -> bytes:
    """A real 8000x8000 WebP (a flat colour: about 100 KB)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8000, 8000), (10, 20, 30)).save(buffer, "WEBP", quality=1)
    return buffer.getvalue()


def attacks(base: str, pid: int) -> dict[str, Any]:
    create = base + "/api/v1/job/create"
    figures: dict[str, Any] = {}
    for _ in range(5):
        send(create, json.dumps(job_body()).encode())
    figures["memory_start"] = memory_mib(pid)
    print(json.dumps(figures), file=sys.stderr, flush=True)

    digits = "9" * 5000
    padding = "x" * 10_000_000
    bad = f'{{"model": "kwaivgi/kling-o1/image-to-video", "args": {{"mode": {digits}, '
    bad += f'"prompt": "{padding}"}}}}'
    statuses, started = [], time.perf_counter()
    for _ in range(40):
        statuses.append(send(create, bad.encode(), timeout=120)[0])
    figures["bodies_40x10MB_5000_digits"] = {
        "statuses": sorted(set(statuses)),
        "seconds": round(time.perf_counter() - started, 1),
        "memory_after": memory_mib(pid),
    }
    print(json.dumps(figures), file=sys.stderr, flush=True)

    args = {**job_body()["args"], **{f"unknown_{i}": i for i in range(200_000)}}
    payload = json.dumps({"model": job_body()["model"], "args": args}).encode()
    status, headers, body, took = send(create, payload, timeout=300)
    unreadable = status == -1  # e.g. an answer's header line too long for a client to read
    echoed = headers.get("X-Mock-Errors", "") + headers.get("X-Mock-Warnings", "")
    journal = send(base + "/_mock/requests?limit=1", timeout=300)
    page = send(base + "/_mock/ui/requests", timeout=300)
    figures["unknown_args_200000"] = {
        "status": headers["error"] if unreadable else status,
        "seconds": round(took, 2),
        "request_bytes": len(payload),
        "echoed_header_bytes": len(echoed),
        "body_bytes": len(body),
        "journal_limit_1_bytes": len(journal[2]),
        "journal_seconds": round(journal[3], 2),
        "dashboard_requests_bytes": len(page[2]),
        "dashboard_seconds": round(page[3], 2),
        "memory_after": memory_mib(pid),
    }

    uri = "data:image/webp;base64," + base64.b64encode(webp_bomb()).decode()
    bomb = json.dumps({**job_body(), "args": {**job_body()["args"], "images": [uri]}}).encode()
    peak = memory_mib(pid)
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        started = time.perf_counter()
        running = [pool.submit(send, create, bomb, None, 120) for _ in range(4)]
        while not all(f.done() for f in running):
            now = memory_mib(pid)
            peak = now if now["rss_mib"] > peak["rss_mib"] else peak
            time.sleep(0.05)
        results = [f.result() for f in running]
    figures["webp_8000x8000_x4"] = {
        "bytes": len(bomb),
        "statuses": sorted({r[0] for r in results}),
        "seconds_all": round(time.perf_counter() - started, 2),
        "peak": peak,
        "memory_after": memory_mib(pid),
    }

    status, _, body, took = send(
        create, json.dumps(job_body()).encode(), {"X-Mock-Fault": "latency:3600000"}, timeout=10
    )
    figures["latency_one_hour"] = {"status": status, "seconds": round(took, 2)}

    nan = json.dumps(job_body()).replace('"std"', "NaN").encode()
    status, _, body, _ = send(create, nan)
    figures["nan_in_args"] = {"status": status, "answer": body[:200].decode("utf-8", "replace")}
    figures["memory_end"] = memory_mib(pid)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--code", help="serve the mock_server package of this folder")
    parser.add_argument("--out", default="reports/hostile.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, served(args.code, Path(folder)) as (base, pid):
        figures = attacks(base, pid)
    print(json.dumps(figures, indent=2))
    write_json(args.out, figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
