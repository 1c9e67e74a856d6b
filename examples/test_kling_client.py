"""How to test a real client (`kling_client.py`) with the shortapi-mock pytest plugin.

The plugin is installed with the package (an entry point), so these fixtures need no
conftest. Each test also gets the plugin's teardown check: it fails if the client broke the
API's contract (a rejected request, an unknown job id, polling too fast or after the end).

The recommended pattern: pass ``sleep=shortapi_mock.advance`` to the client. Its waits then
move the mock's manual clock instead of sleeping, so a job that "takes" 10 seconds finishes
in milliseconds and no test sleeps for real.
"""

from __future__ import annotations

import asyncio
import queue
import re
import socket
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
from kling_client import MODEL, ApiError, CreateUncertain, JobFailed, JobTimeout, KlingClient

from mock_server.data import mp4info, schemas
from mock_server.jobs.scenarios import REASONS
from mock_server.testing import MockHandle, httpx_transport
from mock_server.testing.client_checks import ContractViolation
from mock_server.testing.receiver import CallbackReceiver
from mock_server.testing.variants import Variant

PROMPT = "a black lab swims across a pool"
IMAGES = ["https://example.com/start.jpg"]


class ClockSleep:
    """A `sleep` for the client that moves the mock's clock and records every call."""

    def __init__(self, mock: MockHandle) -> None:
        self.mock = mock
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        self.mock.advance(seconds)


@pytest.fixture
def client(shortapi_mock: MockHandle) -> Iterator[KlingClient]:
    """The client pointed at the served mock, waiting on the mock's clock."""
    with KlingClient(
        shortapi_mock.api_key, shortapi_mock.base_url, sleep=shortapi_mock.advance
    ) as kling:
        yield kling


def statuses(mock: MockHandle, path: str) -> list[int]:
    """Return the HTTP statuses the mock answered on `path`, oldest first."""
    return [entry["status"] for entry in mock.requests() if entry["path"] == path]


def queries(mock: MockHandle) -> list[dict[str, Any]]:
    """Return the journal entries of the job queries the mock answered."""
    return [e for e in mock.requests() if e["path"] == "/api/v1/job/query"]


# the happy path, served and in process


def test_generate_saves_an_mp4_of_the_requested_duration(
    shortapi_mock: MockHandle, tmp_path: Path
) -> None:
    with KlingClient(
        shortapi_mock.api_key, shortapi_mock.base_url, sleep=shortapi_mock.advance
    ) as client:
        job = client.submit(prompt=PROMPT, images=IMAGES, mode="std", duration=10)
        url = client.wait(job.job_id)
        path = client.download(url, tmp_path / "lab.mp4")

    assert job.amount == Decimal("0.75")  # std: $0.075 per second
    info = mp4info.probe(path.read_bytes())
    assert info.duration_s == pytest.approx(10, abs=0.1)
    assert info.width > info.height  # 16:9 by default
    # Polled with backoff (3, 4.5, 6.75 s of mock time) and stopped at status 2.
    assert [q["job_status"] for q in queries(shortapi_mock)] == [1, 1, 2]
    assert shortapi_mock.jobs()[0]["status"] == 2


def test_in_process_without_a_socket(shortapi_responses: MockHandle, tmp_path: Path) -> None:
    # No base_url: requests to https://api.shortapi.ai are routed into the mock by `responses`.
    with KlingClient(shortapi_responses.api_key, sleep=shortapi_responses.advance) as client:
        job = client.submit(prompt=PROMPT, images=IMAGES, duration=5)
        url = client.wait(job.job_id)
        path = client.download(url, tmp_path / "lab.mp4")

    assert url == f"https://api.shortapi.ai/files/{job.job_id}.mp4"
    assert mp4info.probe(path.read_bytes()).duration_s == pytest.approx(5, abs=0.1)


def test_refer_with_aspect_ratio(client: KlingClient, tmp_path: Path) -> None:
    job = client.submit(
        prompt="[@image1] walks through [@image2]",
        images=["https://example.com/a.png", "https://example.com/b.png"],
        action="refer",
        mode="pro",
        aspect_ratio="9:16",
    )
    info = mp4info.probe(client.download(client.wait(job.job_id), tmp_path / "v.mp4").read_bytes())
    assert info.height > info.width
    assert job.amount == Decimal("0.5")  # pro: $0.1 per second (A-pricing-pro)


