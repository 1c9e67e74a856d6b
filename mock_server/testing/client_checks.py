"""Client contract checks: which requests a client sent broke the API's contract.

Each check is a generator over the request journal that yields `Violation`s naming the
request and the rule it broke, with a message that says how to fix the client. Faults and
429s the mock was told to produce are not the client's fault and are never reported; what
the client does *after* them is (`retries_too_soon`, `repeated_creates`). A finding of
severity "warning" never fails a test: the plugin lists it in the terminal summary.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from mock_server.api import hints
from mock_server.control.faults import ACK_LOST
from mock_server.errors import CONCURRENCY_LIMITED, RATE_LIMITED, UNAVAILABLE
from mock_server.jobs.status import TERMINAL, Status

Entry = dict[str, Any]
CREATE = "/api/v1/job/create"
THROTTLED_STATUSES = (429, 503)
# The codes that say "come back later", whatever the HTTP status (errors may answer HTTP 200
# with the code alone under the error_status=200 setting).
THROTTLED_CODES = (RATE_LIMITED, CONCURRENCY_LIMITED, UNAVAILABLE)
DUPLICATE_WINDOW = 60.0  # clock seconds within which an identical create is worth a warning


@dataclass(frozen=True)
class Violation:
    """One request (journal entry) that broke the contract, and why; or, with severity
    "warning", one that probably did (reported, never failing the test)."""

    entry_id: int
    rule: str
    message: str
    request: str  # "POST /api/v1/job/create"
    severity: str = "error"  # or "warning"

    def __str__(self) -> str:
        return f"#{self.entry_id} {self.request}: [{self.rule}] {self.message}"


def ways_out(*fixtures: str, lead: str = "If this test sends bad requests on purpose") -> str:
    """Return the sentence naming every way to turn the check off for a deliberate test."""
    calls = " or ".join(f"{name}.expect_violations()" for name in fixtures or ("shortapi_mock",))
    return (
        f"{lead}: mark it @pytest.mark.shortapi(check=False), call {calls}, "
        "or run with --shortapi-check=off."
    )


class ContractViolation(AssertionError):
    """The client under test broke the API's contract; the message lists every break (and
    every warning), then the ways to opt out for a test that misbehaves on purpose."""

    def __init__(
        self,
        violations: Sequence[Violation],
        warnings: Sequence[Violation] = (),
        *,
        fixture: str = "shortapi_mock",
    ) -> None:
        self.violations = list(violations)
        self.warnings = list(warnings)
        lines = "\n".join(f"  {v}" for v in self.violations)
        text = f"the client broke the shortapi.ai contract {len(self.violations)} time(s):\n{lines}"
        if self.warnings:
            text += f"\nand {len(self.warnings)} warning(s):\n"
            text += "\n".join(f"  {w}" for w in self.warnings)
        super().__init__(f"{text}\n{ways_out(fixture)}")


def _request(entry: Entry) -> str:
    query = f"?{entry['query']}" if entry.get("query") else ""
    return f"{entry['method']} {entry['path']}{query}"


def rejected_requests(entries: Iterable[Entry]) -> Iterator[Violation]:
    """Requests the API refused as malformed, unauthenticated or invalid."""
    for entry in entries:
        status = entry.get("status", 0)
        if entry.get("outcome") != "rejected" or status in (429,) or status >= 500:
            continue
        if entry["path"] == "/api/v1/job/query" and status == 404:
            continue  # reported by unknown_jobs, with a better hint
        problems = entry.get("problems") or []
        errors = [p for p in problems if p.get("severity") == "error"]
        detail = "; ".join(f"{p['pointer'] or '/'} {p['message']} ({p['rule']})" for p in errors)
        yield Violation(
            entry["id"],
            "request.rejected",
            detail or f"answered HTTP {status} code {entry.get('code')}",
            _request(entry),
        )


def unknown_jobs(entries: Iterable[Entry]) -> Iterator[Violation]:
    """Queries for a job id the API never gave this key."""
    for entry in entries:
        if entry["path"] == "/api/v1/job/query" and entry.get("status") == 404:
            sent = parse_qs(entry.get("query", ""), keep_blank_values=True).get("id", [""])
            hint = (
                "the create response carries the id at data.job_id, not at the top level"
                if hints.placeholder_id(sent[0])
                else "query with the data.job_id that create returned, with the same key"
            )
            yield Violation(entry["id"], "query.unknown_job", hint, _request(entry))


def polling(
    entries: Iterable[Entry], *, per_second: int = 5, after_final: int = 3
) -> Iterator[Violation]:
    """Polls too fast (more than `per_second` queries of one job in a clock second), or
    polls on after a final status (more than `after_final` queries once it was 2 or 3)."""
    by_job: dict[str, list[Entry]] = defaultdict(list)
    for entry in entries:
        if entry["path"] == "/api/v1/job/query" and entry.get("job_status") is not None:
            by_job[entry["job_id"]].append(entry)
    for job_id, queries in by_job.items():
        clocks = [q["clock"] for q in queries if q.get("clock") is not None]
        for i in range(len(clocks) - per_second):
            if clocks[i + per_second] - clocks[i] < 1.0:
                yield Violation(
                    queries[i + per_second]["id"],
                    "poll.too_fast",
                    f"job {job_id} was queried {per_second + 1} times within one "
                    "second of the mock's clock; wait between polls (real "
                    "clients poll every 2.5 to 6 s)",
                    _request(queries[i]),
                )
                break
        final = [q for q in queries if q["job_status"] in TERMINAL]
        if len(final) > after_final:
            status = final[0]["job_status"]
            yield Violation(
                final[after_final]["id"],
                "poll.after_final",
                f"job {job_id} was queried {len(final)} times after it reached "
                f"final status {status} ({'succeeded' if status == Status.SUCCEEDED else 'failed'})"
                "; every status above 1 is final (2 succeeded, 3 or 4 failed): stop polling",
                _request(final[0]),
            )


def _seconds(value: float) -> str:
    return f"{round(value, 3):g}"


def _retry_after(entry: Entry) -> float | None:
    """Return the Retry-After (seconds) of a throttling answer (429/503 or its code), if any."""
    value = entry.get("retry_after")
    throttled = entry.get("status") in THROTTLED_STATUSES or entry.get("code") in THROTTLED_CODES
    if value is None or not throttled:
        return None
    try:
        seconds = float(value)
    except ValueError:  # an HTTP date: the mock never sends one
        return None
    return seconds if seconds > 0 else None


def retries_too_soon(entries: Iterable[Entry], *, slack: float = 1e-6) -> Iterator[Violation]:
    """Requests sent again by the same key to the same endpoint before the Retry-After of
    the 429 or 503 (or a rate-limit, concurrency or unavailable code) had passed on the
    mock's clock. Entries without a clock (the per-poll clock) are skipped."""
    waiting: dict[tuple[Any, str], tuple[Entry, float]] = {}
    for entry in entries:
        where = (entry.get("key"), entry["path"])
        throttle = waiting.pop(where, None)
        if throttle is not None and entry.get("clock") is not None:
            answer, wait = throttle
            elapsed = entry["clock"] - answer["clock"]
            if elapsed < wait - slack:
                yield Violation(
                    entry["id"],
                    "retry.too_soon",
                    f"sent {_seconds(elapsed)} s after #{answer['id']} answered HTTP "
                    f"{answer.get('status')} code {answer.get('code')} with Retry-After: "
                    f"{answer['retry_after']}; wait Retry-After seconds ({_seconds(wait)}) "
                    "before retrying (on the mock, give the client sleep=shortapi_mock.sleep "
                    "or .advance: its waits then move the mock's clock)",
                    _request(entry),
                )
        seconds = _retry_after(entry)
        if seconds is not None and entry.get("clock") is not None:
            waiting[where] = (entry, seconds)


