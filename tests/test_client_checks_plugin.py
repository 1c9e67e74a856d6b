"""The retry checks end to end: real `requests` clients misbehaving (or not) under the
plugin's fixtures, run with pytester so the teardown check and the terminal summary are
what a user sees. The checks over hand-made entries: tests/test_client_checks.py."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

CLIENT = """
import requests

API = "https://api.shortapi.ai"
CREATE = "/api/v1/job/create"
BODY = {"model": "kwaivgi/kling-o1/image-to-video",
        "args": {"mode": "std", "action": "frame", "prompt": "a cat",
                 "images": ["https://example.com/a.jpg"]}}
THROTTLED = (1302, 1303, 5001)


class UnknownOutcome(Exception):
    "The create was sent, its answer lost: it may have made (and billed) a job."


def create_honouring_retry_after(base, headers, sleep, body=BODY):
    "Retry a throttled create (429/503, or its code under HTTP 200) after Retry-After."
    for _ in range(5):
        response = requests.post(base + CREATE, json=body, headers=headers)
        if response.status_code not in (429, 503) and response.json()["code"] not in THROTTLED:
            return response.json()
        sleep(float(response.headers.get("Retry-After", "1")))
    raise RuntimeError("still throttled")


def create_blindly(base, headers, body=BODY):
    "Resend the create on any connection error: after ack-lost, this pays twice."
    for _ in range(3):
        try:
            return requests.post(base + CREATE, json=body, headers=headers).json()
        except requests.ConnectionError:
            continue
    raise RuntimeError("no answer")


def create_once(base, headers, body=BODY):
    "A create whose answer is lost is reported, not resent."
    try:
        return requests.post(base + CREATE, json=body, headers=headers).json()
    except requests.ConnectionError as lost:
        raise UnknownOutcome("the create may have made a job; not resending it") from lost
"""
WAYS_OUT = (
    "*If this test sends bad requests on purpose: mark it @pytest.mark.shortapi(check=False), "
    "call {}.expect_violations(), or run with --shortapi-check=off."
)


def run(pytester: pytest.Pytester, source: str, *args: str) -> pytest.RunResult:
    pytester.makepyfile(client=CLIENT)
    pytester.makepyfile(test_user=source)
    # schemathesis (a dev tool here) registers a pytest plugin that costs ~1 s per start
    return pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-p", "no:schemathesis", "-W", "error", *args
    )


def test_a_client_retrying_before_retry_after_fails(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
from client import API, create_honouring_retry_after

def test_hasty(shortapi_responses):
    shortapi_responses.fault("429,retry-after:5", endpoint="create")
    # waits a fixed second on the mock's clock, whatever Retry-After says
    created = create_honouring_retry_after(API, shortapi_responses.headers,
                                           sleep=lambda s: shortapi_responses.advance(1))
    assert created["code"] == 0
""",
    )
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ContractViolation*broke the shortapi.ai contract 1 time*",
            "*#2 POST /api/v1/job/create: [[]retry.too_soon[]] sent 1 s after #1 answered HTTP "
            "429 code 1302 with Retry-After: 5; wait Retry-After seconds (5) before retrying*",
            WAYS_OUT.format("shortapi_responses"),
        ]
    )


def test_clients_waiting_retry_after_pass(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
import pytest
from client import API, create_honouring_retry_after

def test_patient(shortapi_responses):
    shortapi_responses.fault("429,retry-after:5", count=2, endpoint="create")
    created = create_honouring_retry_after(API, shortapi_responses.headers,
                                           sleep=shortapi_responses.sleep)
    assert created["code"] == 0 and shortapi_responses.sleeps == [5, 5]

def test_patient_over_http(shortapi_mock):
    shortapi_mock.fault("503,retry-after:3", endpoint="create")
    create_honouring_retry_after(shortapi_mock.base_url, shortapi_mock.headers,
                                 sleep=shortapi_mock.sleep)

@pytest.mark.shortapi(error_status="200")
def test_patient_with_errors_as_http_200(shortapi_responses):
    shortapi_responses.fault("429,retry-after:4", endpoint="create")
    create_honouring_retry_after(API, shortapi_responses.headers,
                                 sleep=shortapi_responses.sleep)
    assert shortapi_responses.sleeps == [4]
""",
    )
    result.assert_outcomes(passed=3)


def test_a_throttled_code_under_http_200_is_timed_too(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
import pytest, requests
from client import API, BODY, CREATE

@pytest.mark.shortapi(error_status="200")
def test_reads_only_the_status(shortapi_responses):
    shortapi_responses.fault("429,retry-after:4", endpoint="create")
    for _ in range(3):  # "HTTP 200, so it worked": sends again at once
        response = requests.post(API + CREATE, json=BODY, headers=shortapi_responses.headers)
        assert response.status_code == 200
        if response.json()["code"] == 0:
            break
""",
    )
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*[[]retry.too_soon[]]*code 1302 with Retry-After: 4*"])