# failures


def test_failed_job_raises_job_failed_with_the_reason(
    shortapi_mock: MockHandle, client: KlingClient
) -> None:
    shortapi_mock.scenario("fail:content_policy")
    job = client.submit(prompt=PROMPT, images=IMAGES)

    with pytest.raises(JobFailed) as failed:
        client.wait(job.job_id)

    assert failed.value.reason == REASONS["content_policy"]
    assert failed.value.refunded
    assert [q["job_status"] for q in queries(shortapi_mock)][-1] == 3  # stopped at 3


def test_stuck_job_times_out(shortapi_mock: MockHandle, client: KlingClient) -> None:
    shortapi_mock.scenario("stuck")
    job = client.submit(prompt=PROMPT, images=IMAGES)

    with pytest.raises(JobTimeout):
        client.wait(job.job_id, timeout=120)

    assert 120 <= shortapi_mock.now() < 140  # 120 s of mock time, none of wall time
    assert len(queries(shortapi_mock)) < 15


def test_invalid_request_raises_api_error_with_the_message(
    shortapi_mock: MockHandle, client: KlingClient
) -> None:
    # frame + one image allows 5 or 10 s only; the mock says so, in `info`.
    with pytest.raises(ApiError) as error:
        client.submit(prompt=PROMPT, images=IMAGES, duration=7)

    assert (error.value.status, error.value.code) == (400, 1201)
    assert "duration" in error.value.message
    # A rejected request is a contract violation; this test sends one on purpose.
    assert [v.rule for v in shortapi_mock.violations()] == ["request.rejected"]
    shortapi_mock.expect_violations()


def test_balance_depleted_is_not_retried(shortapi_mock: MockHandle) -> None:
    shortapi_mock.account(balance="0.10")
    sleep = ClockSleep(shortapi_mock)
    client = KlingClient(shortapi_mock.api_key, shortapi_mock.base_url, sleep=sleep)
    with client, pytest.raises(ApiError) as error:
        client.submit(prompt=PROMPT, images=IMAGES)

    assert (error.value.status, error.value.code) == (429, 1102)
    assert "insufficient balance" in error.value.message
    assert sleep.calls == []  # waiting does not top up an account


# retries


def test_429_is_retried_after_its_retry_after(shortapi_mock: MockHandle) -> None:
    # retry-after:7 so the wait cannot be mistaken for the client's own 1 s backoff.
    shortapi_mock.fault("429,retry-after:7", count=1)
    sleep = ClockSleep(shortapi_mock)
    with KlingClient(shortapi_mock.api_key, shortapi_mock.base_url, sleep=sleep) as client:
        job = client.submit(prompt=PROMPT, images=IMAGES)
        client.wait(job.job_id)

    assert sleep.calls[0] == 7
    assert statuses(shortapi_mock, "/api/v1/job/create") == [429, 200]
    assert shortapi_mock.requests()[0]["fault"] == "429,retry-after:7"


def test_503_twice_then_success(shortapi_mock: MockHandle) -> None:
    shortapi_mock.fault("503", count=2, endpoint="create")
    sleep = ClockSleep(shortapi_mock)
    with KlingClient(shortapi_mock.api_key, shortapi_mock.base_url, sleep=sleep) as client:
        job = client.submit(prompt=PROMPT, images=IMAGES)
        assert client.wait(job.job_id).endswith(".mp4")

    assert statuses(shortapi_mock, "/api/v1/job/create") == [503, 503, 200]
    assert sleep.calls[:2] == [1, 1]  # the mock's 503 carries Retry-After: 1


