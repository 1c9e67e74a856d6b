"""The plugin's ``shortapi_subprocess_env`` end to end with pytester: a user's test runs a
program in a subprocess, unmodified, and its requests land in the test's mock, under its
client checks."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.slow

# A program that knows nothing of the mock: the API's URL hard-coded, the key from the
# environment (as most public clients read it).
PROGRAM = """
import os, sys, time, requests
API = "https://api.shortapi.ai/api/v1"
auth = {"Authorization": "Bearer " + os.environ["SHORTAPI_KEY"]}
body = {"model": "google/nano-banana/text-to-image",
        "args": {"prompt": "a fox", "aspect_ratio": "1:1"}}
job = requests.post(API + "/job/create", json=body, headers=auth).json()
job_id = job["data"]["job_id"] if sys.argv[1] == "right" else job.get("job_id")
while True:
    data = requests.get(f"{API}/job/query?id={job_id}", headers=auth).json()
    if data.get("code") or data["data"]["status"] >= 2:
        break
    time.sleep(0.05)
url = data.get("data", {}).get("result", {}).get("images", [{}])[0].get("url")
print(url, requests.get(url).content[:4] if url else None)
"""

TESTS = """
import subprocess, sys
import pytest

def run(env, how):
    return subprocess.run([sys.executable, "program.py", how], env=env, capture_output=True,
                          text=True, timeout=60)

@pytest.mark.shortapi(clock="per-poll")
def test_the_program_talks_to_this_tests_mock(shortapi_subprocess_env, shortapi_mock):
    done = run(shortapi_subprocess_env, "right")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("https://api.shortapi.ai/files/")
    assert "PNG" in done.stdout
    (job,) = shortapi_mock.jobs()
    assert job["model"] == "google/nano-banana/text-to-image"

@pytest.mark.shortapi(clock="per-poll")
def test_a_program_reading_the_id_at_the_top_level(shortapi_subprocess_env):
    assert run(shortapi_subprocess_env, "wrong").returncode == 0
"""


def test_a_subprocess_is_under_the_tests_mock_and_its_checks(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(program=PROGRAM)
    pytester.makepyfile(test_user=TESTS)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-p", "no:schemathesis", "-W", "error"
    )
    result.assert_outcomes(passed=2, errors=1)
    # the second test's child queried id=None: the client check fails it at teardown
    result.stdout.fnmatch_lines(["*query.unknown_job*data.job_id*"])
