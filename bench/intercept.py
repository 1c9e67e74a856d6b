"""Requests per second through `shortapi-mock run`'s interception (HTTPS to api.shortapi.ai
through the proxy, TLS terminated, forwarded to the mock) beside the same requests sent to
the mock directly, in the same run.

    python bench/intercept.py [--requests N] [--output reports/intercept.json]

The mock is `serve` as `run` starts it (gunicorn, 2 workers x 2 threads, SQLite), manual clock; the
proxy is `shortapi-mock intercept --mock URL` in its own process, as under `run`. The client
is `requests` (kept-alive connections) in 1 and 8 threads, each sending N queries of one job
(then N creates); the figure is requests per second over the whole batch.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # see bench/__init__.py
from bench.common import CREATE_PATH, QUERY_PATH, auth, job_body, write_json
from mock_server.serve.processes import MockProcess

API = "https://api.shortapi.ai"
INTERCEPT = (sys.executable, "-m", "mock_server", "intercept", "--quiet")


def _rate(base: str, path: str, body: Any, sessions: list[requests.Session], count: int) -> float:
    def work(session: requests.Session) -> None:
        for _ in range(count):
            if body is None:
                answer = session.get(base + path, timeout=30)
            else:
                answer = session.post(base + path, json=body, timeout=30)
            assert answer.status_code == 200, answer.text

    start = time.perf_counter()
    with ThreadPoolExecutor(len(sessions)) as pool:
        list(pool.map(work, sessions))
    return count * len(sessions) / (time.perf_counter() - start)


def _sessions(threads: int, variables: dict[str, str] | None) -> list[requests.Session]:
    made = []
    for _ in range(threads):
        session = requests.Session()
        session.trust_env = False
        session.headers.update(auth())
        if variables is not None:
            proxy = variables["HTTPS_PROXY"]
            session.proxies = {"https": proxy, "http": proxy}
            session.verify = variables["REQUESTS_CA_BUNDLE"]
        made.append(session)
    return made


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=300, help="per thread and case")
    parser.add_argument("--output", default="reports/intercept.json")
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="bench-intercept-"))
    store = f"sqlite:{folder}/state.db"
    mock = MockProcess(
        ["--host", "127.0.0.1", "--port", "0", "--clock", "manual", "--store", store]
    )
    intercept = subprocess.Popen(
        [*INTERCEPT, "--mock", mock.url, "--format", "json"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=folder,  # its state file goes there
    )
    try:
        assert intercept.stdout is not None
        variables = json.loads("".join(iter(intercept.stdout.readline, "}\n")) + "}")
        job = requests.post(mock.url + CREATE_PATH, json=job_body(), headers=auth(), timeout=30)
        query = f"{QUERY_PATH}?id={job.json()['data']['job_id']}"
        rows = []
        for threads in (1, 8):
            for name, path, body in (("query", query, None), ("create", CREATE_PATH, job_body())):
                direct = _rate(mock.url, path, body, _sessions(threads, None), args.requests)
                through = _rate(API, path, body, _sessions(threads, variables), args.requests)
                rows.append(
                    {
                        "case": name,
                        "threads": threads,
                        "direct_rps": round(direct, 1),
                        "intercepted_rps": round(through, 1),
                        "ratio": round(through / direct, 2),
                    }
                )
                print(
                    f"{name:6} x{threads}: direct {direct:7.1f} req/s, through the "
                    f"interception {through:7.1f} req/s ({through / direct:.2f}x)",
                    flush=True,
                )
    finally:
        intercept.terminate()
        intercept.wait(10)
        if intercept.stdout is not None:
            intercept.stdout.close()
        mock.stop()
        shutil.rmtree(folder, ignore_errors=True)
    write_json(args.output, {"requests_per_thread": args.requests, "rows": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