def test_5xx_without_retry_after_backs_off_exponentially(shortapi_mock: MockHandle) -> None:
    shortapi_mock.fault("500", count=3, endpoint="query")
    sleep = ClockSleep(shortapi_mock)
    with KlingClient(shortapi_mock.api_key, shortapi_mock.base_url, sleep=sleep) as client:
        job = client.submit(prompt=PROMPT, images=IMAGES)
        client.wait(job.job_id)

    assert sleep.calls[:4] == [3.0, 1.0, 2.0, 4.0]  # first poll, then three backoffs
    assert statuses(shortapi_mock, "/api/v1/job/query")[:4] == [500, 500, 500, 200]


def test_dropped_query_connections_are_retried(
    shortapi_mock: MockHandle, client: KlingClient
) -> None:
    shortapi_mock.fault("empty", count=2, endpoint="query")
    job = client.submit(prompt=PROMPT, images=IMAGES)
    assert client.wait(job.job_id).endswith(".mp4")
    faults = [entry["fault"] for entry in queries(shortapi_mock)]
    assert faults[:3] == ["empty", "empty", None]  # closed twice, then answered


def test_a_create_whose_answer_was_lost_is_not_resent(
    shortapi_mock: MockHandle, client: KlingClient
) -> None:
    # ack-lost: the mock creates and bills the job, then drops the connection.
    shortapi_mock.fault("ack-lost", count=1, endpoint="create")
    with pytest.raises(CreateUncertain, match="may exist and be billed"):
        client.submit(prompt=PROMPT, images=IMAGES)

    assert len(statuses(shortapi_mock, "/api/v1/job/create")) == 1  # sent once, not resent
    assert len(shortapi_mock.jobs()) == 1  # ...and the one job it was billed for exists
    assert shortapi_mock.violations() == []  # so no create.blind_retry


def test_an_unreachable_api_is_retried_then_raised(shortapi_mock: MockHandle) -> None:
    # A refused connection never reached the API: a create is safe to resend.
    sleep = ClockSleep(shortapi_mock)
    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    with (
        KlingClient("key", closed, sleep=sleep, max_retries=2) as client,
        pytest.raises(requests.ConnectionError),
    ):
        client.submit(prompt=PROMPT, images=IMAGES)
    assert sleep.calls == [1, 2]  # two backoffs, three attempts


def test_gives_up_after_max_retries(shortapi_mock: MockHandle) -> None:
    shortapi_mock.fault("503", count=None, endpoint="create")  # for ever
    with (
        KlingClient(
            shortapi_mock.api_key,
            shortapi_mock.base_url,
            sleep=shortapi_mock.advance,
            max_retries=2,
        ) as client,
        pytest.raises(ApiError) as error,
    ):
        client.submit(prompt=PROMPT, images=IMAGES)

    assert (error.value.status, error.value.code) == (503, 5001)
    assert len(statuses(shortapi_mock, "/api/v1/job/create")) == 3


def test_survives_random_faults(shortapi_responses: MockHandle) -> None:
    shortapi_responses.random_faults(
        {"seed": 8, "create": {"503": 0.3, "reset": 0.1}, "query": {"429": 0.3, "504": 0.1}}
    )
    # A reset create never reached the job store, so resending it is right here.
    with KlingClient(
        shortapi_responses.api_key,
        sleep=shortapi_responses.advance,
        resend_uncertain_creates=True,
    ) as client:
        jobs = [client.submit(prompt=PROMPT, images=IMAGES) for _ in range(5)]
        urls = [client.wait(job.job_id) for job in jobs]

    assert len(set(urls)) == 5
    seen = {entry["fault"] for entry in shortapi_responses.requests()} - {None}
    assert seen == {"503", "reset", "429", "504"}  # seed 8 draws each of them


# callbacks instead of polling


def test_wait_for_the_callback(
    shortapi_mock: MockHandle, shortapi_receiver: CallbackReceiver, client: KlingClient
) -> None:
    job = client.submit(prompt=PROMPT, images=IMAGES, callback_url=shortapi_receiver.url)

    # The client's sleep advances the mock's clock; the mock delivers due callbacks
    # before advance() returns, so the callback is there when the client looks again.
    url = client.wait_for_callback(shortapi_receiver, job.job_id, timeout=60)

    assert url.endswith(f"/files/{job.job_id}.mp4")
    assert queries(shortapi_mock) == []  # no polling at all
    [body] = shortapi_receiver.bodies()
    assert body["data"]["job_id"] == job.job_id and body["data"]["status"] == 2


