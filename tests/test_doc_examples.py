"""The documentation page's own examples (tests/doc_examples/), run against the served mock."""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from serving import ServedMock, serve_args, served_mock

pytestmark = pytest.mark.slow

EXAMPLES = Path(__file__).parent / "doc_examples"
DOC_BASE_URL = "https://api.shortapi.ai"
KEY_PRELUDE = 'import os; SHORTAPI_KEY = os.environ["SHORTAPI_KEY"]\n'


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedMock]:
    """Serve the mock once for this module (2 workers, manual clock, sqlite)."""
    workdir = tmp_path_factory.mktemp("doc-examples")
    with served_mock(workdir, serve_args(workdir / "s.db")) as mock:
        yield mock


@pytest.fixture
def mock(served: ServedMock) -> ServedMock:
    """Return the served mock with no jobs and an empty journal."""
    requests.post(served.url("/_mock/reset")).raise_for_status()
    return served


def example(name: str, base_url: str) -> str:
    """Return the example's text with the documented base URL swapped for `base_url`."""
    text = (EXAMPLES / name).read_text()
    assert DOC_BASE_URL in text
    return text.replace(DOC_BASE_URL, base_url)


def run(command: list[str], key: str) -> str:
    """Run an example with SHORTAPI_KEY=`key`; return its stdout."""
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "SHORTAPI_KEY": key},
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def doc_payload() -> dict[str, Any]:
    """Return the create body of the curl example (its --data '...')."""
    found = re.search(r"--data '(.*?)'", (EXAMPLES / "curl_example.sh").read_text(), re.S)
    assert found is not None
    payload: dict[str, Any] = json.loads(found.group(1))
    return payload


def journal(mock: ServedMock, path: str) -> list[dict[str, Any]]:
    """Return the journal entries of requests to `path`, oldest first."""
    entries = requests.get(mock.url("/_mock/requests")).json()["requests"]
    return [e for e in entries if e["path"] == path]


def only_job(mock: ServedMock) -> dict[str, Any]:
    """Return the admin view of the mock's one job, asserting there is exactly one."""
    jobs = requests.get(mock.url("/_mock/jobs")).json()["jobs"]
    assert len(jobs) == 1, jobs
    job: dict[str, Any] = jobs[0]
    return job


def assert_create_accepted_with_doc_warnings(mock: ServedMock) -> dict[str, Any]:
    """Check the one job and its create request; return the job."""
    payload = doc_payload()
    job = only_job(mock)
    assert job["model"] == payload["model"]
    assert job["args"] == payload["args"]
    assert job["amount"] == "0.5"  # pro, default duration 5 s, $0.1 per second
    [create] = journal(mock, "/api/v1/job/create")
    assert create["outcome"] == "accepted"
    assert create["status"] == 200
    assert create["job_id"] == job["id"]
    # The doc's prompt references [@element1] but sends no elements, and its callback_url
    # is the placeholder "CALLBACK_URL": both are warnings, not errors, in the default profile.
    assert sorted((p["rule"], p["severity"]) for p in create["problems"]) == [
        ("callback_url.http", "warning"),
        ("prompt.reference_exists", "warning"),
    ]
    return job


def test_curl_example_creates_and_queries_its_job(mock: ServedMock, tmp_path: Path) -> None:
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    script = tmp_path / "curl_example.sh"
    script.write_text(example("curl_example.sh", mock.base_url))
    printed = run(["bash", str(script)], key="doc-curl-key")

    job = assert_create_accepted_with_doc_warnings(mock)
    # Step 2 of the example prints the query answer: the job, still queued.
    answer = json.loads(printed)
    assert answer["code"] == 0
    assert (answer["data"]["id"], answer["data"]["status"]) == (job["id"], 0)
    assert answer["data"]["args"] == job["args"]


def test_python_example_creates_a_job_but_queries_id_none(mock: ServedMock, tmp_path: Path) -> None:
    script = tmp_path / "python_example.py"
    script.write_text(KEY_PRELUDE + example("python_example.py", mock.base_url))
    printed = run([sys.executable, str(script)], key="doc-python-key")

    assert_create_accepted_with_doc_warnings(mock)
    # The doc's Python reads data.get("job_id") at the top level, but create answers
    # {"code": 0, "data": {"amount": ..., "job_id": ...}}: JOB_ID is None, the example
    # queries ?id=None and prints the mock's 404 error envelope (code 1203, not found), whose
    # text says where the id is (api/hints.py).
    answer = ast.literal_eval(printed.strip())
    assert set(answer) == {"code", "message", "info"}
    assert answer["code"] == 1203
    assert "no job has the id 'None', a placeholder" in answer["message"]
    assert "the id is data.job_id, not a top-level job_id" in answer["message"]
    assert answer["info"] == answer["message"]
    [query] = journal(mock, "/api/v1/job/query")
    assert query["query"] == "id=None"
    assert query["status"] == 404
    assert query["code"] == 1203


def test_the_readme_walk_through_runs_as_pasted(served: ServedMock, tmp_path: Path) -> None:
    """The README's curl walk-through, its blocks run in one shell as a reader pastes them
    (the base URL swapped for this mock's), downloads the job's real MP4."""
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    section = readme.split("### A walk-through with curl", 1)[1].split("Send something wrong")[0]
    blocks = re.findall(r"```bash\n(.*?)```", section, re.S)
    script = "set -euo pipefail\n" + "".join(b for b in blocks if "make serve" not in b)
    (tmp_path / "walk.sh").write_text(script.replace("http://127.0.0.1:8000", served.base_url))
    done = subprocess.run(
        ["bash", "walk.sh"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
    job_id = done.stdout.splitlines()[0]
    assert re.fullmatch(r"[0-9a-f]{24}", job_id), done.stdout
    assert '"status":2' in done.stdout
    assert (tmp_path / "result.mp4").read_bytes()[4:8] == b"ftyp"