def test_a_blind_retry_after_ack_lost_fails_naming_the_billed_job(
    pytester: pytest.Pytester,
) -> None:
    result = run(
        pytester,
        """
from client import API, create_blindly

def test_blind(shortapi_responses):
    shortapi_responses.fault("ack-lost", endpoint="create")
    create_blindly(API, shortapi_responses.headers)
    second, first = shortapi_responses.jobs()  # newest first: the lost answer's job billed
    [found] = shortapi_responses.violations()
    assert found.rule == "create.blind_retry"
    assert f"job {first['id']} was created and billed" in found.message

def test_blind_over_http(shortapi_mock):
    shortapi_mock.fault("ack-lost", endpoint="create")
    create_blindly(shortapi_mock.base_url, shortapi_mock.headers)
    assert len(shortapi_mock.jobs()) == 2
""",
    )
    result.assert_outcomes(passed=2, errors=2)
    result.stdout.fnmatch_lines(
        [
            "*#2 POST /api/v1/job/create: [[]create.blind_retry[]] resent the create of #1 "
            "after its connection dropped, but the API had received it: job * was created and "
            "billed. The API has no idempotency key, so a blind retry pays twice*",
            WAYS_OUT.format("shortapi_responses"),
        ]
    )
    result.stdout.fnmatch_lines(
        ["*test_blind_over_http*", "*[[]create.blind_retry[]]*", WAYS_OUT.format("shortapi_mock")]
    )


def test_a_client_reporting_a_lost_create_passes(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
import pytest
from client import API, UnknownOutcome, create_once

def test_careful(shortapi_responses):
    shortapi_responses.fault("ack-lost", endpoint="create")
    with pytest.raises(UnknownOutcome):
        create_once(API, shortapi_responses.headers)
    assert len(shortapi_responses.jobs()) == 1  # created and billed, as the API would

def test_careful_over_http(shortapi_mock):
    shortapi_mock.fault("ack-lost", endpoint="create")
    with pytest.raises(UnknownOutcome):
        create_once(shortapi_mock.base_url, shortapi_mock.headers)

def test_retrying_a_drop_that_billed_nothing(shortapi_responses):
    shortapi_responses.fault("reset", endpoint="create")
    create_blindly(API, shortapi_responses.headers)
    assert len(shortapi_responses.jobs()) == 1

from client import create_blindly
""",
    )
    result.assert_outcomes(passed=3)
    result.stdout.no_fnmatch_line("*shortapi client warnings*")


def test_a_repeated_create_is_a_warning_in_the_summary(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
from client import API, BODY, create_once

def test_twice(shortapi_responses):
    create_once(API, shortapi_responses.headers)
    shortapi_responses.advance(30)
    create_once(API, shortapi_responses.headers)  # e.g. a retry on a timeout of its own
    assert shortapi_responses.violations() == []
    assert [w.rule for w in shortapi_responses.warnings()] == ["create.duplicate"]

def test_later_or_different(shortapi_responses):
    create_once(API, shortapi_responses.headers)
    shortapi_responses.advance(61)
    create_once(API, shortapi_responses.headers)
    create_once(API, shortapi_responses.headers,
                body={**BODY, "args": {**BODY["args"], "prompt": "a dog"}})
""",
    )
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            "*= shortapi client warnings =*",
            "test_user.py::test_twice",
            "  #2 POST /api/v1/job/create: [[]create.duplicate[]] the same create (same key and "
            "body) as #1, 30 s earlier on the mock's clock, which made job *: each create is a "
            "new, billed job*",
            "If a test repeats a create on purpose: mark it @pytest.mark.shortapi(check=False), "
            "call shortapi_responses.expect_violations(), or run with --shortapi-check=off.",
        ]
    )
    result.stdout.no_fnmatch_line("*test_later_or_different*")