def test_advance_delivers_the_callback(
    shortapi_mock: MockHandle, shortapi_receiver: CallbackReceiver, client: KlingClient
) -> None:
    job = client.submit(prompt=PROMPT, images=IMAGES, callback_url=shortapi_receiver.url)
    shortapi_mock.advance(10)  # 2 s queued + 8 s processing: done, callback sent

    [delivery] = shortapi_receiver.wait_for(1)
    assert delivery.json()["data"]["status"] == 2
    assert shortapi_mock.callbacks()[0]["job_id"] == job.job_id


@pytest.mark.shortapi(callback_events="all")
def test_callbacks_skip_other_jobs_duplicates_and_progress(
    shortapi_mock: MockHandle, shortapi_receiver: CallbackReceiver, client: KlingClient
) -> None:
    # Your webhook handler would put each body it receives into a queue like this one.
    inbox: queue.Queue[Any] = queue.Queue()
    shortapi_mock.scenario("callback:duplicate")
    other = client.submit(prompt=PROMPT, images=IMAGES, callback_url=shortapi_receiver.url)
    shortapi_mock.scenario("fail:timeout")
    job = client.submit(prompt=PROMPT, images=IMAGES, callback_url=shortapi_receiver.url)
    shortapi_mock.run_all()
    for body in shortapi_receiver.bodies():
        inbox.put(body)

    with pytest.raises(JobFailed) as failed:
        client.wait_for_callback(inbox, job.job_id, timeout=0)

    assert failed.value.reason == REASONS["timeout"]
    # The other job's bodies stayed in the queue: processing, done, and done again.
    assert client.wait_for_callback(inbox, other.job_id, timeout=0).endswith(".mp4")
    seen = [(b["data"]["job_id"], b["data"]["status"]) for b in shortapi_receiver.bodies()]
    assert seen.count((other.job_id, 1)) >= 1 and seen.count((other.job_id, 2)) == 2


# every response variant


@pytest.mark.shortapi(variants=True)  # always all variants here, not only with --shortapi-variants
def test_every_variant(
    shortapi_mock: MockHandle, shortapi_variant: Variant, client: KlingClient
) -> None:
    job = client.submit(prompt=PROMPT, images=IMAGES)

    if shortapi_variant.outcome == "failed":
        with pytest.raises(JobFailed) as failed:
            client.wait(job.job_id)
        assert failed.value.reason == shortapi_variant.reason
    else:
        assert client.wait(job.job_id) == f"{shortapi_mock.base_url}/files/{job.job_id}.mp4"
    # The client stopped at the final status: 2, or 3 (4 in failed-status-4) when failed.
    assert queries(shortapi_mock)[-1]["job_status"] == shortapi_variant.job_status
    if shortapi_variant.status is not None:  # the first create failed, and was retried
        # (errors-as-200 sends that error as HTTP 200: the client read its code)
        assert statuses(shortapi_mock, "/api/v1/job/create") == [shortapi_variant.status, 200]


# other clocks


@pytest.mark.shortapi(clock="per-poll")
def test_per_poll_clock(shortapi_mock: MockHandle) -> None:
    # Each query moves the job one step (queued, processing, done): no clock to move.
    slept: list[float] = []
    with KlingClient(shortapi_mock.api_key, shortapi_mock.base_url, sleep=slept.append) as client:
        job = client.submit(prompt=PROMPT, images=IMAGES)
        client.wait(job.job_id)

    assert [q["job_status"] for q in queries(shortapi_mock)] == [0, 1, 2]
    assert slept == [3.0, 4.5, 6.75]


def test_run_all_finishes_every_job(shortapi_mock: MockHandle, client: KlingClient) -> None:
    job = client.submit(prompt=PROMPT, images=IMAGES)
    shortapi_mock.run_all()  # e.g. when the code under test only reads the status later
    assert client.query(job.job_id).status == 2


# what the teardown check catches, and opting out