def _identity(entry: Entry) -> tuple[Any, Any] | None:
    """Return what makes two creates the same (key, body), or None for other requests."""
    if entry["path"] != CREATE or entry.get("method") != "POST":
        return None
    body = entry.get("body_sha256") or entry.get("body")
    return (entry.get("key"), body) if body else None


def _ack_lost(entry: Entry) -> bool:
    return ACK_LOST in (entry.get("fault") or "").split(",")


def repeated_creates(
    entries: Iterable[Entry], *, window: float = DUPLICATE_WINDOW
) -> Iterator[Violation]:
    """A create resent after an ``ack-lost`` (the first was received, created and billed:
    the API has no idempotency key, so a blind retry pays twice), an error; and any other
    create identical (same key, same body) to one that made a job within `window` clock
    seconds, a warning. Entries without a clock (the per-poll clock) are not warned of."""
    billed: dict[tuple[Any, Any], Entry] = {}  # the latest identical create that made a job
    blamed: set[int] = set()
    for entry in entries:
        identity = _identity(entry)
        if identity is None:
            continue
        before = billed.get(identity)
        if before is not None and _ack_lost(before) and before["id"] not in blamed:
            blamed.add(before["id"])
            yield Violation(
                entry["id"],
                "create.blind_retry",
                f"resent the create of #{before['id']} after its connection dropped, but the "
                f"API had received it: job {before['job_id']} was created and billed. The "
                "API has no idempotency key, so a blind retry pays twice: do not resend a "
                "create whose answer was lost; report its outcome as unknown instead",
                _request(entry),
            )
        elif before is not None and None not in (entry.get("clock"), before.get("clock")):
            elapsed = entry["clock"] - before["clock"]
            if 0 <= elapsed <= window:
                yield Violation(
                    entry["id"],
                    "create.duplicate",
                    f"the same create (same key and body) as #{before['id']}, "
                    f"{_seconds(elapsed)} s earlier on the mock's clock, which made job "
                    f"{before['job_id']}: each create is a new, billed job (the API has no "
                    "idempotency key); resend a create only after an answer says it failed",
                    _request(entry),
                    severity="warning",
                )
        if entry.get("job_id") is not None:
            billed[identity] = entry


