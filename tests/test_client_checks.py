"""The client checks over hand-made journal entries, and the journal fields they read.

End to end (real clients misbehaving under the plugin's fixtures, the teardown and the
terminal summary): tests/test_client_checks_plugin.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from mock_server.catalog.registry import MODELS
from mock_server.data import schemas
from mock_server.testing import client_checks
from mock_server.testing.client_checks import ContractViolation, Violation

CREATE = "/api/v1/job/create"
QUERY = "/api/v1/job/query"
WAYS_OUT = (
    "If this test sends bad requests on purpose: mark it @pytest.mark.shortapi(check=False), "
    "call shortapi_mock.expect_violations(), or run with --shortapi-check=off."
)
BODY = {
    "model": "kwaivgi/kling-o1/image-to-video",
    "args": {
        "mode": "std",
        "action": "frame",
        "prompt": "a cat",
        "images": ["https://example.com/a.jpg"],
    },
}


def entry(entry_id: int, path: str = CREATE, **fields: Any) -> dict[str, Any]:
    """A journal entry as journal.py writes it: a create accepted at clock 0 by default."""
    create = path == CREATE
    return {
        "id": entry_id,
        "method": "POST" if create else "GET",
        "path": path,
        "query": "" if create else "id=j1",
        "key": "key_aaaaaaaaaaaa",
        "status": 200,
        "code": 0,
        "outcome": "accepted" if create else "ok",
        "fault": None,
        "job_id": f"job{entry_id}" if create else "j1",
        "job_status": None if create else 0,
        "clock": 0.0,
        "retry_after": None,
        "body": '{"model": "m"}' if create else "",
        "body_sha256": "0123456789abcdef" if create else None,
        "problems": [],
        **fields,
    }


def throttled(entry_id: int, path: str = CREATE, **fields: Any) -> dict[str, Any]:
    """A 429 the mock was told to answer (a fault): no job, Retry-After: 5."""
    return entry(
        entry_id,
        path,
        **{
            "status": 429,
            "code": 1302,
            "outcome": "fault",
            "fault": "429,retry-after:5",
            "job_id": None,
            "body": "",
            "body_sha256": None,
            "retry_after": "5",
            **fields,
        },
    )


def rules(entries: list[dict[str, Any]]) -> list[tuple[int, str, str]]:
    return [(v.entry_id, v.rule, v.severity) for v in client_checks.findings(entries)]


# retry.too_soon


def test_a_retry_before_retry_after_elapsed_is_a_violation() -> None:
    found = client_checks.violations([throttled(1), entry(2, clock=2.0)])
    assert [(v.entry_id, v.rule) for v in found] == [(2, "retry.too_soon")]
    assert "sent 2 s after #1 answered HTTP 429 code 1302 with Retry-After: 5" in found[0].message
    assert "wait Retry-After seconds (5) before retrying" in found[0].message
    assert "shortapi_mock.sleep" in found[0].message


@pytest.mark.parametrize("clock", [5.0, 7.5])
def test_a_retry_after_retry_after_elapsed_passes(clock: float) -> None:
    assert rules([throttled(1), entry(2, clock=clock)]) == []


def test_retry_after_is_per_key_and_per_endpoint() -> None:
    other_key = entry(2, clock=1.0, key="key_bbbbbbbbbbbb")
    query = entry(3, QUERY, clock=1.0)
    assert rules([throttled(1), other_key, query]) == []


def test_only_the_next_request_is_timed_against_the_answer() -> None:
    # The retry at 5 s is in time; the one after it is not a retry of #1.
    assert rules([throttled(1), entry(2, clock=5.0), entry(3, clock=5.5, body_sha256="x")]) == []


def test_each_throttling_answer_is_timed_on_its_own() -> None:
    entries = [throttled(1), throttled(2, clock=1.0), entry(3, clock=7.0), throttled(4, clock=7)]
    assert rules([*entries, entry(5, clock=8.0, body_sha256="y")]) == [
        (2, "retry.too_soon", "error"),
        (5, "retry.too_soon", "error"),
    ]


def test_a_503_and_a_query_are_timed_too() -> None:
    unavailable = throttled(1, QUERY, status=503, code=5001, retry_after="3")
    assert rules([unavailable, entry(2, QUERY, clock=1.0)]) == [(2, "retry.too_soon", "error")]


def test_the_code_counts_when_errors_answer_http_200() -> None:
    # error_status=200: the status says nothing; the envelope's code says "rate limited".
    limited = throttled(1, status=200, code=1302)
    assert rules([limited, entry(2, clock=0.5)]) == [(2, "retry.too_soon", "error")]


def test_retry_after_on_other_answers_or_without_a_clock_is_not_timed() -> None:
    bad_request = throttled(1, status=400, code=1201)
    assert rules([bad_request, entry(2, clock=0.0)]) == []
    per_poll = [throttled(1, clock=None), entry(2, clock=None)]
    assert rules(per_poll) == []
    assert rules([throttled(1, retry_after="Wed, 21 Oct 2015 07:28:00 GMT"), entry(2)]) == []


# create.blind_retry


def test_the_same_create_after_ack_lost_is_a_violation_naming_the_billed_job() -> None:
    lost = entry(1, outcome="fault", fault="ack-lost", job_id="6b0e0000billed")
    [found] = client_checks.violations([lost, entry(2, clock=30.0)])
    assert (found.entry_id, found.rule) == (2, "create.blind_retry")
    assert "resent the create of #1" in found.message
    assert "job 6b0e0000billed was created and billed" in found.message
    assert "no idempotency key, so a blind retry pays twice" in found.message


def test_a_blind_retry_is_caught_whatever_the_clock_and_the_retry_answer() -> None:
    lost = entry(1, outcome="fault", fault="latency:20,ack-lost", clock=None)
    refused = entry(2, status=503, code=5001, outcome="fault", job_id=None, clock=None)
    assert rules([lost, refused, entry(3, clock=None)]) == [(2, "create.blind_retry", "error")]


def test_a_different_create_after_ack_lost_passes() -> None:
    lost = entry(1, outcome="fault", fault="ack-lost")
    other_body = entry(2, body_sha256="fedcba9876543210")
    other_key = entry(3, key="key_bbbbbbbbbbbb")
    assert rules([lost, other_body, other_key]) == []


def test_a_create_after_a_drop_that_billed_nothing_passes() -> None:
    # "reset"/"empty" drop the connection before the create runs: resending is right.
    for fault in ("reset", "empty"):
        dropped = entry(1, outcome="fault", fault=fault, job_id=None, body="", body_sha256=None)
        assert rules([dropped, entry(2)]) == []


# create.duplicate (a warning)


def test_an_identical_create_within_60_clock_seconds_is_a_warning() -> None:
    found = client_checks.findings([entry(1, job_id="first"), entry(2, clock=60.0)])
    assert [(v.entry_id, v.rule, v.severity) for v in found] == [(2, "create.duplicate", "warning")]
    assert "same create (same key and body) as #1, 60 s earlier" in found[0].message
    assert "made job first" in found[0].message
    assert client_checks.violations([entry(1), entry(2, clock=60.0)]) == []
    assert [w.rule for w in client_checks.warnings([entry(1), entry(2)])] == ["create.duplicate"]


def test_identical_creates_further_apart_or_without_a_clock_or_a_job_pass() -> None:
    assert rules([entry(1), entry(2, clock=60.5)]) == []
    assert rules([entry(1, clock=None), entry(2, clock=None)]) == []
    rejected = entry(1, status=429, code=1303, outcome="rejected", job_id=None)
    assert rules([rejected, entry(2, clock=1.0)]) == []


def test_the_journaled_body_stands_in_for_a_missing_digest() -> None:
    old = [entry(1, body_sha256=None), entry(2, body_sha256=None)]
    assert rules(old) == [(2, "create.duplicate", "warning")]
    assert rules([old[0], entry(2, body_sha256=None, body='{"model": "n"}')]) == []


# item 8: the message names the ways out


def test_the_violation_message_lists_breaks_then_warnings_then_the_ways_out() -> None:
    broken = Violation(3, "retry.too_soon", "wait", "POST /api/v1/job/create")
    warned = Violation(4, "create.duplicate", "same", "POST /api/v1/job/create", "warning")
    text = str(ContractViolation([broken], [warned]))
    assert text.splitlines() == [
        "the client broke the shortapi.ai contract 1 time(s):",
        "  #3 POST /api/v1/job/create: [retry.too_soon] wait",
        "and 1 warning(s):",
        "  #4 POST /api/v1/job/create: [create.duplicate] same",
        WAYS_OUT,
    ]
    named = str(ContractViolation([broken], fixture="shortapi_responses"))
    assert named.endswith(
        "call shortapi_responses.expect_violations(), or run with --shortapi-check=off."
    )


# what the journal holds for these checks (both stores)


def test_the_journal_records_clock_retry_after_and_a_body_digest(client: FlaskClient) -> None:
    headers = {"Authorization": "Bearer k", "X-Mock-Fault": "429,retry-after:7"}
    assert client.post(CREATE, json=BODY, headers=headers).status_code == 429
    client.post("/_mock/clock/advance", json={"seconds": 7})
    assert client.post(CREATE, json=BODY, headers={"Authorization": "Bearer k"}).status_code == 200
    assert client.post(CREATE, json={**BODY, "x": 1}, headers={"Authorization": "Bearer k"})
    limited, created, other = client.get("/_mock/requests").get_json()["requests"]
    assert (limited["retry_after"], limited["clock"]) == ("7", 0.0)
    assert (created["retry_after"], created["clock"]) == (None, 7.0)
    assert len(created["body_sha256"]) == 16 and created["body_sha256"] != other["body_sha256"]
    assert client_checks.findings([limited, created]) == []


def test_the_per_poll_clock_leaves_creates_unclocked(client: FlaskClient) -> None:
    client.post("/_mock/clock", json={"mode": "per-poll"})
    client.post(CREATE, json=BODY, headers={"Authorization": "Bearer k"})
    [created] = client.get("/_mock/requests").get_json()["requests"]
    assert created["clock"] is None


@pytest.mark.parametrize(
    "model", ["google/veo-3/text-to-video", "google/nano-banana/edit", "suno/suno-v5/generate"]
)
def test_the_checks_hold_for_every_output_kind(client: FlaskClient, model: str) -> None:
    """Nothing in the checks reads kling's args or a result key: any model's journal works."""
    args = schemas.load(MODELS[model].args_schema)["examples"][0]
    auth = {"Authorization": "Bearer k"}
    job = client.post(CREATE, json={"model": model, "args": args}, headers=auth).get_json()
    status = 0
    while status < 2:  # a polite client: one poll per clock step, stop at the final status
        client.post("/_mock/clock/advance", json={"seconds": 5})
        query = client.get(f"{QUERY}?id={job['data']['job_id']}", headers=auth).get_json()
        status = query["data"]["status"]
    assert status == 2 and MODELS[model].output in query["data"]["result"]
    client.post(CREATE, json={"model": model, "args": {**args, "zzz": 1}}, headers=auth)
    client.post(CREATE, json={"model": model, "args": []}, headers=auth)
    entries = client.get("/_mock/requests").get_json()["requests"]
    found = [(v.rule, v.severity) for v in client_checks.findings(entries)]
    assert ("args.unknown_key", "warning") in found and ("request.rejected", "error") in found
    fatal = client_checks.findings(entries, fatal={"args.unknown_key"})
    assert ("args.unknown_key", "error") in [(v.rule, v.severity) for v in fatal]


def test_polling_on_after_a_status_4_failure_is_polling_after_final() -> None:
    queries = [
        entry(i, QUERY, job_status=status, clock=float(i * 5))
        for i, status in enumerate((1, 4, 4, 4, 4, 4), start=1)
    ]
    found = [v for v in client_checks.polling(queries) if v.rule == "poll.after_final"]
    assert len(found) == 1
    assert "final status 4 (failed)" in found[0].message