@pytest.mark.shortapi(queued_seconds=0.5, processing_seconds=0.5)
def test_check_catches_polling_too_fast(shortapi_mock: MockHandle) -> None:
    with KlingClient(
        shortapi_mock.api_key,
        shortapi_mock.base_url,
        sleep=shortapi_mock.advance,
        poll_interval=0.05,
        max_poll_interval=0.05,
    ) as hasty:
        hasty.wait(hasty.submit(prompt=PROMPT, images=IMAGES).job_id)

    with pytest.raises(ContractViolation, match=r"poll\.too_fast"):
        shortapi_mock.check()
    shortapi_mock.expect_violations()  # or the teardown would fail this test


def test_check_catches_the_documented_job_id_bug(shortapi_responses: MockHandle) -> None:
    # The model page's own Python example (its args from the schema's "examples"): it reads
    # job_id at the top level, but create answers {"code": 0, "data": {"job_id": ...}}.
    url = "https://api.shortapi.ai/api/v1/job/create"
    payload = {
        "model": "kwaivgi/kling-o1/image-to-video",
        "args": schemas.load("models/kling-o1-image-to-video.args.json")["examples"][0],
    }
    headers = {"Authorization": f"Bearer {shortapi_responses.api_key}"}
    data = requests.post(url, headers=headers, json=payload).json()
    job_id = data.get("job_id")
    result_url = f"https://api.shortapi.ai/api/v1/job/query?id={job_id}"
    result = requests.get(result_url, headers=headers)

    assert result.status_code == 404
    [violation] = shortapi_responses.violations()
    assert violation.rule == "query.unknown_job"
    assert "data.job_id" in violation.message  # the fix, spelled out
    shortapi_responses.expect_violations()


@pytest.mark.shortapi(check=False)
def test_opt_out_of_the_check(shortapi_mock: MockHandle, client: KlingClient) -> None:
    job = client.submit(prompt=PROMPT, images=IMAGES)
    shortapi_mock.run_all()
    for _ in range(5):  # keeps asking after the final status
        client.query(job.job_id)
    assert [v.rule for v in shortapi_mock.violations()] == ["poll.after_final"]


# httpx clients


def test_httpx_clients_are_routed_too(shortapi_httpx: MockHandle) -> None:
    args = {"mode": "std", "action": "frame", "prompt": PROMPT, "images": IMAGES}
    body = {"model": MODEL, "args": args}
    with httpx.Client(base_url="https://api.shortapi.ai/api/v1") as http:
        created = http.post("/job/create", json=body, headers=shortapi_httpx.headers).json()

    async def query() -> Any:
        async with httpx.AsyncClient(base_url="https://api.shortapi.ai/api/v1") as http:
            answer = await http.get(
                "/job/query",
                params={"id": created["data"]["job_id"]},
                headers=shortapi_httpx.headers,
            )
            return answer.json()

    shortapi_httpx.advance(10)
    assert asyncio.run(query())["data"]["status"] == 2


def test_httpx_transport(shortapi_mock: MockHandle) -> None:
    # Without respx: hand a transport into the app to the httpx client you build.
    transport = httpx_transport(shortapi_mock.app)
    with httpx.Client(transport=transport, base_url="https://api.shortapi.ai") as http:
        answer = http.get("/api/v1/job/query", params={"id": "nope"}, headers=shortapi_mock.headers)

    assert answer.status_code == 404
    assert answer.json()["code"] == 1203
    assert [v.rule for v in shortapi_mock.violations()] == ["query.unknown_job"]
    shortapi_mock.expect_violations()


# the tutorial


def _code_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def test_readme_snippets_are_tested_code() -> None:
    # Every Python snippet of examples/README.md is an excerpt of this file, so it runs.
    here = Path(__file__).parent
    snippets = re.findall(r"```python\n(.*?)```", (here / "README.md").read_text(), re.DOTALL)
    source = _code_lines(Path(__file__).read_text())
    assert len(snippets) >= 10
    for snippet in snippets:
        lines = _code_lines(snippet)
        found = any(source[i : i + len(lines)] == lines for i in range(len(source)))
        assert found, f"this README snippet is not in {Path(__file__).name}:\n{snippet}"
