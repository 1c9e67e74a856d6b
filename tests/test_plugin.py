"""The pytest plugin end to end with pytester: user test files as they would be written."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

CLIENT = """
import requests

BODY = {"model": "kwaivgi/kling-o1/image-to-video",
        "args": {"mode": "std", "action": "frame", "prompt": "a cat",
                 "images": ["https://example.com/a.jpg"]}}


def submit(base, headers):
    response = requests.post(base + "/api/v1/job/create", json=BODY, headers=headers)
    response.raise_for_status()
    return response.json()


def query(base, headers, job_id):
    response = requests.get(f"{base}/api/v1/job/query?id={job_id}", headers=headers)
    return response.json().get("data")
"""


def run(pytester: pytest.Pytester, source: str, *args: str) -> pytest.RunResult:
    pytester.makepyfile(client=CLIENT)
    pytester.makepyfile(test_user=source)
    # schemathesis (a dev tool here) registers a pytest plugin that costs ~1 s per start
    return pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-p", "no:schemathesis", "-W", "error", *args
    )


def test_a_well_behaved_client_passes(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
from client import query, submit

def test_job_succeeds(shortapi_mock):
    job_id = submit(shortapi_mock.base_url, shortapi_mock.headers)["data"]["job_id"]
    data = query(shortapi_mock.base_url, shortapi_mock.headers, job_id)
    while data["status"] < 2:
        shortapi_mock.advance(3)   # the client's sleep, on the mock's clock
        data = query(shortapi_mock.base_url, shortapi_mock.headers, job_id)
    assert data["status"] == 2
    assert data["result"]["videos"][0]["url"].endswith(".mp4")  # a video model's key

def test_state_is_reset_between_tests(shortapi_mock):
    assert shortapi_mock.jobs() == []
    assert shortapi_mock.now() == 0
""",
    )
    result.assert_outcomes(passed=2)


def test_client_reading_job_id_at_top_level_is_caught(pytester: pytest.Pytester) -> None:
    # The documentation's own Python and JavaScript examples do this.
    result = run(
        pytester,
        """
from client import query, submit

def test_broken(shortapi_mock):
    created = submit(shortapi_mock.base_url, shortapi_mock.headers)
    job_id = created.get("job_id")
    query(shortapi_mock.base_url, shortapi_mock.headers, job_id)
""",
    )
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ContractViolation*broke the shortapi.ai contract 1 time*",
            "*GET /api/v1/job/query?id=None*query.unknown_job*data.job_id*",
        ]
    )


def test_client_polling_in_a_tight_loop_is_caught(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
import pytest
from client import query, submit

def test_tight_loop(shortapi_mock):  # the manual clock: the six polls share one clock second
    job_id = submit(shortapi_mock.base_url, shortapi_mock.headers)["data"]["job_id"]
    polls = 0
    while query(shortapi_mock.base_url, shortapi_mock.headers, job_id)["status"] < 2:
        polls += 1  # no wait between polls; the job ends when the clock has moved
        if polls == 6:
            shortapi_mock.advance(10)
""",
    )
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*poll.too_fast*queried 6 times within one second*"])


def test_client_treating_status_3_as_running_is_caught(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
import pytest
from client import query, submit

@pytest.mark.shortapi(scenario="fail:content_policy")
def test_failure_ignored(shortapi_mock):
    job_id = submit(shortapi_mock.base_url, shortapi_mock.headers)["data"]["job_id"]
    for _ in range(10):  # gives up after a while, treating 3 as "not done yet"
        status = query(shortapi_mock.base_url, shortapi_mock.headers, job_id)["status"]
        if status == 2:
            break
        shortapi_mock.advance(3)
""",
    )
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*poll.after_final*final status 3 (failed)*stop polling*"])