def request_warnings(
    entries: Iterable[Entry], *, fatal: Collection[str] = ()
) -> Iterator[Violation]:
    """The mock's warnings on the requests it took (X-Mock-Warnings: an undocumented arg, a
    default applied, a partial model, ...), each under its own kind; a kind in `fatal` (the
    plugin's ``--shortapi-fail-on-warning``) is an error, failing the test."""
    for entry in entries:
        if entry.get("outcome") == "rejected":
            continue  # its warnings come with the errors of rejected_requests
        for problem in entry.get("problems") or ():
            if problem.get("severity") != "warning":
                continue
            yield Violation(
                entry["id"],
                problem["rule"],
                f"{problem['pointer'] or '/'} {problem['message']}",
                _request(entry),
                severity="error" if problem["rule"] in fatal else "warning",
            )


# Over the client's own requests (the answers to faults left out).
CHECKS: tuple[Callable[[list[Entry]], Iterator[Violation]], ...] = (
    rejected_requests,
    unknown_jobs,
    polling,
)
# Over every request: what a client does after a fault's answer is its own.
RETRY_CHECKS: tuple[Callable[[list[Entry]], Iterator[Violation]], ...] = (
    retries_too_soon,
    repeated_creates,
)


def findings(entries: Sequence[Entry], *, fatal: Collection[str] = ()) -> list[Violation]:
    """Return every contract break and warning in `entries` (journal entries, oldest first);
    the mock's warnings of a kind in `fatal` count as breaks."""
    everything = list(entries)
    client_entries = [e for e in everything if e.get("outcome") != "fault"]
    found = [v for check in CHECKS for v in check(client_entries)]
    found += request_warnings(client_entries, fatal=fatal)
    found += [v for check in RETRY_CHECKS for v in check(everything)]
    return sorted(found, key=lambda v: v.entry_id)


def violations(entries: Sequence[Entry]) -> list[Violation]:
    """Return every contract break in `entries` (journal entries, oldest first)."""
    return [v for v in findings(entries) if v.severity == "error"]


def warnings(entries: Sequence[Entry]) -> list[Violation]:
    """Return the warnings in `entries`: likely breaks that do not fail a test."""
    return [v for v in findings(entries) if v.severity == "warning"]
