"""`shortapi-mock serve` end to end: a real gunicorn subprocess driven over HTTP."""

from __future__ import annotations

import importlib.metadata
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from serving import CONSOLE_SCRIPT, MODULE_COMMAND, ServedMock, serve_args, served_mock

import mock_server
from mock_server.data.mp4info import Mp4Info, probe

pytestmark = pytest.mark.slow

MODEL = "kwaivgi/kling-o1/image-to-video"
AUTH = {"Authorization": "Bearer cli-test-key"}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedMock]:
    """Serve the mock with 2 workers, a manual clock and a fresh sqlite store."""
    workdir = tmp_path_factory.mktemp("served")
    with served_mock(workdir, serve_args(workdir / "s.db")) as mock:
        yield mock


def create(mock: ServedMock, **args: Any) -> str:
    """Create a job with `args` and return its id, asserting the create was accepted."""
    response = requests.post(
        mock.url("/api/v1/job/create"), headers=AUTH, json={"model": MODEL, "args": args}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["code"] == 0, body
    return str(body["data"]["job_id"])


def query(mock: ServedMock, job_id: str) -> dict[str, Any]:
    """Return the query answer for `job_id` (a new connection each call)."""
    response = requests.get(mock.url("/api/v1/job/query"), params={"id": job_id}, headers=AUTH)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["code"] == 0, body
    return body


def run_to_success(mock: ServedMock, job_id: str) -> str:
    """Walk a new job through queued -> processing -> succeeded; return its result URL."""
    assert query(mock, job_id)["data"]["status"] == 0
    mock.advance(2)
    assert query(mock, job_id)["data"]["status"] == 1
    mock.advance(8)
    data = query(mock, job_id)["data"]
    assert data["status"] == 2
    return str(data["result"]["videos"][0]["url"])


def download(url: str) -> bytes:
    """Return the MP4 at `url`, asserting it is served as video/mp4."""
    response = requests.get(url)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "video/mp4"
    return response.content


def probe_video(url: str, duration_s: float) -> Mp4Info:
    """Return the probe of the MP4 at `url`, asserting it is H.264 of `duration_s` seconds."""
    info = probe(download(url))
    assert info.codec == "avc1"
    assert info.duration_s == pytest.approx(duration_s)
    return info


@pytest.mark.parametrize(
    ("args", "duration", "ratio"),
    [
        pytest.param(
            {"mode": "std", "action": "frame", "images": ["https://example.com/start.jpg"]},
            10,
            (16, 9),
            id="frame-job-16x9",
        ),
        pytest.param(
            {
                "mode": "pro",
                "action": "refer",
                "images": ["https://example.com/a.jpg", "https://example.com/b.jpg"],
                "aspect_ratio": "9:16",
            },
            7,
            (9, 16),
            id="refer-job-9x16",
        ),
    ],
)
def test_serve_job_runs_to_a_video_of_its_ratio_and_duration(
    served: ServedMock, args: dict[str, Any], duration: int, ratio: tuple[int, int]
) -> None:
    job_id = create(served, prompt="[@image1] walks", duration=str(duration), **args)
    url = run_to_success(served, job_id)
    assert url.startswith(served.base_url + "/")
    info = probe_video(url, duration)
    assert info.width * ratio[1] == info.height * ratio[0]


def test_serve_banner_curl_creates_a_job(served: ServedMock) -> None:
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    banner = served.stdout()
    assert f"serving on {served.base_url}" in banner
    curls = [line.strip() for line in banner.splitlines() if line.strip().startswith("curl ")]
    assert len(curls) == 1, banner
    assert served.base_url in curls[0]
    # Run the line as a user pasting it into a shell would.
    done = subprocess.run(["sh", "-c", curls[0]], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert body["code"] == 0, body
    job = requests.get(served.url(f"/_mock/jobs/{body['data']['job_id']}"))
    assert job.status_code == 200
    assert job.json()["model"] == MODEL


def test_serve_workers_answer_every_query_alike(served: ServedMock) -> None:
    ids = [
        create(
            served,
            mode="std",
            action="frame",
            prompt=f"job {n}",
            images=["https://example.com/start.jpg"],
        )
        for n in range(20)
    ]
    served.advance(10)
    for job_id in ids:
        # requests.get without a Session: a new connection each time, so any worker answers.
        answers = [query(served, job_id) for _ in range(5)]
        first = answers[0]["data"]
        assert (first["id"], first["status"]) == (job_id, 2)
        assert first["result"] == {"videos": [{"url": f"{served.base_url}/files/{job_id}.mp4"}]}
        assert answers == [answers[0]] * 5


def test_console_script_serves(tmp_path: Path) -> None:
    if not CONSOLE_SCRIPT.exists():
        pytest.skip(f"no console script at {CONSOLE_SCRIPT}")
    with served_mock(
        tmp_path, serve_args(tmp_path / "s.db"), command=[str(CONSOLE_SCRIPT)]
    ) as mock:
        assert f"serving on {mock.base_url}" in mock.stdout()
        job_id = create(
            mock, mode="std", action="frame", prompt="a cat", images=["https://example.com/a.jpg"]
        )
        data = query(mock, job_id)["data"]
        assert (data["id"], data["status"], data["refunded"]) == (job_id, 0, False)


def test_serve_restart_keeps_jobs_and_clock(tmp_path: Path) -> None:
    store = tmp_path / "s.db"
    frame = {"mode": "std", "action": "frame", "prompt": "a", "images": ["https://e.com/a.jpg"]}
    with served_mock(tmp_path, serve_args(store)) as first:
        ids = [create(first, **frame) for _ in range(3)]
        first.advance(3)  # the first three are processing
        ids.append(create(first, **frame))  # this one is queued
        before = [query(first, job_id) for job_id in ids]
        now = requests.get(first.url("/_mock/clock")).json()["now"]
    assert first.process.returncode == 0, first.stderr()
    assert [answer["data"]["status"] for answer in before] == [1, 1, 1, 0]

    with served_mock(tmp_path, serve_args(store, reset=False)) as second:
        assert [query(second, job_id) for job_id in ids] == before
        clock = requests.get(second.url("/_mock/clock")).json()
        assert clock["clock"] == "manual"
        assert clock["now"] == now
        assert requests.get(second.url("/_mock/health")).json()["jobs"] == 4
        second.advance(10)
        assert {query(second, job_id)["data"]["status"] for job_id in ids} == {2}


def test_serve_memory_store_refuses_several_workers() -> None:
    done = subprocess.run(
        [*MODULE_COMMAND, "serve", "--store", "memory", "--workers", "2"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert "sqlite" in done.stderr
    assert done.stdout == ""


def test_version_prints_the_package_version() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mock_server", "--version"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0
    assert done.stdout.strip() == f"shortapi-mock {mock_server.__version__}"
    assert mock_server.__version__ == importlib.metadata.version("shortapi-mock")