@pytest.mark.parametrize(
    ("opt_out", "args"),
    [
        ("@pytest.mark.shortapi(check=False)", ()),
        ("", ("--shortapi-check=off",)),
        ("EXPECT", ()),
    ],
)
def test_each_way_out_turns_the_new_checks_off(
    pytester: pytest.Pytester, opt_out: str, args: tuple[str, ...]
) -> None:
    marker = "" if opt_out == "EXPECT" else opt_out
    expect = "    shortapi_responses.expect_violations()" if opt_out == "EXPECT" else ""
    result = run(
        pytester,
        f"""
import pytest
from client import API, create_blindly, create_once

{marker}
def test_on_purpose(shortapi_responses):
{expect}
    shortapi_responses.fault("ack-lost", endpoint="create")
    create_blindly(API, shortapi_responses.headers)
    create_once(API, shortapi_responses.headers)
""",
        *args,
    )
    result.assert_outcomes(passed=1)
    result.stdout.no_fnmatch_line("*shortapi client warnings*")


UNDOCUMENTED = """
from client import API, BODY, create_once

def test_undocumented_arg(shortapi_responses):
    answer = create_once(API, shortapi_responses.headers,
                         body={**BODY, "args": {**BODY["args"], "seed": 7}})
    assert answer["code"] == 0
"""


def test_an_undocumented_arg_is_a_warning_in_the_summary(pytester: pytest.Pytester) -> None:
    result = run(pytester, UNDOCUMENTED)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "*= shortapi client warnings =*",
            "test_user.py::test_undocumented_arg",
            "  #1 POST /api/v1/job/create: [[]args.unknown_key[]] /args/seed unknown key 'seed'*",
            "To fail a test on a warning kind (e.g. args.unknown_key): "
            "--shortapi-fail-on-warning KIND, or "
            "@pytest.mark.shortapi(fail_on_warning=[[]KIND[]]).",
        ]
    )


@pytest.mark.parametrize(
    ("source", "args"),
    [
        (UNDOCUMENTED, ("--shortapi-fail-on-warning", "args.unknown_key")),
        (
            UNDOCUMENTED.replace(
                "def test_",
                "import pytest\n"
                "@pytest.mark.shortapi(fail_on_warning=['args.unknown_key'])\ndef test_",
            ),
            (),
        ),
    ],
    ids=["option", "marker"],
)
def test_a_warning_kind_made_fatal_fails_the_test(
    pytester: pytest.Pytester, source: str, args: tuple[str, ...]
) -> None:
    result = run(pytester, source, *args)
    result.assert_outcomes(passed=1, errors=1)  # the teardown check fails it
    result.stdout.fnmatch_lines(
        ["*the client broke the shortapi.ai contract 1 time(s):*", "*[[]args.unknown_key[]]*"]
    )


def test_another_warning_kind_made_fatal_leaves_the_test_passing(
    pytester: pytest.Pytester,
) -> None:
    result = run(pytester, UNDOCUMENTED, "--shortapi-fail-on-warning", "args.default_applied")
    result.assert_outcomes(passed=1)


@pytest.mark.parametrize("args", [("--shortapi-strict-args",), ("--shortapi-profile=strict",)])
def test_strict_args_option_refuses_an_undocumented_arg(
    pytester: pytest.Pytester, args: tuple[str, ...]
) -> None:
    source = UNDOCUMENTED.replace('assert answer["code"] == 0', 'assert answer["code"] == 1201')
    source = source.replace(
        "def test_", "import pytest\n@pytest.mark.shortapi(check=False)\ndef test_"
    )
    result = run(pytester, source, *args)
    result.assert_outcomes(passed=1)


def test_strict_args_marker_refuses_an_undocumented_arg(pytester: pytest.Pytester) -> None:
    source = UNDOCUMENTED.replace('assert answer["code"] == 0', 'assert answer["code"] == 1201')
    source = source.replace(
        "def test_",
        "import pytest\n@pytest.mark.shortapi(strict_args=True, check=False)\ndef test_",
    )
    result = run(pytester, source)
    result.assert_outcomes(passed=1)
