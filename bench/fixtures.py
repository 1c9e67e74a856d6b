"""Per-test overhead of each pytest fixture (setup + teardown, median over N tests), and
the wall time of a test that runs a 10-second job to success and receives its callback.

Runs pytest in a subprocess on generated test files; a tiny plugin records phase times.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # see bench/__init__.py
from bench.common import write_json

RECORDER = """
import json, os

def pytest_runtest_logreport(report):
    with open(os.environ["PHASES_OUT"], "a") as out:
        out.write(json.dumps([report.nodeid, report.when, report.duration]) + "\\n")
"""

TRIVIAL = """
def test_{n}({fixture}):
    assert {fixture}.base_url
"""

BASELINE = """
def test_{n}():
    assert True
"""

JOB = """
import requests

BODY = {{"model": "kwaivgi/kling-o1/image-to-video",
        "args": {{"mode": "std", "action": "frame", "prompt": "a cat", "duration": "10",
                 "images": ["https://example.com/a.jpg", "https://example.com/b.jpg"]}}}}

def test_ten_second_job(shortapi_mock, shortapi_receiver):
    response = requests.post(shortapi_mock.url("/api/v1/job/create"),
                             json={{**BODY, "callback_url": shortapi_receiver.url}},
                             headers=shortapi_mock.headers)
    job_id = response.json()["data"]["job_id"]
    shortapi_mock.run_all()
    data = requests.get(shortapi_mock.url(f"/api/v1/job/query?id={{job_id}}"),
                        headers=shortapi_mock.headers).json()["data"]
    assert data["status"] == 2
    assert shortapi_receiver.bodies()[0]["data"]["job_id"] == job_id
"""


def run(tests: str, workdir: Path) -> list[tuple[str, str, float]]:
    """Run the test source with the recorder; return (nodeid, phase, seconds)."""
    (workdir / "test_generated.py").write_text(tests)
    (workdir / "conftest.py").write_text(RECORDER)
    out = workdir / "phases.jsonl"
    out.unlink(missing_ok=True)
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(workdir)],
        check=True,
        capture_output=True,
        env={**os.environ, "PHASES_OUT": str(out)},
    )
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    return [(str(nodeid), str(phase), float(seconds)) for nodeid, phase, seconds in rows]


def overhead(rows: list[tuple[str, str, float]]) -> float:
    """Median of setup + teardown per test, in milliseconds (first test excluded)."""
    per_test: dict[str, float] = {}
    for nodeid, phase, seconds in rows:
        if phase in ("setup", "teardown"):
            per_test[nodeid] = per_test.get(nodeid, 0.0) + seconds
    values = list(per_test.values())[1:]  # the first one pays the session set-up
    return statistics.median(values) * 1000


def main() -> int:
    """Print the figures; write reports/fixtures.json."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tests", type=int, default=200)
    parser.add_argument("--output", default="reports/fixtures.json")
    args = parser.parse_args()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        baseline = "".join(BASELINE.format(n=n) for n in range(args.tests))
        results["no fixture"] = round(overhead(run(baseline, workdir)), 3)
        for fixture in ("shortapi_mock", "shortapi_responses", "shortapi_httpx"):
            source = "".join(TRIVIAL.format(n=n, fixture=fixture) for n in range(args.tests))
            results[fixture] = round(overhead(run(source, workdir)), 3)
        rows = run(textwrap.dedent(JOB.format()), workdir)
        phases = {phase: seconds * 1000 for _, phase, seconds in rows}
        results["ten_second_job_call_ms"] = round(phases["call"], 2)
        results["ten_second_job_with_session_start_ms"] = round(sum(phases.values()), 1)
    labels = {
        "ten_second_job_call_ms": "10 s job + callback (test body)",
        "ten_second_job_with_session_start_ms": "  same, with server start/stop",
    }
    for name, value in results.items():
        print(f"{labels.get(name, name + ' overhead'):36s} {value:8.2f} ms")
    write_json(args.output, results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
