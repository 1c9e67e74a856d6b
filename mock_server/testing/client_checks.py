"""Client contract checks: which requests a client sent broke the API's contract.

Each check is a generator over the request journal that yields `Violation`s naming the
request and the rule it broke, with a message that says how to fix the client. Faults and
429s the mock was told to produce are not the client's fault and are never reported.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from mock_server.jobs.status import TERMINAL, Status

Entry = dict[str, Any]


@dataclass(frozen=True)
class Violation:
    """One request (journal entry) that broke the contract, and why."""

    entry_id: int
    rule: str
    message: str
    request: str  # "POST /api/v1/job/create"

    def __str__(self) -> str:
        return f"#{self.entry_id} {self.request}: [{self.rule}] {self.message}"


class ContractViolation(AssertionError):
    """The client under test broke the API's contract; the message lists every break."""

    def __init__(self, violations: Sequence[Violation]) -> None:
        self.violations = list(violations)
        lines = "\n".join(f"  {v}" for v in self.violations)
        super().__init__(
            f"the client broke the shortapi.ai contract {len(self.violations)} time(s):\n{lines}"
        )


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
            hint = (
                "the create response carries the id at data.job_id, not at the top level"
                if "id=None" in entry.get("query", "") or "id=null" in entry.get("query", "")
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
                f"final status {status} ({Status(status).name.lower()})"
                "; statuses 2 and 3 are final: stop polling",
                _request(final[0]),
            )


CHECKS: tuple[Callable[[list[Entry]], Iterator[Violation]], ...] = (
    rejected_requests,
    unknown_jobs,
    polling,
)


def violations(entries: Sequence[Entry]) -> list[Violation]:
    """Return every contract break in `entries` (journal entries, oldest first)."""
    client_entries = [e for e in entries if e.get("outcome") != "fault"]
    found = [v for check in CHECKS for v in check(client_entries)]
    return sorted(found, key=lambda v: v.entry_id)