def test_rejected_requests_are_named_with_their_rules(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
import requests

def test_bad_request(shortapi_mock):
    body = {"model": "kwaivgi/kling-o1/image-to-video",
            "args": {"mode": "ultra", "action": "frame", "prompt": "x",
                     "images": ["https://example.com/a.gif"]}}
    response = requests.post(shortapi_mock.url("/api/v1/job/create"), json=body,
                             headers=shortapi_mock.headers)
    assert response.status_code == 400
""",
    )
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*POST /api/v1/job/create*/args/mode*(schema.enum)*"])


def test_opting_out_of_the_teardown_check(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
import pytest, requests

@pytest.mark.shortapi(check=False)
def test_marker(shortapi_mock):
    requests.get(shortapi_mock.url("/api/v1/job/query?id=nope"), headers=shortapi_mock.headers)

def test_method(shortapi_mock):
    shortapi_mock.expect_violations()
    requests.get(shortapi_mock.url("/api/v1/job/query?id=nope"), headers=shortapi_mock.headers)
    assert [v.rule for v in shortapi_mock.violations()] == ["query.unknown_job"]
""",
    )
    result.assert_outcomes(passed=2)


def test_errors_inside_the_mock_are_never_lost(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
import pytest
from client import query, submit
import mock_server.jobs.lifecycle

@pytest.mark.shortapi(check=False)
def test_mock_breaks(shortapi_mock, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("broken lifecycle")
    monkeypatch.setattr(mock_server.jobs.lifecycle, "data_for", boom)
    job_id = submit(shortapi_mock.base_url, shortapi_mock.headers)["data"]["job_id"]
    query(shortapi_mock.base_url, shortapi_mock.headers, job_id)
""",
    )
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*ServerError*broken lifecycle*"])


def test_marker_settings_apply(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
import pytest
from client import query, submit

@pytest.mark.shortapi(clock="per-poll", result_key="images")
def test_per_poll_images(shortapi_mock):
    job_id = submit(shortapi_mock.base_url, shortapi_mock.headers)["data"]["job_id"]
    seen = [query(shortapi_mock.base_url, shortapi_mock.headers, job_id) for _ in range(3)]
    assert [d["status"] for d in seen] == [0, 1, 2]
    assert "images" in seen[-1]["result"]

@pytest.mark.shortapi(key="my-key", profile="strict")
def test_key_and_profile(shortapi_mock):
    assert shortapi_mock.headers == {"Authorization": "Bearer my-key"}
    shortapi_mock.expect_violations()
    body = {"model": "kwaivgi/kling-o1/image-to-video",
            "args": {"mode": "std", "action": "frame", "prompt": "[@image2]",
                     "images": ["https://example.com/a.jpg"]}}
    import requests
    assert requests.post(shortapi_mock.url("/api/v1/job/create"), json=body,
                         headers=shortapi_mock.headers).status_code == 400
""",
    )
    result.assert_outcomes(passed=2)


def test_command_line_options_apply(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
from client import query, submit

def test_images(shortapi_mock):
    job_id = submit(shortapi_mock.base_url, shortapi_mock.headers)["data"]["job_id"]
    shortapi_mock.run_all()
    assert "images" in query(shortapi_mock.base_url, shortapi_mock.headers, job_id)["result"]
""",
        "--shortapi-result-key=images",
    )
    result.assert_outcomes(passed=1)


def test_responses_fixture_needs_no_socket(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
import pytest, requests, socket
from client import query, submit

API = "https://api.shortapi.ai"

def test_in_process(shortapi_responses, monkeypatch):
    def no_socket(*args, **kwargs):
        raise AssertionError("a socket was opened")
    monkeypatch.setattr(socket, "create_connection", no_socket)
    headers = shortapi_responses.headers
    job_id = submit(API, headers)["data"]["job_id"]
    shortapi_responses.advance(10)
    data = query(API, headers, job_id)
    assert data["status"] == 2
    video = requests.get(data["result"]["videos"][0]["url"])
    assert video.headers["Content-Type"] == "video/mp4" and video.content[4:8] == b"ftyp"

def test_faults_in_process(shortapi_responses):
    shortapi_responses.fault("reset", endpoint="create")
    with pytest.raises(requests.ConnectionError):
        submit(API, shortapi_responses.headers)
    shortapi_responses.fault("503", endpoint="create")
    assert requests.post(API + "/api/v1/job/create", json={},
                         headers=shortapi_responses.headers).status_code == 503
""",
    )
    result.assert_outcomes(passed=2)


def test_httpx_fixture_sync_and_async(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
import asyncio, httpx

API = "https://api.shortapi.ai/api/v1"
BODY = {"model": "kwaivgi/kling-o1/image-to-video",
        "args": {"mode": "pro", "action": "frame", "prompt": "a cat",
                 "images": ["https://example.com/a.jpg"]}}

def test_sync(shortapi_httpx):
    with httpx.Client(base_url=API, headers=shortapi_httpx.headers) as client:
        created = client.post("/job/create", json=BODY).json()
        assert created["data"]["amount"] == "0.5"

def test_async(shortapi_httpx):
    async def main():
        async with httpx.AsyncClient(base_url=API, headers=shortapi_httpx.headers) as client:
            job_id = (await client.post("/job/create", json=BODY)).json()["data"]["job_id"]
            shortapi_httpx.advance(10)
            return (await client.get("/job/query", params={"id": job_id})).json()
    assert asyncio.run(main())["data"]["status"] == 2
""",
    )
    result.assert_outcomes(passed=2)


def test_variants_are_opt_in(pytester: pytest.Pytester) -> None:
    source = """
def test_every_variant(shortapi_mock, shortapi_variant):
    assert shortapi_variant.name
"""
    run(pytester, source).assert_outcomes(passed=1)
    result = run(pytester, source, "--shortapi-variants", "-v")
    result.assert_outcomes(passed=14)
    result.stdout.fnmatch_lines(
        [
            "*[[]succeeded[]]*",
            "*[[]succeeded-images[]]*",
            "*failed-content_policy*",
            "*failed-status-4*",
            "*create-503-once*",
            "*create-3000-once*",
            "*errors-as-200*",
            "*statuses-as-strings*",
        ]
    )


def test_the_default_variant_and_succeeded_images_give_both_result_keys(
    pytester: pytest.Pytester,
) -> None:
    result = run(
        pytester,
        """
import pytest
from client import query, submit

@pytest.mark.shortapi(variants=True)
def test_result(shortapi_mock, shortapi_variant):
    if shortapi_variant.name not in ("succeeded", "succeeded-images"):
        pytest.skip("not a result-key variant")
    job_id = submit(shortapi_mock.base_url, shortapi_mock.headers)["data"]["job_id"]
    shortapi_mock.run_all()
    result = query(shortapi_mock.base_url, shortapi_mock.headers, job_id)["result"]
    expected = "videos" if shortapi_variant.name == "succeeded" else "images"
    assert list(result) == [expected]
""",
    )
    result.assert_outcomes(passed=2, skipped=12)


def test_errors_as_200_catches_a_client_that_checks_only_the_http_status(
    pytester: pytest.Pytester,
) -> None:
    result = run(
        pytester,
        """
import pytest, requests
from client import BODY

def naive_submit(mock):  # raise_for_status, then trust the body
    response = requests.post(mock.url("/api/v1/job/create"), json=BODY, headers=mock.headers)
    response.raise_for_status()
    return response.json()["data"]["job_id"]

def careful_submit(mock):  # the code decides; a 5001 is retried
    for _ in range(3):
        response = requests.post(mock.url("/api/v1/job/create"), json=BODY,
                                 headers=mock.headers)
        body = response.json()
        if body["code"] == 0:
            return body["data"]["job_id"]
        assert body["code"] == 5001
        mock.advance(float(response.headers["Retry-After"]))  # honour it: 1 s
    raise AssertionError("no job")

@pytest.mark.shortapi(variants=True)
@pytest.mark.parametrize("submit", [naive_submit, careful_submit])
def test_create(shortapi_mock, shortapi_variant, submit):
    if shortapi_variant.name != "errors-as-200":
        pytest.skip("only errors-as-200 here")
    assert submit(shortapi_mock)
    statuses = [(e["sent_status"], e["code"]) for e in shortapi_mock.requests()]
    assert statuses == [(200, 5001), (200, 0)]
""",
        "-v",
    )
    result.assert_outcomes(passed=1, failed=1, skipped=26)
    result.stdout.fnmatch_lines(["*errors-as-200-naive_submit*FAILED*", "*KeyError: 'data'*"])


def test_failed_status_4_catches_a_client_that_waits_for_3(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
import pytest
from client import query, submit

def wait(mock, job_id, final):
    for _ in range(10):
        status = query(mock.base_url, mock.headers, job_id)["status"]
        if status in final:
            return status
        mock.advance(3)
    raise TimeoutError(f"still {status}")

@pytest.mark.shortapi(variants=True)
@pytest.mark.parametrize("final", [(2, 3), range(2, 100)], ids=["is-3", "above-2"])
def test_wait(shortapi_mock, shortapi_variant, final):
    if shortapi_variant.name != "failed-status-4":
        pytest.skip("only failed-status-4 here")
    shortapi_mock.expect_violations()  # the first client polls on after the end
    job_id = submit(shortapi_mock.base_url, shortapi_mock.headers)["data"]["job_id"]
    assert wait(shortapi_mock, job_id, final) == shortapi_variant.job_status == 4
""",
        "-v",
    )
    result.assert_outcomes(passed=1, failed=1, skipped=26)
    result.stdout.fnmatch_lines(["*failed-status-4-is-3*FAILED*", "*TimeoutError: still 4*"])


def test_error_status_option_and_marker(pytester: pytest.Pytester) -> None:
    source = """
import pytest, requests
from client import BODY

def create_faulted(mock):
    mock.fault("3000", endpoint="create")
    response = requests.post(mock.url("/api/v1/job/create"), json=BODY, headers=mock.headers)
    return response.status_code, response.json()["code"]

def test_option(shortapi_mock, pytestconfig):
    expected = 200 if pytestconfig.getoption("shortapi_error_status") == "200" else 502
    assert create_faulted(shortapi_mock) == (expected, 3000)

@pytest.mark.shortapi(error_status="200")
def test_marker(shortapi_mock):
    assert create_faulted(shortapi_mock) == (200, 3000)

@pytest.mark.shortapi(error_status="http")
def test_marker_http(shortapi_mock):
    assert create_faulted(shortapi_mock) == (502, 3000)
"""
    run(pytester, source).assert_outcomes(passed=3)
    run(pytester, source, "--shortapi-error-status=200").assert_outcomes(passed=3)


def test_callbacks_reach_the_receiver_fixture(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
import requests
from client import BODY

def test_callback(shortapi_mock, shortapi_receiver):
    response = requests.post(shortapi_mock.url("/api/v1/job/create"),
                             json={**BODY, "callback_url": shortapi_receiver.url},
                             headers=shortapi_mock.headers)
    job_id = response.json()["data"]["job_id"]
    shortapi_mock.run_all()
    [body] = shortapi_receiver.bodies()
    assert body["data"]["job_id"] == job_id and body["data"]["status"] == 2
""",
    )
    result.assert_outcomes(passed=1)


def test_misspelt_marker_setting_is_a_usage_error(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
import pytest

@pytest.mark.shortapi(clok="per-poll")
def test_typo(shortapi_mock):
    pass
""",
    )
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*unknown setting(s) clok*"])


def test_sleep_moves_the_clock_and_is_recorded(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
def test_sleep(shortapi_mock):
    shortapi_mock.sleep(2.5)
    shortapi_mock.sleep(1)
    assert shortapi_mock.sleeps == [2.5, 1]
    assert shortapi_mock.now() == 3.5

def test_per_poll_polling_is_not_too_fast(shortapi_mock):
    import pytest, requests
    from client import BODY
    shortapi_mock.set_clock("per-poll")
    shortapi_mock.scenario("stuck")
    job = requests.post(shortapi_mock.url("/api/v1/job/create"), json=BODY,
                        headers=shortapi_mock.headers).json()["data"]["job_id"]
    for _ in range(8):
        requests.get(shortapi_mock.url(f"/api/v1/job/query?id={job}"),
                     headers=shortapi_mock.headers)
    assert shortapi_mock.violations() == []
""",
    )
    result.assert_outcomes(passed=2)
