"""The contract's properties: each named, tied to the assumption ids it exercises.

A check takes what a target answered (a `JobRun`) and raises `PropertyFailed`, an
AssertionError that names the property, its assumption ids, the exchange and a curl
reproducer. `exact` checks (the mock's own labelled answer: status, code, job id form)
apply to mock targets only; anywhere else a difference is drift, reported, not a failure.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NoReturn

from mock_server.catalog import pricing
from mock_server.catalog.registry import MODELS
from mock_server.contract.client import JobRun, status_of
from mock_server.contract.wire import Exchange, scrub
from mock_server.data import schemas
from mock_server.jobs.status import TERMINAL

_JOB_ID = re.compile(r"^[0-9a-f]{24}$")  # A-job-id-format: ObjectId-like


class PropertyFailed(AssertionError):
    """A property of the contract does not hold; the message says which and where."""

    def __init__(self, prop: Property, message: str, exchange: Exchange | None = None) -> None:
        self.prop, self.exchange = prop, exchange
        lines = [f"[{prop.name}] {message}", f"  assumptions: {', '.join(prop.assumptions)}"]
        if exchange is not None:
            lines.append(f"  exchange: {exchange.describe()}")
            lines.append(f"  reproduce: {exchange.request.curl(exchange.base_url)}")
        super().__init__(scrub("\n".join(lines)))


@dataclass(frozen=True)
class Property:
    """A named property of the API and the assumptions it exercises."""

    name: str
    assumptions: tuple[str, ...]
    summary: str
    extra: tuple[str, ...] = field(default=())

    def fail(self, message: str, exchange: Exchange | None = None) -> NoReturn:
        """Raise `PropertyFailed` for this property."""
        raise PropertyFailed(self, message, exchange)


VALID_CREATE = Property(
    "valid-create",
    ("A-amount-per-second", "A-amount-format", "A-job-id-format"),
    "a valid request answers code 0, a job id and the amount equal to the price",
)
INVALID_REJECTED = Property(
    "invalid-rejected",
    (
        "A-error-codes",
        "A-error-message-info",
        "A-auth",
        "A-query-missing-id",
        "A-job-visibility",
        "A-content-type",
        "A-body-limit",
    ),
    "an invalid request answers 4xx and the error envelope; no job is made, nothing charged",
)
LENIENT_ACCEPTED = Property(
    "lenient-accepted",
    ("A-prompt-references", "A-frame-extra-images", "A-callback-url-form"),
    "a request breaking only a lenient rule is accepted (the mock warns in X-Mock-Warnings)",
)
QUERY_SCHEMA = Property(
    "query-schema",
    (
        "A-status-codes",
        "A-result-key",
        "A-failed-refunded",
        "A-failed-error-field",
        "A-query-data-id",
    ),
    "every query answer matches query-response.json, for the job that was asked about",
)
STATUS_ORDER = Property(
    "status-order",
    ("A-status-codes", "A-timing"),
    "status never goes backwards, a terminal status never changes, and one is reached",
)
RESULT_WHEN_SUCCEEDED = Property(
    "result-when-succeeded",
    ("A-result-key", "A-status-codes"),
    "result is present exactly when status is 2",
)
CALLBACK_MATCHES = Property(
    "callback-matches-query",
    ("A-callback-body", "A-callback-events"),
    "the callback matches callback.json and the final query's data",
)

RESULT_FILES = Property(
    "result-files",
    ("A-result-key", "A-result-mp4", "A-result-images", "A-result-musics"),
    "a succeeded job's result is under its model's output key; each URL serves its kind",
)
FILE_TYPES = {
    "videos": ("video/mp4",),
    "images": ("image/png", "image/jpeg", "image/webp"),
    "musics": ("audio/",),
}
"""The content types a result file of each output kind may have (prefixes)."""

PROPERTIES = (
    VALID_CREATE,
    INVALID_REJECTED,
    LENIENT_ACCEPTED,
    QUERY_SCHEMA,
    STATUS_ORDER,
    RESULT_WHEN_SUCCEEDED,
    CALLBACK_MATCHES,
    RESULT_FILES,
)


def _errors(schema: str, value: Any) -> list[str]:
    found = schemas.validator(schema).iter_errors(value)
    return [f"{'/'.join(map(str, e.absolute_path)) or '/'}: {e.message[:160]}" for e in found]


def check_accepted(run: JobRun, *, exact: bool) -> None:
    """valid-create: code 0, create-response.json, a job id, amount equal to the price."""
    prop, exchange = VALID_CREATE, run.create
    body = exchange.response.json()
    if not exchange.response.accepted:
        prop.fail(f"a valid request was refused with HTTP {exchange.response.status}", exchange)
    if problems := _errors("create-response.json", body):
        prop.fail(f"the create answer does not match create-response.json: {problems}", exchange)
    args = run.item.request.json()["args"]
    price = pricing.amount(MODELS[run.item.request.json()["model"]], args)
    if body["data"]["amount"] != price:
        prop.fail(f"amount {body['data']['amount']!r}, the price is {price!r}", exchange)
    if exact and not _JOB_ID.match(body["data"]["job_id"]):
        prop.fail(f"job_id {body['data']['job_id']!r} is not 24 hex characters", exchange)


def check_rejected(run: JobRun, *, exact: bool) -> None:
    """invalid-rejected: 4xx, the error envelope, no job id, no charge, no new job."""
    prop, exchange, expected = INVALID_REJECTED, run.create, run.item.expected
    response, body = exchange.response, exchange.response.json()
    if not 400 <= response.status < 500:
        prop.fail(f"HTTP {response.status} for a request breaking {run.item.rule}", exchange)
    if problems := _errors("error.json", body):
        prop.fail(f"the answer is not the error envelope: {problems}", exchange)
    if exact and (response.status, body["code"]) != (expected.status, expected.code):
        prop.fail(
            f"HTTP {response.status} code {body['code']}; the label of {run.item.rule} "
            f"says HTTP {expected.status} code {expected.code}",
            exchange,
        )
    if exact and run.item.pointer and _pointers(exchange) != {run.item.pointer}:
        prop.fail(
            f"X-Mock-Errors names {sorted(_pointers(exchange))}, not only "
            f"{run.item.pointer}: the request broke more than one rule",
            exchange,
        )
    if run.before != run.after:
        prop.fail(
            f"a refused request changed the key's jobs or spend: {run.before} -> {run.after}",
            exchange,
        )


def _pointers(exchange: Exchange) -> set[str]:
    header = exchange.response.header("X-Mock-Errors") or "[]"
    return {p["pointer"] for p in json.loads(header)}


def check_lenient(run: JobRun, *, exact: bool) -> None:
    """lenient-accepted: accepted; on the mock, the rule is named in X-Mock-Warnings."""
    prop, exchange = LENIENT_ACCEPTED, run.create
    if not exchange.response.accepted:
        prop.fail(f"refused a request that only breaks the lenient rule {run.item.rule}", exchange)
    warned = exchange.response.header("X-Mock-Warnings") or ""
    if exact and f'"{run.item.rule}"' not in warned:
        prop.fail(f"the mock did not warn about {run.item.rule}", exchange)


def check_query_schema(run: JobRun) -> None:
    """query-schema: every query answer matches query-response.json, for this job."""
    for exchange in run.polls + ([run.final] if run.final else []):
        body = exchange.response.json()
        if problems := _errors("query-response.json", body):
            QUERY_SCHEMA.fail(f"does not match query-response.json: {problems}", exchange)
        if body["data"]["id"] != run.job_id:
            QUERY_SCHEMA.fail(f"data.id {body['data']['id']!r} is not {run.job_id!r}", exchange)


def check_status_order(run: JobRun) -> None:
    """status-order: statuses only move forward, a terminal one is reached and stays."""
    statuses = run.statuses
    for earlier, later, exchange in zip(statuses, statuses[1:], run.polls[1:], strict=False):
        if later < earlier or (earlier in TERMINAL and later != earlier):
            STATUS_ORDER.fail(f"status went from {earlier} to {later}", exchange)
    if run.timed_out or not statuses or statuses[-1] not in TERMINAL:
        STATUS_ORDER.fail(
            f"no terminal status within the timeout (seen {run.sequence})",
            run.polls[-1] if run.polls else run.create,
        )
    if run.final is not None and _terminal_view(run.final) != _terminal_view(run.polls[-1]):
        STATUS_ORDER.fail("the job changed after its terminal status", run.final)


def _terminal_view(exchange: Exchange) -> tuple[int | None, tuple[str, ...]]:
    data = (exchange.response.json() or {}).get("data")
    return status_of(exchange), tuple(sorted(data)) if isinstance(data, dict) else ()


def check_result_when_succeeded(run: JobRun) -> None:
    """result-when-succeeded: ``result`` is present exactly when status is 2."""
    for exchange in run.polls:
        data = exchange.response.json()["data"]
        if ("result" in data) != (status_of(exchange) == 2):
            RESULT_WHEN_SUCCEEDED.fail(
                f"status {data.get('status')} with result "
                f"{'present' if 'result' in data else 'missing'}",
                exchange,
            )


def check_callbacks(run: JobRun) -> None:
    """callback-matches-query: callback.json, and the last one equals the final query."""
    if run.callbacks is None:
        return
    prop, final = CALLBACK_MATCHES, run.final or run.polls[-1]
    if not run.callbacks:
        prop.fail("no callback arrived for a job that reached its terminal status", final)
    for body in run.callbacks:
        if problems := _errors("callback.json", body):
            prop.fail(f"a callback does not match callback.json: {problems}", final)
    last = dict(run.callbacks[-1]["data"])
    if last.pop("job_id") != run.job_id or last != final.response.json()["data"]:
        prop.fail(f"the last callback {run.callbacks[-1]} differs from the final query", final)


JOB_CHECKS = (check_query_schema, check_status_order, check_result_when_succeeded, check_callbacks)


Fetch = Callable[[str], tuple[int, str, bytes]]  # a file URL -> status, content type, body


def check_result_files(run: JobRun, fetch: Fetch) -> None:
    """result-files: status 2, the files under the model's output key, each of its kind.

    A song's ``cover`` is an image; every other URL is of the model's output kind.
    """
    prop, final = RESULT_FILES, run.final or run.polls[-1]
    data = final.response.json()["data"]
    if data.get("status") != 2:
        prop.fail(f"status {data.get('status')}, not 2 (seen {run.sequence})", final)
    output = MODELS[run.item.request.json()["model"]].output
    entries = data.get("result", {}).get(output)
    if not isinstance(entries, list) or not entries:
        prop.fail(f"no list of files under result.{output}: {sorted(data['result'])}", final)
    for entry in entries:
        urls = [(entry["url"], output), *([(entry["cover"], "images")] if "cover" in entry else [])]
        for url, kind in urls:
            status, content_type, body = fetch(url)
            if status != 200 or not body:
                prop.fail(f"{url} answered HTTP {status} with {len(body)} bytes", final)
            if not content_type.startswith(FILE_TYPES[kind]):
                prop.fail(f"{url} is {content_type!r}, not one of {FILE_TYPES[kind]}", final)
